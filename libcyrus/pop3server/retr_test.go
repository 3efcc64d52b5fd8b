package pop3server

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// referenceMessage is writeMessage done the simple way, on the whole
// message: split into lines, end each in CRLF, stuff leading dots, and
// for TOP keep the header, the blank line and bodyLines lines.
func referenceMessage(msg string, bodyLines int) string {
	var out strings.Builder
	inBody, count := false, 0
	for len(msg) > 0 {
		line := msg
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			line = msg[:i+1]
		}
		msg = msg[len(line):]
		text := strings.TrimSuffix(line, "\n")
		complete := len(text) < len(line)
		text = strings.TrimSuffix(text, "\r")
		if strings.HasPrefix(line, ".") {
			out.WriteByte('.')
		}
		out.WriteString(text + "\r\n")
		if bodyLines >= 0 && complete {
			switch {
			case inBody:
				count++
			case text == "":
				inBody = true
			}
			if inBody && count >= bodyLines {
				break
			}
		}
	}
	return out.String()
}

func runWriteMessage(t testing.TB, msg string, bufSize, bodyLines int) string {
	var out bytes.Buffer
	w := bufio.NewWriterSize(&out, 16)
	r := bufio.NewReaderSize(strings.NewReader(msg), bufSize)
	if err := writeMessage(w, r, bodyLines); err != nil {
		t.Fatalf("writeMessage: %v", err)
	}
	w.Flush()
	return out.String()
}

func TestWriteMessage(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("y", 40)
	cases := []struct {
		name, msg string
		body      int
		want      string
	}{
		{"plain", "A: b\r\n\r\nbody\r\n", -1, "A: b\r\n\r\nbody\r\n"},
		{"dots", ".a\r\n..\r\n.\r\n", -1, "..a\r\n...\r\n..\r\n"},
		{"bare LF", "A: b\n\nx\n", -1, "A: b\r\n\r\nx\r\n"},
		{"no final line end", "A: b\r\n\r\nx", -1, "A: b\r\n\r\nx\r\n"},
		{"empty", "", -1, ""},
		{"long line not stuffed in the middle", long + "\r\n." + long + "\r\n", -1, long + "\r\n.." + long + "\r\n"},
		{"dot after a long line's chunk", "x" + strings.Repeat(".", 40) + "\r\n", -1, "x" + strings.Repeat(".", 40) + "\r\n"},
		{"TOP 0", "A: b\r\n\r\nl1\r\nl2\r\n", 0, "A: b\r\n\r\n"},
		{"TOP 1", "A: b\r\n\r\nl1\r\nl2\r\n", 1, "A: b\r\n\r\nl1\r\n"},
		{"TOP more than the body", "A: b\r\n\r\nl1\r\n", 9, "A: b\r\n\r\nl1\r\n"},
		{"TOP without a body", "A: b\r\nC: d\r\n", 0, "A: b\r\nC: d\r\n"},
		{"TOP counts long lines once", "A: b\r\n\r\n" + long + long + "\r\nl2\r\n", 1, "A: b\r\n\r\n" + long + long + "\r\n"},
		{"bare CR kept", "a\rb\r\n", -1, "a\rb\r\n"},
	}
	for _, tc := range cases {
		for _, size := range []int{16, 17, 19, 4096} {
			if got := runWriteMessage(t, tc.msg, size, tc.body); got != tc.want {
				t.Errorf("%s (buffer %d):\n got  %q\n want %q", tc.name, size, got, tc.want)
			}
		}
		if ref := referenceMessage(tc.msg, tc.body); ref != tc.want {
			t.Errorf("%s: reference gives %q", tc.name, ref)
		}
	}
}

// CR LF split across two reads is one line end, not a bare CR and a
// bare LF.
func TestWriteMessageSplitCRLF(t *testing.T) {
	t.Parallel()
	for n := 10; n < 40; n++ {
		msg := strings.Repeat("z", n) + "\r\n.next\r\n"
		want := strings.Repeat("z", n) + "\r\n..next\r\n"
		if got := runWriteMessage(t, msg, 16, -1); got != want {
			t.Fatalf("n=%d: %q", n, got)
		}
	}
}

// FuzzWriteMessage checks the streaming copy against the reference on
// any message, read in any chunk size.
func FuzzWriteMessage(f *testing.F) {
	for _, m := range fixtures {
		f.Add(m, uint8(0), int16(-1))
		f.Add(m, uint8(3), int16(1))
	}
	f.Add("x\r\r\n.\r", uint8(1), int16(0))
	f.Fuzz(func(t *testing.T, msg string, size uint8, lines int16) {
		bufSize := 16 + int(size)
		body := int(lines)
		if body < -1 {
			body = -1
		}
		got := runWriteMessage(t, msg, bufSize, body)
		if want := referenceMessage(msg, body); got != want {
			t.Fatalf("buffer %d, lines %d:\n got  %q\n want %q", bufSize, body, got, want)
		}
	})
}
