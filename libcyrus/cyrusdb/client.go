package cyrusdb

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Client defaults.
const (
	// DefaultRetryTimeout is how long an operation keeps reconnecting
	// while master is away (a restart takes a few seconds).
	DefaultRetryTimeout = 10 * time.Second
	// DefaultMaxIdle is how many idle connections a Client keeps.
	DefaultMaxIdle = 8

	dialTimeout = 5 * time.Second
	minBackoff  = 20 * time.Millisecond
	maxBackoff  = time.Second
)

// DialOption tunes Dial.
type DialOption func(*Client)

// WithRetryTimeout sets how long an operation keeps reconnecting before it
// fails (DefaultRetryTimeout); 0 fails at the first broken connection.
func WithRetryTimeout(d time.Duration) DialOption {
	return func(c *Client) { c.retry = max(d, 0) }
}

// WithMaxIdle sets how many idle connections are kept (DefaultMaxIdle).
func WithMaxIdle(n int) DialOption {
	return func(c *Client) { c.maxIdle = max(n, 0) }
}

// WithClientLogger sends the notes about lost and regained connections to
// l.
func WithClientLogger(l *slog.Logger) DialOption {
	return func(c *Client) {
		if l != nil {
			c.logger = l
		}
	}
}

// Client reaches the databases master serves on its socket. It is safe for
// concurrent use: each operation takes a connection from a small pool, or
// dials a new one, so a Scan callback may call the client again.
//
// Reconnection: when a connection breaks (master restarted), an operation
// redials with backoff for up to the retry timeout. Reads, Put, Delete and
// Batch are idempotent and are simply sent again. PutIfAbsent and
// CompareAndSwap are sent again only if the request never reached the
// server (the write to the socket failed); if it was sent and the reply
// was lost they return an error wrapping ErrAmbiguous, because a retry
// could misreport the first attempt's success as a failure. A Scan that
// breaks resumes after the last key it delivered; keys before the break
// come from one snapshot and those after it from another.
type Client struct {
	path    string
	retry   time.Duration
	maxIdle int
	logger  *slog.Logger

	mu     sync.Mutex
	idle   []*clientConn
	closed bool
}

type clientConn struct {
	nc      net.Conn
	br      *bufio.Reader
	out     []byte
	scratch []byte
}

// Dial connects to the server at socketPath and checks that it speaks this
// protocol. It does not retry: a tool that finds no server falls back to
// opening the files (see Open).
func Dial(socketPath string, opts ...DialOption) (*Client, error) {
	c := &Client{
		path:    socketPath,
		retry:   DefaultRetryTimeout,
		maxIdle: DefaultMaxIdle,
		logger:  slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(c)
	}
	cn, err := c.dial()
	if err != nil {
		return nil, err
	}
	c.release(cn)
	return c, nil
}

// Path returns the socket path.
func (c *Client) Path() string { return c.path }

// Close closes the idle connections; connections in use are closed when
// their operation ends. Operations after Close fail with ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	idle := c.idle
	c.idle = nil
	c.closed = true
	c.mu.Unlock()
	for _, cn := range idle {
		cn.nc.Close()
	}
	return nil
}

// DB returns the database called name. The name is checked by the server:
// an unknown one fails each operation with ErrUnknownDB.
func (c *Client) DB(name string) DB { return &clientDB{c: c, name: name} }

// dial opens a connection and checks the protocol version.
func (c *Client) dial() (*clientConn, error) {
	nc, err := net.DialTimeout("unix", c.path, dialTimeout)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", c.path, err)
	}
	cn := &clientConn{nc: nc, br: bufio.NewReaderSize(nc, 32<<10), scratch: make([]byte, 32<<10)}
	resp, _, err := cn.roundTrip(&request{op: opPing})
	if err == nil && (resp.status != stOK || len(resp.val) != 1) {
		err = fmt.Errorf("unexpected reply to ping (status %d)", resp.status)
	}
	if err == nil && resp.val[0] != protoVersion {
		err = errVersion{resp.val[0]}
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("connect to %s: %w", c.path, err)
	}
	return cn, nil
}

// errVersion is permanent: retrying will not change the server.
type errVersion struct{ got byte }

func (e errVersion) Error() string {
	return fmt.Sprintf("server speaks protocol version %d, this client %d", e.got, protoVersion)
}

