package cyrusdb

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"
)

// frameTimeout bounds how long the server waits for the rest of a frame
// once its first byte has arrived, so a peer that stalls mid-frame does
// not pin a goroutine and its buffer for ever. Between frames a
// connection may idle without limit: children keep pooled connections.
const frameTimeout = 30 * time.Second

// dbSource resolves a database name; *Store is the real one, tests and the
// fuzzer use maps of Mem.
type dbSource interface {
	DB(name string) (DB, error)
}

// Server serves a Store on a Unix socket (the protocol is described in
// proto.go), one goroutine per connection. A protocol error or a panic
// closes that connection only.
type Server struct {
	dbs    dbSource
	logger *slog.Logger
	path   string
	ln     *net.UnixListener

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool

	wg   sync.WaitGroup
	done chan struct{}
}

// Serve listens on socketPath and serves store until ctx is done or Close
// is called. The parent directory is created with mode 0750 and the socket
// is made 0600: only processes running as the same user as master (its
// children and the admin tools run as cyrus_user) may connect. A stale
// socket file left by a crashed master is replaced; one that still
// answers is an error.
func Serve(ctx context.Context, store *Store, socketPath string, logger *slog.Logger) (*Server, error) {
	return serve(ctx, store, socketPath, logger)
}

func serve(ctx context.Context, dbs dbSource, socketPath string, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(socketPath), 0o750); err != nil {
		return nil, fmt.Errorf("listen on %s: %w", socketPath, err)
	}
	if err := removeStaleSocket(socketPath); err != nil {
		return nil, err
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: socketPath, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", socketPath, err)
	}
	if err := os.Chmod(socketPath, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("listen on %s: %w", socketPath, err)
	}
	s := &Server{
		dbs:    dbs,
		logger: logger,
		path:   socketPath,
		ln:     ln,
		conns:  map[net.Conn]struct{}{},
		done:   make(chan struct{}),
	}
	s.wg.Add(1)
	go s.acceptLoop()
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.done:
		}
	}()
	return s, nil
}

func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listen on %s: %w", path, err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("listen on %s: exists and is not a socket", path)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("listen on %s: another server answers there", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale socket: %w", err)
	}
	return nil
}

// Path returns the socket path.
func (s *Server) Path() string { return s.path }

