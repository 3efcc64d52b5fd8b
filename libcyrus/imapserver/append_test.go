package imapserver

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

// TestAppendStrictMessages covers what the C: lines of a transcript
// cannot send: bare LF and NUL (Cyrus's message_copy_strict).
func TestAppendStrictMessages(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, map[string]string{"reject8bit": "yes"})
	e.create("user.alice")
	c := e.dial()
	c.mustOK("L", "LOGIN alice x")
	for _, tc := range []struct {
		msg, want string
	}{
		{"Subject: x\n\r\nbody\r\n", "NO Message contains bare newlines"},
		{"Subject: x\r\n\r\nbo\ndy\r\n", "NO Message contains bare newlines"},
		{"Subject: x\r\n\r\nbo\x00dy\r\n", "NO Message contains NUL characters"},
		{"Subject: \xe9t\xe9\r\n\r\nbody\r\n", "NO Message contains non-ASCII characters in headers"},
		{"Subject: x\r\n\r\n\xe9t\xe9\r\n", "OK [APPENDUID"},
		{"Subject: x\r\n\r\nbody", "OK [APPENDUID"},
	} {
		out := c.cmd("A", fmt.Sprintf("APPEND INBOX {%d+}\r\n%s", len(tc.msg), tc.msg))
		if got := out[len(out)-1]; !strings.HasPrefix(got, "A "+tc.want) {
			t.Errorf("APPEND %q: %q, want %q", tc.msg, got, tc.want)
		}
	}
}

// TestAppendTooBigNonSync: a non-synchronizing literal over
// maxmessagesize is answered at once; its bytes, sent anyway, are
// skipped and never read as commands (RFC 7888 4).
func TestAppendTooBigNonSync(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, map[string]string{"maxmessagesize": "100"})
	e.create("user.alice")
	c := e.dial()
	c.mustOK("L", "LOGIN alice x")
	c.send("A APPEND INBOX {200+}")
	if l := c.line(); l != "A NO [TOOBIG] Message size exceeds fixed limit" {
		t.Fatalf("got %q", l)
	}
	// The literal's bytes look like commands; then the APPEND's line ends.
	c.send(strings.Repeat("B NOOP\r\n", 25))
	c.mustOK("C", "NOOP")
	expectLines(t, c.mustOK("D", "STATUS INBOX (MESSAGES)"), "* STATUS INBOX (MESSAGES 0)")
}

// TestAppendToSelected: the session that has the mailbox selected hears
// of the new messages before the tagged answer (RFC 3501 6.3.11).
func TestAppendToSelected(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.create("user.alice")
	c := e.dial()
	c.mustOK("L", "LOGIN alice x")
	c.mustOK("S", "SELECT INBOX")
	out := c.mustOK("A", "APPEND INBOX {22+}\r\nSubject: one\r\n\r\nbody\r\n {22+}\r\nSubject: two\r\n\r\nbody\r\n")
	expectLines(t, out, "* 2 EXISTS", "* 2 RECENT")
	if !strings.HasSuffix(out[len(out)-1], " 1:2] Completed") {
		t.Errorf("APPENDUID: %q", out[len(out)-1])
	}
	expectLines(t, c.mustOK("F", "FETCH 1:* (FLAGS RFC822.SIZE)"),
		"* 1 FETCH (FLAGS (\\Recent) RFC822.SIZE 22)", "* 2 FETCH (FLAGS (\\Recent) RFC822.SIZE 22)")
}

// TestAppendDropBox: the i right alone lets bob append to alice's
// folder; the flags he may not set are dropped (RFC 4314 4).
func TestAppendDropBox(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.create("user.alice")
	e.create("user.alice.Drop")
	e.create("user.bob")
	if err := e.store.SetACL(testAdmin, "user.alice.Drop", "bob", "li"); err != nil {
		t.Fatal(err)
	}
	b := e.dial()
	b.mustOK("L", "LOGIN bob x")
	b.mustOK("A", "APPEND user.alice.Drop (\\Seen \\Flagged) {22+}\r\nSubject: one\r\n\r\nbody\r\n")
	expectLines(t, b.cmd("S", "STATUS user.alice.Drop (MESSAGES)"), "S NO Permission denied")
	expectLines(t, b.cmd("B", "APPEND INBOX.Nope {22+}\r\nSubject: one\r\n\r\nbody\r\n"), "B NO [TRYCREATE] Mailbox does not exist")
	a := e.dial()
	a.mustOK("L", "LOGIN alice x")
	a.mustOK("S", "SELECT INBOX.Drop")
	expectLines(t, a.mustOK("F", "FETCH 1 FLAGS"), "* 1 FETCH (FLAGS (\\Recent))")
	// Without i, APPEND is refused.
	if err := e.store.SetACL(testAdmin, "user.alice.Drop", "bob", "lr"); err != nil {
		t.Fatal(err)
	}
	expectLines(t, b.cmd("C", "APPEND user.alice.Drop {22+}\r\nSubject: one\r\n\r\nbody\r\n"), "C NO Permission denied")
}

