package pop3server

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// scriptConn is a connection whose client says data and then hangs up;
// what the server writes is kept. The session runs to its end in the
// caller's goroutine, with no timing involved.
type scriptConn struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (c *scriptConn) Read(p []byte) (int, error)       { return c.in.Read(p) }
func (c *scriptConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *scriptConn) Close() error                     { return nil }
func (c *scriptConn) LocalAddr() net.Addr              { return pipeAddr{} }
func (c *scriptConn) RemoteAddr() net.Addr             { return pipeAddr{} }
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// FuzzSession runs the whole command loop on arbitrary client input:
// whatever the client sends, the session must not panic, must answer in
// CRLF-terminated lines, and must leave the store usable. Seeds are the
// client sides of the golden transcripts and testdata/fuzz/FuzzSession.
func FuzzSession(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		var in strings.Builder
		for _, l := range strings.Split(string(b), "\n") {
			if c, ok := strings.CutPrefix(l, "C: "); ok {
				in.WriteString(expandMacros(c) + "\r\n")
			}
		}
		f.Add([]byte(in.String()))
	}
	e := newEnv(f, map[string]string{
		"sasl_pwcheck_method": "alwaystrue",
		"popsubfolders":       "yes",
		"popuseimapflags":     "yes",
		"popminpoll":          "0",
		"expunge_mode":        "immediate",
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Sessions that QUIT after DELE empty the INBOX; keep something
		// to read.
		if m, err := e.store.OpenForDelivery("user.alice"); err == nil {
			n := m.Count()
			m.Close()
			if n < 3 {
				e.deliver(t, "user.alice", fixtures...)
			}
		}
		c := &scriptConn{in: bytes.NewReader(data)}
		e.srv.ServeConn(context.Background(), c)
		if n := e.log.Panics(); n > 0 {
			t.Fatalf("session panicked; log:\n%s", e.log.String())
		}
		out := c.out.Bytes()
		if len(out) > 0 && !bytes.HasSuffix(out, []byte("\r\n")) {
			t.Fatalf("output does not end in CRLF: %q", out[max(0, len(out)-80):])
		}
		for _, l := range bytes.SplitAfter(out, []byte("\n")) {
			if len(l) > 0 && !bytes.HasSuffix(l, []byte("\r\n")) {
				t.Fatalf("bare LF in output: %q", l)
			}
		}
		if !bytes.HasPrefix(out, []byte("+OK ")) {
			t.Fatalf("no greeting: %q", out[:min(len(out), 80)])
		}
		if c.in.Len() > 0 {
			// The session may stop early (QUIT, too many bad commands),
			// never in a way that leaves the client waiting for more.
			if !bytes.Contains(out, []byte("+OK\r\n")) && !bytes.Contains(out, []byte("-ERR [SYS/PERM]")) && !bytes.Contains(out, []byte("-ERR [SYS/TEMP] Some deleted")) {
				rest, _ := io.ReadAll(c.in)
				t.Fatalf("session stopped with %d bytes unread: %q", len(rest), rest[:min(len(rest), 80)])
			}
		}
	})
}