// Close stops listening, removes the socket, closes every connection and
// waits for their goroutines. A request being executed finishes first
// (its reply is lost; the client retries or reports ErrAmbiguous).
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	err := s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close %s: %w", s.path, err)
	}
	return nil
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	var delay time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.isClosed() {
				return
			}
			// EMFILE and friends: back off rather than spin, as
			// net/http does, and keep serving the connections we have.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.logger.Error("DBERROR: cyrusdb server: accept", "socket", s.path, "err", err)
			select {
			case <-time.After(delay):
			case <-s.done:
				return
			}
			continue
		}
		delay = 0
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	// STYLE: a panic never crosses a connection.
	defer func() {
		if r := recover(); r != nil {
			s.logger.Error("DBERROR: cyrusdb server: panic serving a connection", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	err := s.handle(c)
	switch {
	case err == nil || s.isClosed():
	case errors.Is(err, errBadFrame):
		s.logger.Error("DBERROR: cyrusdb server: closing connection", "socket", s.path, "err", err)
	default:
		// The peer went away or stalled: ordinary when a child exits.
		s.logger.Debug("cyrusdb server: connection ended", "socket", s.path, "err", err)
	}
}

// session is the state of one connection.
type session struct {
	s       *Server
	c       net.Conn
	br      *bufio.Reader
	bw      *bufio.Writer
	scratch []byte
	out     []byte
}

// handle serves requests on c until the peer closes it (nil) or a
// protocol or I/O error (returned).
func (s *Server) handle(c net.Conn) error {
	// Every child keeps a connection or two open for its whole life, so
	// the per-connection buffers stay small; larger frames are allocated
	// when they come.
	ss := &session{
		s:       s,
		c:       c,
		br:      bufio.NewReaderSize(c, 16<<10),
		bw:      bufio.NewWriterSize(c, 32<<10),
		scratch: make([]byte, 32<<10),
	}
	for {
		req, err := ss.readRequest()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := ss.exec(&req); err != nil {
			return err
		}
		if err := ss.bw.Flush(); err != nil {
			return err
		}
	}
}

// readRequest waits, without limit, for a frame to begin, then gives the
// rest of it frameTimeout.
func (ss *session) readRequest() (request, error) {
	if _, err := ss.br.Peek(1); err != nil {
		return request{}, err
	}
	ss.c.SetReadDeadline(time.Now().Add(frameTimeout))
	body, err := readFrame(ss.br, ss.scratch)
	ss.c.SetReadDeadline(time.Time{})
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return request{}, err
	}
	return decodeRequest(body)
}

func (ss *session) reply(r *response) error {
	ss.out = appendResponse(ss.out[:0], r)
	_, err := ss.bw.Write(ss.out)
	if cap(ss.out) > 1<<20 {
		ss.out = nil // do not keep a large value's buffer for the connection's life
	}
	return err
}

func (ss *session) fail(db string, req *request, err error) error {
	ss.s.logger.Error("DBERROR: cyrusdb server", "db", db, "op", opName(req.op), "err", err)
	return ss.reply(&response{status: stError, val: []byte(err.Error())})
}

func doneFlag(ok bool) []byte {
	if ok {
		return []byte{1}
	}
	return []byte{0}
}

func (ss *session) exec(req *request) error {
	switch req.op {
	case opPing:
		return ss.reply(&response{status: stOK, val: []byte{protoVersion}})
	case opContinue, opStop:
		return badFrame("%s outside a scan", opName(req.op))
	}
	db, err := ss.s.dbs.DB(req.name)
	if err != nil {
		return ss.reply(&response{status: stUnknownDB})
	}
	switch req.op {
	case opGet:
		v, err := db.Get(req.key)
		if errors.Is(err, ErrNotFound) {
			return ss.reply(&response{status: stNotFound})
		}
		if err != nil {
			return ss.fail(req.name, req, err)
		}
		return ss.reply(&response{status: stOK, val: v})
	case opPut:
		err = db.Put(req.key, req.val)
	case opDelete:
		err = db.Delete(req.key)
	case opBatch:
		err = db.Batch(req.ops)
	case opPutIfAbsent, opCAS:
		var ok bool
		if req.op == opPutIfAbsent {
			ok, err = db.PutIfAbsent(req.key, req.val)
		} else {
			ok, err = db.CompareAndSwap(req.key, req.old, req.val)
		}
		if err != nil {
			return ss.fail(req.name, req, err)
		}
		return ss.reply(&response{status: stOK, val: doneFlag(ok)})
	case opScan:
		return ss.scan(req.name, db, req.key, req.old)
	}
	if err != nil {
		return ss.fail(req.name, req, err)
	}
	return ss.reply(&response{status: stOK})
}

// scanFromer is implemented by databases that can start a scan after a
// key; others are scanned from the prefix and the keys up to after are
// skipped.
type scanFromer interface {
	scanFrom(prefix, after []byte, fn func(key, value []byte) error) error
}

func scanFrom(db DB, prefix, after []byte, fn func(key, value []byte) error) error {
	if sf, ok := db.(scanFromer); ok {
		return sf.scanFrom(prefix, after, fn)
	}
	return db.Scan(prefix, func(k, v []byte) error {
		if after != nil && string(k) <= string(after) {
			return nil
		}
		return fn(k, v)
	})
}

// errConn ends a scan because the connection failed; the cause is kept
// in the session's scan state.
var errConn = errors.New("connection failed during scan")

func (ss *session) scan(name string, db DB, prefix, after []byte) error {
	// prefix and after point into the request frame, which the next read
	// (CONTINUE/STOP) overwrites: keep copies.
	prefix = append([]byte{}, prefix...)
	if after != nil {
		after = append([]byte{}, after...)
	}
	var connErr error
	items, size := 0, 0
	err := scanFrom(db, prefix, after, func(k, v []byte) error {
		if err := ss.reply(&response{status: stItem, key: k, val: v}); err != nil {
			connErr = err
			return errConn
		}
		items++
		size += len(k) + len(v)
		if items < scanWindowItems && size < scanWindowBytes {
			return nil
		}
		items, size = 0, 0
		if err := ss.reply(&response{status: stMore}); err != nil {
			connErr = err
			return errConn
		}
		if err := ss.bw.Flush(); err != nil {
			connErr = err
			return errConn
		}
		next, err := ss.readRequest()
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			connErr = err
			return errConn
		}
		switch next.op {
		case opContinue:
			return nil
		case opStop:
			return ErrStop
		}
		connErr = badFrame("%s during a scan", opName(next.op))
		return errConn
	})
	if connErr != nil {
		return connErr
	}
	if err != nil {
		return ss.fail(name, &request{op: opScan}, err)
	}
	return ss.reply(&response{status: stEnd})
}