// cyrusStrict is message_copy_strict as Cyrus 3.6 writes it: a pass over
// the bytes, then one over the header lines of at most 4095 bytes
// (fgets) of the stored copy. The streaming messageCheck must agree.
func cyrusStrict(msg []byte, allowNull, reject8bit bool) string {
	r := ""
	sawcr, blank, inHeader := false, true, true
	for _, c := range msg {
		switch {
		case c == 0 && !allowNull:
			if r == "" {
				r = textNUL
			}
		case c == '\n':
			if !sawcr && (inHeader || !allowNull) && r == "" {
				r = textBareNewline
			}
			sawcr = false
			if blank {
				inHeader = false
			}
			blank = true
		case c == '\r':
			sawcr = true
		default:
			sawcr, blank = false, false
			if inHeader && c >= 0x80 && reject8bit && r == "" {
				r = textEightBit
			}
		}
	}
	if r != "" {
		return r
	}
	sawnl := true
	rest := msg
	for {
		if len(rest) == 0 {
			if sawnl {
				return ""
			}
			return textInvalidHdr
		}
		n := bytes.IndexByte(rest, '\n') + 1
		if n == 0 || n > 4095 {
			n = min(len(rest), 4095)
		}
		buf := rest[:n]
		rest = rest[n:]
		if sawnl && buf[0] == '\r' {
			return ""
		}
		if sawnl && buf[0] != ' ' && buf[0] != '\t' {
			if buf[0] == ':' {
				return textInvalidHdr
			}
			if !bytes.HasPrefix(buf, []byte("From ")) {
				for i := 0; ; i++ {
					if i == len(buf) || buf[i] <= ' ' {
						return textInvalidHdr
					}
					if buf[i] == ':' {
						break
					}
				}
			}
		}
		sawnl = buf[len(buf)-1] == '\n'
	}
}

func checkMessage(msg []byte, allowNull, reject8bit bool, chunk int) string {
	mc := &messageCheck{r: &chunkReader{b: msg, n: chunk}, allowNull: allowNull, reject8bit: reject8bit}
	io.Copy(io.Discard, mc)
	return mc.finish()
}

// chunkReader returns at most n bytes a read, so that the streaming
// check sees every split.
type chunkReader struct {
	b []byte
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), c.n, len(c.b))
	copy(p, c.b[:k])
	c.b = c.b[k:]
	return k, nil
}

func TestMessageCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		msg  string
		want string
	}{
		{"Subject: x\r\n\r\nbody\r\n", ""},
		{"Subject: x\r\n\r\nbody", ""},
		{"Subject: x\r\n", ""},
		{"Subject: x", textInvalidHdr},
		{"hello", textInvalidHdr},
		{"\r\nbody", ""},
		{"From someone\r\nSubject: x\r\n\r\n", ""},
		{"From:x\r\n\r\n", ""},
		{"Fro m: x\r\n\r\n", textInvalidHdr},
		{": x\r\n\r\n", textInvalidHdr},
		{"Subject: x\r\n continued\r\n\tmore\r\n\r\n", ""},
		{"Sub ject: x\r\n\r\n", textInvalidHdr},
		{"Subject: x\r\nno colon\r\n\r\n", textInvalidHdr},
		{"Subject: x\r\n\r\nno colon is fine here\r\n", ""},
		{"Subject: x\n\r\n", textBareNewline},
		{"Subject: x\r\n\r\na\nb", textBareNewline},
		{"Subject: x\r\n\r\na\x00b", textNUL},
		{"Sub ject\n", textBareNewline},
	} {
		for _, chunk := range []int{1, 2, 3, 4096} {
			if got := checkMessage([]byte(tc.msg), false, false, chunk); got != tc.want {
				t.Errorf("%q (chunks of %d): %q, want %q", tc.msg, chunk, got, tc.want)
			}
		}
		if ref := cyrusStrict([]byte(tc.msg), false, false); ref != tc.want {
			t.Errorf("%q: the reference says %q, the table %q", tc.msg, ref, tc.want)
		}
	}
}

// FuzzMessageCheck compares the streaming check with Cyrus's two-pass
// algorithm on any input.
func FuzzMessageCheck(f *testing.F) {
	for _, s := range []string{
		"Subject: x\r\n\r\nbody\r\n", "From a\r\n\r\n", "x\ny", "a: b\r\n c\r\n\r\n\x00",
		"Subject: \xff\r\n\r\n", "\r\n", ":\r\n", "From:\r\n", "Fr", "From",
	} {
		f.Add([]byte(s), false, false, 3)
	}
	f.Fuzz(func(t *testing.T, msg []byte, allowNull, reject8bit bool, chunk int) {
		if chunk <= 0 || chunk > 64 {
			chunk = 7
		}
		// The reference's 4095-byte fgets splits long header lines;
		// the streaming check does not, by design.
		for _, l := range bytes.Split(msg, []byte("\n")) {
			if len(l) >= 4094 {
				return
			}
		}
		if len(msg) == 0 {
			return // refused before any check ("Zero-length message literal")
		}
		want := cyrusStrict(msg, allowNull, reject8bit)
		if got := checkMessage(msg, allowNull, reject8bit, chunk); got != want {
			t.Fatalf("%q: %q, Cyrus %q", msg, got, want)
		}
	})
}