// get returns an idle connection (pooled true) or a new one.
func (c *Client) get() (cn *clientConn, pooled bool, err error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, false, ErrClosed
	}
	if n := len(c.idle); n > 0 {
		cn = c.idle[n-1]
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		return cn, true, nil
	}
	c.mu.Unlock()
	cn, err = c.dial()
	return cn, false, err
}

// release returns a healthy connection to the pool.
func (c *Client) release(cn *clientConn) {
	if cap(cn.out) > 1<<20 {
		cn.out = nil
	}
	c.mu.Lock()
	if !c.closed && len(c.idle) < c.maxIdle {
		c.idle = append(c.idle, cn)
		cn = nil
	}
	c.mu.Unlock()
	if cn != nil {
		cn.nc.Close()
	}
}

// dropIdle closes every idle connection: when one turns out dead, the
// server has gone and the others are dead too.
func (c *Client) dropIdle() {
	c.mu.Lock()
	idle := c.idle
	c.idle = nil
	c.mu.Unlock()
	for _, cn := range idle {
		cn.nc.Close()
	}
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// send writes one request frame. An error means the server did not get the
// whole frame, and so did not act on it.
func (cn *clientConn) send(req *request) error {
	cn.out = appendRequest(cn.out[:0], req)
	_, err := cn.nc.Write(cn.out)
	return err
}

// recv reads one response. Its slices are valid until the next recv.
func (cn *clientConn) recv() (response, error) {
	body, err := readFrame(cn.br, cn.scratch)
	if err != nil {
		return response{}, fmt.Errorf("read reply: %w", err)
	}
	return decodeResponse(body)
}

// roundTrip sends req and reads its reply; sent reports whether the
// request reached the server whole.
func (cn *clientConn) roundTrip(req *request) (resp response, sent bool, err error) {
	if err := cn.send(req); err != nil {
		return response{}, false, fmt.Errorf("send request: %w", err)
	}
	resp, err = cn.recv()
	return resp, true, err
}

// retrier paces the reconnection attempts of one operation.
type retrier struct {
	c        *Client
	deadline time.Time
	backoff  time.Duration
}

// wait decides whether to try again after err; it sleeps first.
func (r *retrier) wait(err error) error {
	var ev errVersion
	if errors.Is(err, ErrClosed) || errors.As(err, &ev) {
		return err
	}
	now := time.Now()
	if r.deadline.IsZero() {
		r.deadline = now.Add(r.c.retry)
		r.backoff = minBackoff
		r.c.logger.Warn("cyrusdb: lost connection to the database server, retrying", "socket", r.c.path, "err", err)
	}
	if !now.Before(r.deadline) {
		return fmt.Errorf("no answer from %s for %v: %w", r.c.path, r.c.retry, err)
	}
	time.Sleep(min(r.backoff, r.deadline.Sub(now)))
	r.backoff = min(2*r.backoff, maxBackoff)
	if r.c.isClosed() {
		return ErrClosed
	}
	return nil
}

// progress resets the pacing after the server answered.
func (r *retrier) progress() {
	if !r.deadline.IsZero() {
		r.c.logger.Info("cyrusdb: reconnected to the database server", "socket", r.c.path)
	}
	r.deadline = time.Time{}
}

// call performs one request/reply exchange, reconnecting as the Client doc
// says. handle reads the response while the connection is still held (the
// response points into its buffers); a protocol error it returns closes
// the connection.
func (c *Client) call(req *request, idempotent bool, handle func(response) error) error {
	r := retrier{c: c}
	for {
		cn, pooled, err := c.get()
		if err == nil {
			var resp response
			var sent bool
			resp, sent, err = cn.roundTrip(req)
			if err == nil {
				r.progress()
				err = handle(resp)
				if errors.Is(err, errBadFrame) {
					cn.nc.Close()
				} else {
					c.release(cn)
				}
				return err
			}
			cn.nc.Close()
			if sent && !idempotent {
				return fmt.Errorf("%w: %v", ErrAmbiguous, err)
			}
			if pooled {
				// A dead pooled connection says nothing about the server
				// now: try a fresh one at once.
				c.dropIdle()
				continue
			}
		}
		if err := r.wait(err); err != nil {
			return err
		}
	}
}
