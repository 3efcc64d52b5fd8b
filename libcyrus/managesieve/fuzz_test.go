package managesieve

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// fuzzConn is a connection whose client side is a fixed input.
type fuzzConn struct {
	r   io.Reader
	out bytes.Buffer
}

// fuzzAddr is neither TCP nor a Unix socket: no reverse lookup, no
// local-socket privileges.
type fuzzAddr struct{}

func (fuzzAddr) Network() string { return "fuzz" }
func (fuzzAddr) String() string  { return "fuzz" }

func (c *fuzzConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *fuzzConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *fuzzConn) Close() error                     { return nil }
func (c *fuzzConn) LocalAddr() net.Addr              { return fuzzAddr{} }
func (c *fuzzConn) RemoteAddr() net.Addr             { return fuzzAddr{} }
func (c *fuzzConn) SetDeadline(time.Time) error      { return nil }
func (c *fuzzConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fuzzConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzSession runs the whole command loop over arbitrary client input:
// the session must end at the end of the input, never panic, and answer
// with well-formed responses.
func FuzzSession(f *testing.F) {
	login := `AUTHENTICATE "PLAIN" "` + plain("alice", "pass") + "\"\r\n"
	for _, s := range []string{
		"CAPABILITY\r\nLOGOUT\r\n",
		login + "PUTSCRIPT \"a\" {5+}\r\nkeep;\r\nSETACTIVE \"a\"\r\nLISTSCRIPTS\r\nGETSCRIPT \"a\"\r\n",
		login + "PUTSCRIPT \"a\" {100+}\r\nkeep;",
		login + "CHECKSCRIPT \"bad stuff\"\r\nRENAMESCRIPT \"a\" \"b\"\r\nDELETESCRIPT \"b\"\r\nHAVESPACE \"x\" 99999999\r\n",
		"AUTHENTICATE \"LOGIN\"\r\n{8+}\r\nYWxpY2U=\r\n\"cGFzcw==\"\r\nNOOP \"t\"\r\nUNAUTHENTICATE\r\n",
		"AUTHENTICATE \"PLAIN\"\r\n\"*\"\r\nFROB {3}\r\nabc\r\n\r\n\r\nSTARTTLS\r\n",
		"NOOP {5+}\r\nab\r\nc\r\nLOGOUT",
	} {
		f.Add([]byte(s))
	}
	// alwaystrue keeps each login cheap, so the fuzzer explores commands.
	ts := newTestServer(f, map[string]string{"sasl_pwcheck_method": "alwaystrue"}, false)
	f.Fuzz(func(t *testing.T, in []byte) {
		ts.log.Reset()
		c := &fuzzConn{r: bytes.NewReader(in)}
		done := make(chan struct{})
		go func() {
			ts.srv.ServeConn(context.Background(), c)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("session did not end at the end of its input")
		}
		if strings.Contains(ts.log.String(), "panic serving") {
			t.Fatalf("panic:\n%s", ts.log)
		}
		for _, l := range strings.Split(c.out.String(), "\r\n") {
			if strings.HasPrefix(l, "BAD") {
				t.Fatalf("a BAD response, which ManageSieve does not have: %q", l)
			}
		}
	})
}
