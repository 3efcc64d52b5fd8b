package message

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// mime20k is a typical 20 KB message: a text and an HTML alternative and a
// small attachment, under a header of the usual size.
func mime20k() []byte {
	var b strings.Builder
	for i := 0; i < 8; i++ {
		fmt.Fprintf(&b, "Received: from relay%d.example.net (relay%d.example.net [192.0.2.%d])\r\n\tby mx.example.org with ESMTPS id %08x\r\n\tfor <alice@example.org>; Mon, 1 Jan 2024 00:00:%02d +0000\r\n", i, i, i, i*7919, i)
	}
	b.WriteString("Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nFrom: \"Bob Example\" <bob@example.net>\r\n" +
		"To: Alice <alice@example.org>, Carol <carol@example.org>\r\nCc: team@example.org\r\n" +
		"Subject: =?utf-8?q?Re=3A_Quarterly_r=C3=A9sum=C3=A9?=\r\nMessage-ID: <bench@example.net>\r\n" +
		"References: <a@example.net> <b@example.net> <c@example.net>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"mixed-boundary\"\r\n\r\n" +
		"--mixed-boundary\r\nContent-Type: multipart/alternative; boundary=\"alt-boundary\"\r\n\r\n" +
		"--alt-boundary\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	for b.Len() < 8000 {
		b.WriteString("The quick brown fox jumps over the lazy dog; caf=C3=A9 au lait, s'il vous pla=C3=AEt.\r\n")
	}
	b.WriteString("\r\n--alt-boundary\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>\r\n")
	for b.Len() < 16000 {
		b.WriteString("<p>The quick brown fox jumps over the lazy dog.</p>\r\n")
	}
	b.WriteString("</body></html>\r\n--alt-boundary--\r\n\r\n--mixed-boundary\r\n" +
		"Content-Type: application/pdf; name=\"r.pdf\"\r\nContent-Transfer-Encoding: base64\r\n" +
		"Content-Disposition: attachment; filename=\"r.pdf\"\r\n\r\n")
	for b.Len() < 20400 {
		b.WriteString("JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSPj4Kc3RyZWFtCgo=\r\n")
	}
	b.WriteString("--mixed-boundary--\r\n")
	return []byte(b.String())
}

func benchParse(b *testing.B, raw []byte) {
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(raw), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse20K(b *testing.B) { benchParse(b, mime20k()) }

func BenchmarkParse1MAttachment(b *testing.B) {
	var buf bytes.Buffer
	attachment(&buf, 1<<20)
	benchParse(b, buf.Bytes())
}

func BenchmarkUnmarshal(b *testing.B) {
	s, err := Parse(bytes.NewReader(mime20k()), Options{})
	if err != nil {
		b.Fatal(err)
	}
	data, err := s.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Unmarshal(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data)), "cache-bytes")
}

func BenchmarkBodyStructure(b *testing.B) {
	s, err := Parse(bytes.NewReader(mime20k()), Options{})
	if err != nil {
		b.Fatal(err)
	}
	var dst []byte
	b.ReportAllocs()
	for b.Loop() {
		dst = s.Root.AppendBodyStructure(dst[:0], true)
	}
}
