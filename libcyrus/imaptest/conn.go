// Package imaptest runs golden IMAP transcripts against a server: the
// in-process engine of package imapserver in its unit tests, and the
// built imapd under the real master in the end-to-end tests, so one set of
// transcripts (libcyrus/imapserver/testdata) checks both.
package imaptest

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// Timeout bounds every read and write of a Conn.
const Timeout = 10 * time.Second

// Conn is a client connection that fails its test on any I/O error.
type Conn struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

// NewConn wraps an open connection.
func NewConn(t testing.TB, nc net.Conn) *Conn {
	return &Conn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// Net is the underlying connection.
func (c *Conn) Net() net.Conn { return c.nc }

// Reader is the buffered reader every read of c goes through.
func (c *Conn) Reader() *bufio.Reader { return c.br }

// Send writes s and CRLF.
func (c *Conn) Send(s string) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(Timeout))
	if _, err := c.nc.Write([]byte(s + "\r\n")); err != nil {
		c.t.Fatalf("send %q: %v", s, err)
	}
}

// Line reads one server line without its CRLF.
func (c *Conn) Line() string {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(Timeout))
	s, err := c.br.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (have %q)", err, s)
	}
	return strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")
}

// Cmd sends "tag command" and returns the lines up to and including the
// tagged response.
func (c *Conn) Cmd(tag, command string) []string {
	c.t.Helper()
	c.Send(tag + " " + command)
	var out []string
	for {
		l := c.Line()
		out = append(out, l)
		if strings.HasPrefix(l, tag+" ") {
			return out
		}
	}
}

// MustOK is Cmd that fails the test unless the answer is OK.
func (c *Conn) MustOK(tag, command string) []string {
	c.t.Helper()
	out := c.Cmd(tag, command)
	if !strings.HasPrefix(out[len(out)-1], tag+" OK") {
		c.t.Fatalf("%s %s: %q", tag, command, out)
	}
	return out
}
