package service

import (
	"context"
	"log/slog"
	"net"
	"os"
	"time"
)

// serveStdio runs one session on stdin/stdout (-X), for debugging and for
// inetd-style use: no master, no status pipe.
func serveStdio(ctx context.Context, h Handler, logger *slog.Logger) int {
	var conn net.Conn
	if c, err := net.FileConn(os.Stdin); err == nil {
		conn = c // stdin is a socket: use it as one, with real addresses
	} else {
		conn = &stdioConn{in: os.Stdin, out: os.Stdout}
	}
	defer conn.Close()
	func() {
		defer func() {
			if p := recover(); p != nil {
				logPanic(logger, p)
			}
		}()
		h.ServeConn(ctx, conn)
	}()
	return exitOK
}

// stdioConn is a net.Conn over a pair of pipes.
type stdioConn struct {
	in  *os.File
	out *os.File
}

type stdioAddr struct{}

func (stdioAddr) Network() string { return "stdio" }
func (stdioAddr) String() string  { return "stdio" }

func (c *stdioConn) Read(b []byte) (int, error)  { return c.in.Read(b) }
func (c *stdioConn) Write(b []byte) (int, error) { return c.out.Write(b) }
func (c *stdioConn) Close() error {
	err := c.out.Close()
	c.in.Close()
	return err
}
func (c *stdioConn) LocalAddr() net.Addr  { return stdioAddr{} }
func (c *stdioConn) RemoteAddr() net.Addr { return stdioAddr{} }
func (c *stdioConn) SetDeadline(t time.Time) error {
	c.in.SetReadDeadline(t)
	return c.out.SetWriteDeadline(t)
}
func (c *stdioConn) SetReadDeadline(t time.Time) error  { return c.in.SetReadDeadline(t) }
func (c *stdioConn) SetWriteDeadline(t time.Time) error { return c.out.SetWriteDeadline(t) }

// IsLocal reports whether conn came over a Unix socket or stdio, which
// Cyrus treats as trusted and secure (no TLS needed for plaintext logins).
func IsLocal(conn net.Conn) bool {
	switch conn.LocalAddr().Network() {
	case "unix", "unixpacket", "stdio":
		return true
	}
	return false
}
