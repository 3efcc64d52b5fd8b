package message

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// nested builds a message of depth multiparts, each inside the previous.
func nested(depth int) string {
	var b strings.Builder
	b.WriteString("From: deep@example.com\r\nSubject: deep\r\n")
	for i := 0; i < depth; i++ {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\ndeep\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return b.String()
}

func onesPath(n int) string {
	return strings.TrimSuffix(strings.Repeat("1.", n), ".")
}

func TestDeepNesting(t *testing.T) {
	raw := nested(200)

	// Default MaxDepth 100: the multipart at depth 100 is opaque text.
	s, err := Parse(strings.NewReader(raw), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Limited {
		t.Error("Limited not set")
	}
	bs := string(s.BodyStructure(true))
	if !strings.HasPrefix(bs, strings.Repeat("(", 101)+`"TEXT" "PLAIN" ("CHARSET" "us-ascii")`) {
		t.Errorf("BODYSTRUCTURE starts %q", bs[:120])
	}
	ref, err := s.Section(onesPath(100))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ref.Read(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(got, []byte("--b100\r\n")) || !bytes.HasSuffix(got, []byte("--b100--")) {
		t.Errorf("opaque part %q...%q", got[:20], got[len(got)-20:])
	}
	if _, err := s.Section(onesPath(101)); !errors.Is(err, ErrNoSuchPart) {
		t.Errorf("below the opaque part: %v", err)
	}
	roundTrip(t, s)

	// With room for all of it, the innermost text is part 1.1....1.
	s, err = Parse(strings.NewReader(raw), Options{MaxDepth: 300})
	if err != nil {
		t.Fatal(err)
	}
	if s.Limited {
		t.Error("Limited set")
	}
	ref, err = s.Section(onesPath(200))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ref.Read(strings.NewReader(raw)); err != nil || string(got) != "deep" {
		t.Errorf("innermost %q %v", got, err)
	}
	roundTrip(t, s)
}

func roundTrip(t *testing.T, s *Summary) {
	t.Helper()
	data, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	s2, err := Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.BodyStructure(true), s2.BodyStructure(true)) || !bytes.Equal(s.Envelope(), s2.Envelope()) {
		t.Error("cache round trip changed the output")
	}
	data2, err := s2.MarshalBinary()
	if err != nil || !bytes.Equal(data, data2) {
		t.Errorf("re-encoding differs: %v", err)
	}
}

// attachment streams a message with a base64 attachment of n random bytes
// into w, returning the attachment's SHA-1.
func attachment(w io.Writer, n int) [sha1.Size]byte {
	head := "From: big@example.com\r\nSubject: big\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"big-boundary\"\r\n\r\n" +
		"--big-boundary\r\nContent-Type: text/plain\r\n\r\nSee attachment.\r\n" +
		"--big-boundary\r\nContent-Type: application/octet-stream; name=big.bin\r\n" +
		"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=big.bin\r\n\r\n"
	io.WriteString(w, head)
	rng := rand.NewChaCha8([32]byte{1})
	h := sha1.New()
	raw := make([]byte, 57)
	line := make([]byte, 76, 78)
	for left := n; left > 0; left -= len(raw) {
		if left < len(raw) {
			raw = raw[:left]
		}
		rng.Read(raw)
		h.Write(raw)
		m := base64.StdEncoding.EncodedLen(len(raw))
		base64.StdEncoding.Encode(line[:m], raw)
		w.Write(append(line[:m], '\r', '\n'))
	}
	io.WriteString(w, "--big-boundary--\r\n")
	return [sha1.Size]byte(h.Sum(nil))
}

func TestLargeAttachment(t *testing.T) {
	const size = 5 << 20
	path := filepath.Join(t.TempDir(), "1.")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pr, pw := io.Pipe()
	sumc := make(chan [sha1.Size]byte, 1)
	go func() {
		bw := &bufWriter{w: pw}
		sumc <- attachment(bw, size)
		bw.flush()
		pw.Close()
	}()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, err := Parse(io.TeeReader(pr, f), Options{})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	want := <-sumc
	// The parse keeps headers and offsets only: its allocations stay far
	// below the message size.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2<<20 {
		t.Errorf("Parse allocated %d bytes for a %d-byte message", alloc, s.Size)
	}
	att := s.Root.Parts[1]
	if att.Type != "APPLICATION" || att.Encoding != "BASE64" || att.BodyLen < size*4/3 {
		t.Fatalf("attachment part %+v", att)
	}
	r, err := DecodedText(f, att)
	if err != nil {
		t.Fatal(err)
	}
	h := sha1.New()
	if n, err := io.Copy(h, r); err != nil || n != size {
		t.Fatalf("decoded %d bytes, %v", n, err)
	}
	if [sha1.Size]byte(h.Sum(nil)) != want {
		t.Error("decoded attachment differs")
	}
	if fi, _ := f.Stat(); fi.Size() != s.Size {
		t.Errorf("size %d, file %d", s.Size, fi.Size())
	}
}

// bufWriter batches the many small writes of attachment() into pipe writes.
type bufWriter struct {
	w   io.Writer
	buf []byte
}

func (b *bufWriter) Write(p []byte) (int, error) {
	b.buf = append(b.buf, p...)
	if len(b.buf) >= 32<<10 {
		b.flush()
	}
	return len(p), nil
}

func (b *bufWriter) flush() {
	b.w.Write(b.buf)
	b.buf = b.buf[:0]
}

func TestMaxParts(t *testing.T) {
	var b strings.Builder
	b.WriteString("Subject: many\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n")
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&b, "--m\r\nContent-Type: text/plain\r\n\r\npart %d\r\n", i)
	}
	b.WriteString("--m--\r\n")
	raw := b.String()
	s, err := Parse(strings.NewReader(raw), Options{MaxParts: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Limited || len(s.Root.Parts) != 9 {
		t.Fatalf("limited %v, %d parts", s.Limited, len(s.Root.Parts))
	}
	if last := s.Root.Parts[8]; last.BodyOffset+last.BodyLen != s.Size {
		t.Errorf("last part ends at %d of %d", last.BodyOffset+last.BodyLen, s.Size)
	}
	if s.Root.BodyOffset+s.Root.BodyLen != s.Size {
		t.Errorf("root ends at %d of %d", s.Root.BodyOffset+s.Root.BodyLen, s.Size)
	}
	roundTrip(t, s)
}

func TestHeaderLimits(t *testing.T) {
	junk := "X-Junk: " + strings.Repeat("j", 2<<20) + "\r\n"
	raw := "From: a@example.com\r\n" + junk + "Subject: after the junk\r\n\r\nbody\r\n"
	s, err := Parse(strings.NewReader(raw), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Limited || s.Root.Envelope.Subject.Valid || len(s.Root.Envelope.From) != 1 {
		t.Errorf("limited %v subject %+v from %+v", s.Limited, s.Root.Envelope.Subject, s.Root.Envelope.From)
	}
	if s.HeaderComplete || string(s.Header) != "From: a@example.com\r\n" {
		t.Errorf("header copy complete %v, %q", s.HeaderComplete, s.Header[:min(40, len(s.Header))])
	}
	ref, err := s.Section("TEXT")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := ref.Read(strings.NewReader(raw)); string(got) != "body\r\n" {
		t.Errorf("TEXT %q", got)
	}
	ref, err = s.Section("HEADER.FIELDS (Subject)")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := ref.Read(strings.NewReader(raw)); string(got) != "Subject: after the junk\r\n\r\n" {
		t.Errorf("HEADER.FIELDS from the file %q", got)
	}
	roundTrip(t, s)

	// A small MaxCachedHeader keeps whole fields only.
	s, err = Parse(strings.NewReader("A: 1\r\nB: 22222\r\n 3\r\nC: 4\r\n\r\n"), Options{MaxCachedHeader: 14})
	if err != nil {
		t.Fatal(err)
	}
	if s.HeaderComplete || string(s.Header) != "A: 1\r\n" || s.Limited {
		t.Errorf("copy %q complete %v limited %v", s.Header, s.HeaderComplete, s.Limited)
	}
	s, err = Parse(strings.NewReader("A: 1\r\n\r\n"), Options{MaxCachedHeader: -1})
	if err != nil || s.Header != nil || s.HeaderComplete {
		t.Errorf("no copy: %q %v %v", s.Header, s.HeaderComplete, err)
	}

	// MaxSummaryBytes stops keeping fields once spent.
	var b strings.Builder
	b.WriteString("Subject: budget\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n")
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&b, "--m\r\nContent-Description: %s\r\n\r\nx\r\n", strings.Repeat("d", 100))
	}
	b.WriteString("--m--\r\n")
	s, err = Parse(strings.NewReader(b.String()), Options{MaxSummaryBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for _, p := range s.Root.Parts {
		if p.Description.Valid {
			kept++
		}
	}
	if !s.Limited || kept == 0 || kept >= 20 || len(s.Root.Parts) != 20 {
		t.Errorf("limited %v, %d descriptions kept of %d parts", s.Limited, kept, len(s.Root.Parts))
	}
}

func TestLongLines(t *testing.T) {
	long := strings.Repeat("x", 3*readBufSize+17)
	raw := "Subject: " + long + "\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n\r\n" +
		long + "\r\n--q" + long + "\r\n--q--\r\n"
	s, err := Parse(strings.NewReader(raw), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Subject != long {
		t.Error("long subject lost")
	}
	p := s.Root.Parts[0]
	if p.BodyLen != int64(len(long)+2+3+len(long)) || p.Lines != 1 {
		t.Errorf("part: %d bytes %d lines", p.BodyLen, p.Lines)
	}
}

func TestUnmarshalCorrupt(t *testing.T) {
	emls, _ := filepath.Glob("testdata/*.eml")
	for _, eml := range emls {
		raw, _ := os.ReadFile(eml)
		s, err := Parse(bytes.NewReader(raw), Options{})
		if err != nil {
			t.Fatal(err)
		}
		data, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(data); n++ {
			if _, err := Unmarshal(data[:n]); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s truncated to %d: %v", eml, n, err)
			}
		}
		mutated := make([]byte, len(data))
		for i := range data {
			for _, x := range []byte{0x01, 0x80, 0xff} {
				copy(mutated, data)
				mutated[i] ^= x
				if s2, err := Unmarshal(mutated); err == nil {
					s2.Envelope()
					s2.BodyStructure(true)
					if _, err := s2.MarshalBinary(); err != nil {
						t.Fatalf("%s: decoded mutation does not re-encode: %v", eml, err)
					}
				} else if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("%s: %v", eml, err)
				}
			}
		}
	}
	for _, bad := range [][]byte{nil, {0}, {2}, {cacheVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}} {
		if _, err := Unmarshal(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Unmarshal(%x): %v", bad, err)
		}
	}
}
