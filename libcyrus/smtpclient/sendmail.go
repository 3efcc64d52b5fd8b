package smtpclient

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// waitDelay is how long a sendmail child may take to exit once its input
// is closed before it is killed.
const waitDelay = 10 * time.Second

// startSendmail runs "sendmail -bs" as Cyrus does (argv[0] "sendmail")
// and returns its standard input and output as one connection, and a
// function that waits for it to end.
func startSendmail(ctx context.Context, path string) (net.Conn, func() error, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("sendmail pipe: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, nil, fmt.Errorf("sendmail pipe: %w", err)
	}
	cmd := exec.CommandContext(ctx, path, "-bs")
	cmd.Args[0] = "sendmail"
	cmd.Stdin, cmd.Stdout = inR, outW
	stderr := &limitedBuffer{max: 4096}
	cmd.Stderr = stderr
	cmd.WaitDelay = waitDelay
	err = cmd.Start()
	// The child has its own copies of its ends.
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, nil, fmt.Errorf("running %s -bs: %w", path, err)
	}
	conn := &pipeConn{r: outR, w: inW}
	wait := func() error {
		// Closing its input ends the session; a child that lingers
		// after that is killed.
		t := time.AfterFunc(waitDelay, func() { cmd.Process.Kill() })
		defer t.Stop()
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("%s -bs: %w: %s", path, err, strings.TrimSpace(stderr.String()))
		}
		return nil
	}
	return conn, wait, nil
}

// pipeConn is a child's standard output and input as a net.Conn, which
// net/smtp needs. Pipes from os.Pipe support deadlines.
type pipeConn struct {
	r, w *os.File
	once sync.Once
}

func (c *pipeConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *pipeConn) Write(p []byte) (int, error) { return c.w.Write(p) }

func (c *pipeConn) Close() error {
	var err error
	c.once.Do(func() {
		err = c.w.Close()
		if rerr := c.r.Close(); err == nil {
			err = rerr
		}
	})
	return err
}

func (c *pipeConn) LocalAddr() net.Addr  { return pipeAddr{} }
func (c *pipeConn) RemoteAddr() net.Addr { return pipeAddr{} }

func (c *pipeConn) SetDeadline(t time.Time) error {
	if err := c.r.SetDeadline(t); err != nil {
		return err
	}
	return c.w.SetDeadline(t)
}

func (c *pipeConn) SetReadDeadline(t time.Time) error  { return c.r.SetReadDeadline(t) }
func (c *pipeConn) SetWriteDeadline(t time.Time) error { return c.w.SetWriteDeadline(t) }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "sendmail" }

// limitedBuffer keeps the first max bytes written to it (a child's
// standard error, for the log).
type limitedBuffer struct {
	mu  sync.Mutex
	b   bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
