package imapserver

import (
	"bufio"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// deflateClient is a client after COMPRESS DEFLATE: it flushes after
// each command and never sends the next before it has the answer, so any
// read-ahead in the server's inflater would hang the test.
type deflateClient struct {
	t  *testing.T
	c  *testConn
	fw *flate.Writer
	br *bufio.Reader
}

func startDeflate(t *testing.T, c *testConn) *deflateClient {
	t.Helper()
	c.mustOK("z0", "COMPRESS DEFLATE")
	if n := c.br.Buffered(); n != 0 {
		t.Fatalf("%d bytes after the COMPRESS OK before any command", n)
	}
	fw, err := flate.NewWriter(c.conn, flate.DefaultCompression)
	if err != nil {
		t.Fatal(err)
	}
	return &deflateClient{t: t, c: c, fw: fw, br: bufio.NewReader(flate.NewReader(c.br))}
}

func (d *deflateClient) send(s string) {
	d.t.Helper()
	d.c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := d.fw.Write([]byte(s + "\r\n")); err != nil {
		d.t.Fatalf("send %q: %v", s, err)
	}
	if err := d.fw.Flush(); err != nil {
		d.t.Fatalf("flush %q: %v", s, err)
	}
}

func (d *deflateClient) line() string {
	d.t.Helper()
	d.c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	s, err := d.br.ReadString('\n')
	if err != nil {
		d.t.Fatalf("read: %v (have %q)", err, s)
	}
	return strings.TrimSuffix(s, "\r\n")
}

func (d *deflateClient) cmd(tag, command string) []string {
	d.t.Helper()
	d.send(tag + " " + command)
	var out []string
	for {
		l := d.line()
		out = append(out, l)
		if strings.HasPrefix(l, tag+" ") {
			return out
		}
	}
}

func TestCompressLockStep(t *testing.T) {
	e := newTestEnv(t, nil)
	e.create("user.alice")
	msg, err := readMessage("multipart.eml")
	if err != nil {
		t.Fatal(err)
	}
	e.deliver("user.alice", msg, time.Time{})
	c := e.dial()
	c.mustOK("L", "LOGIN alice secret")
	if out := c.cmd("c0", "CAPABILITY"); !strings.Contains(out[0], " COMPRESS=DEFLATE ") {
		t.Fatalf("COMPRESS=DEFLATE not offered: %q", out[0])
	}
	if out := c.cmd("c1", "COMPRESS X-GZIP"); out[0] != "c1 NO Unknown COMPRESS algorithm: X-GZIP" {
		t.Fatalf("unknown mechanism: %q", out)
	}
	d := startDeflate(t, c)

	tests := []struct {
		cmd  string
		want []string // substrings of the lines, in order, the last the tagged one
	}{
		{"CAPABILITY", []string{"* CAPABILITY IMAP4rev1", "OK Completed"}},
		{"SELECT INBOX", []string{"* 1 EXISTS", "OK [READ-WRITE]"}},
		{"FETCH 1 (UID RFC822.SIZE)", []string{"* 1 FETCH (UID 1 RFC822.SIZE 765)", "OK Completed"}},
		{"FETCH 1 BODY.PEEK[]", []string{"* 1 FETCH (BODY[] {765}", "OK Completed"}},
		{"NOOP", []string{"OK Completed"}},
		{"COMPRESS DEFLATE", []string{"BAD [COMPRESSIONACTIVE] DEFLATE active via COMPRESS"}},
		{"UID SEARCH ALL", []string{"* SEARCH 1", "OK Completed"}},
	}
	for i, tc := range tests {
		tag := "t" + string(rune('a'+i))
		out := d.cmd(tag, tc.cmd)
		j := 0
		for _, l := range out {
			if j < len(tc.want) && strings.Contains(l, tc.want[j]) {
				j++
			}
		}
		if j != len(tc.want) {
			t.Fatalf("%s: got %q, want lines with %q", tc.cmd, out, tc.want)
		}
		if tc.cmd == "CAPABILITY" && strings.Contains(out[0], "COMPRESS=DEFLATE") {
			t.Fatalf("COMPRESS=DEFLATE offered while active: %q", out[0])
		}
	}

	// A synchronizing literal: the "+" must reach the client, flushed,
	// before it sends the literal.
	lit := "Subject: x\r\n\r\nhello!!"
	d.send(fmt.Sprintf("ap APPEND INBOX {%d}", len(lit)))
	if l := d.line(); !strings.HasPrefix(l, "+ ") {
		t.Fatalf("continuation: %q", l)
	}
	d.send(lit)
	for {
		l := d.line()
		if strings.HasPrefix(l, "ap ") {
			if !strings.HasPrefix(l, "ap OK [APPENDUID") {
				t.Fatalf("APPEND: %q", l)
			}
			break
		}
	}
	if out := d.cmd("lo", "LOGOUT"); out[0] != "* BYE LOGOUT received" {
		t.Fatalf("LOGOUT: %q", out)
	}
}

// TestCompressPipelinedCommand: a command the client compressed and sent
// right behind COMPRESS, before the OK (which RFC 4978 3 forbids, but the
// bytes are unambiguous), is read through the inflater, not as plain
// text.
func TestCompressPipelinedCommand(t *testing.T) {
	e := newTestEnv(t, nil)
	e.create("user.alice")
	c := e.dial()
	c.mustOK("L", "LOGIN alice secret")
	var buf bytes.Buffer
	out := &switchWriter{w: &buf}
	fw, _ := flate.NewWriter(out, flate.BestCompression)
	fw.Write([]byte("n1 NOOP\r\n"))
	fw.Flush()
	c.conn.Write(append([]byte("z0 COMPRESS DEFLATE\r\n"), buf.Bytes()...))
	out.w = c.conn
	if l := c.line(); l != "z0 OK DEFLATE active" {
		t.Fatalf("COMPRESS: %q", l)
	}
	d := &deflateClient{t: t, c: c, fw: fw, br: bufio.NewReader(flate.NewReader(c.br))}
	if l := d.line(); l != "n1 OK Completed" {
		t.Fatalf("pipelined NOOP: %q", l)
	}
	if out := d.cmd("n2", "NOOP"); out[0] != "n2 OK Completed" {
		t.Fatalf("NOOP: %q", out)
	}
}

// switchWriter writes to w, which may change between writes.
type switchWriter struct{ w io.Writer }

func (s *switchWriter) Write(p []byte) (int, error) { return s.w.Write(p) }

// TestCompressGarbage: input that does not inflate ends the session; it
// never hangs or panics.
func TestCompressGarbage(t *testing.T) {
	e := newTestEnv(t, nil)
	e.create("user.alice")
	c := e.dial()
	c.mustOK("L", "LOGIN alice secret")
	c.mustOK("z0", "COMPRESS DEFLATE")
	c.conn.Write([]byte("\xff\xff\xff\xff this is not deflate\r\n"))
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(c.br); err != nil {
		t.Fatalf("session did not end: %v", err)
	}
}

// TestSyncFlushWriter: every Write is decodable by itself, with the
// stream left open.
func TestSyncFlushWriter(t *testing.T) {
	a, b := socketPair(t)
	defer a.Close()
	defer b.Close()
	fw, _ := flate.NewWriter(a, deflateLevel)
	sw := &syncFlushWriter{fw: fw}
	br := bufio.NewReader(flate.NewReader(b))
	for _, s := range []string{"* OK first\r\n", strings.Repeat("x", 70000) + "\r\n", "a OK last\r\n"} {
		if _, err := sw.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
		b.SetReadDeadline(time.Now().Add(10 * time.Second))
		got, err := br.ReadString('\n')
		if err != nil || got != s {
			t.Fatalf("read %d bytes (%v), want %d", len(got), err, len(s))
		}
	}
}
