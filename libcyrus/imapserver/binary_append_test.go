package imapserver

import (
	"fmt"
	"io"
	"strings"
	"testing"
)

// appendRaw sends APPEND with a non-synchronizing literal8 and returns
// the tagged answer.
func appendRaw(t *testing.T, c *testConn, tag, msg string) string {
	t.Helper()
	c.conn.Write([]byte(fmt.Sprintf("%s APPEND INBOX ~{%d+}\r\n%s\r\n", tag, len(msg), msg)))
	for {
		l := c.line()
		if strings.HasPrefix(l, tag+" ") {
			return l
		}
	}
}

// fetchLiteral8 fetches one item whose value is a literal (or literal8)
// and returns its bytes.
func fetchLiteral8(t *testing.T, c *testConn, tag, cmd string) string {
	t.Helper()
	c.send(tag + " " + cmd)
	head := c.line()
	i := strings.LastIndexByte(head, '{')
	var n int
	if i < 0 || !strings.HasSuffix(head, "}") {
		t.Fatalf("%s: %q is no literal", cmd, head)
	}
	fmt.Sscanf(head[i+1:], "%d", &n)
	buf := make([]byte, n)
	if _, err := io.ReadFull(c.br, buf); err != nil {
		t.Fatal(err)
	}
	if l := c.line(); l != ")" {
		t.Fatalf("%s: after the literal %q", cmd, l)
	}
	if l := c.line(); l != tag+" OK Completed" {
		t.Fatalf("%s: %q", cmd, l)
	}
	return string(buf)
}

func TestAppendLiteral8(t *testing.T) {
	e := newTestEnv(t, nil)
	e.create("user.alice")
	c := e.dial()
	c.mustOK("L", "LOGIN alice secret")
	binPart := "\x00\x01\x02\nline\r\n\xff"
	msg := "Subject: bin\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n" +
		"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n  (folded)\r\n\r\n" + binPart + "\r\n" +
		"--b--\r\n"
	if l := appendRaw(t, c, "a1", msg); !strings.HasPrefix(l, "a1 OK [APPENDUID") {
		t.Fatalf("APPEND literal8: %q", l)
	}
	single := "Subject: one\r\n\r\na\x00b\nc"
	if l := appendRaw(t, c, "a2", single); !strings.HasPrefix(l, "a2 OK [APPENDUID") {
		t.Fatalf("APPEND literal8 single part: %q", l)
	}
	plain := "Subject: plain\r\n\r\nnothing to encode\r\n"
	if l := appendRaw(t, c, "a3", plain); !strings.HasPrefix(l, "a3 OK [APPENDUID") {
		t.Fatalf("APPEND literal8 plain: %q", l)
	}
	if l := appendRaw(t, c, "a4", "Subject: n\x00l\r\n\r\nbody"); l != "a4 NO Message contains NUL characters" {
		t.Fatalf("NUL in a header: %q", l)
	}
	c.mustOK("s", "SELECT INBOX")

	if got := fetchLiteral8(t, c, "f1", "FETCH 1 BINARY.PEEK[2]"); got != binPart {
		t.Errorf("BINARY[2] = %q, want %q", got, binPart)
	}
	if out := c.cmd("f2", "FETCH 1 BINARY.SIZE[2]"); out[0] != fmt.Sprintf("* 1 FETCH (BINARY.SIZE[2] %d)", len(binPart)) {
		t.Errorf("BINARY.SIZE[2]: %q", out)
	}
	if out := c.cmd("f3", "FETCH 1 BODYSTRUCTURE"); !strings.Contains(out[0], `("APPLICATION" "OCTET-STREAM" NIL NIL NIL "BASE64"`) {
		t.Errorf("BODYSTRUCTURE: %q", out)
	}
	whole := fetchLiteral8(t, c, "f4", "FETCH 1 BODY.PEEK[]")
	if strings.ContainsAny(whole, "\x00") || strings.Contains(whole, "binary") || !strings.Contains(whole, "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\n") {
		t.Errorf("stored message:\n%q", whole)
	}
	if got := fetchLiteral8(t, c, "f5", "FETCH 2 BINARY.PEEK[1]"); got != "a\x00b\nc" {
		t.Errorf("single part BINARY[1] = %q", got)
	}
	if got := fetchLiteral8(t, c, "f6", "FETCH 3 BODY.PEEK[]"); got != plain {
		t.Errorf("a literal8 with nothing to encode changed: %q", got)
	}
}

func TestWithoutCTE(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Content-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n\r\n", "Content-Type: text/plain\r\n"},
		{"content-transfer-encoding : 8bit\r\n (x)\r\nX: y\r\n\r\n", "X: y\r\n"},
		{"\r\n", ""},
		{"X-Content-Transfer-Encoding: q\n\n", "X-Content-Transfer-Encoding: q\n"},
	}
	for _, tc := range tests {
		if got := string(withoutCTE([]byte(tc.in))); got != tc.want {
			t.Errorf("withoutCTE(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
