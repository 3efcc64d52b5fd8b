package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/masterproto"
)

// shutdownGrace bounds how long sessions get to finish after SIGTERM.
const shutdownGrace = 5 * time.Second

// binaryCheckInterval is how often an idle process looks whether its
// executable was replaced, so an upgrade reaches preforked processes too.
const binaryCheckInterval = time.Second

// runner is the accept loop of one service process.
type runner struct {
	runnerConfig
	ln       net.Listener
	status   io.Writer
	statusFD int // watched for master's death; -1 for none
	exe      exeStamp
	orphaned bool // master is gone: tell it nothing more

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func newRunner(c runnerConfig) (*runner, error) {
	ln, status, err := inheritedListener()
	if err != nil {
		return nil, err
	}
	return &runner{runnerConfig: c, ln: ln, status: status, statusFD: masterproto.StatusFD, exe: stampExecutable(), conns: map[net.Conn]struct{}{}}, nil
}

type acceptResult struct {
	conn net.Conn
	err  error
}

// loopState is what the accept loop knows; kept apart so the rules that
// decide which message to send are plain code over plain fields.
type loopState struct {
	limit    int
	maxUse   int
	active   int
	uses     int
	busy     bool // master has been told UNAVAILABLE
	draining bool // accept no more; exit when sessions end
}

func (s *loopState) wantAccept() bool {
	return !s.draining && s.active < s.limit && s.uses < s.maxUse
}

// onAccept returns the messages to send for a new connection. With a limit
// of one they are Cyrus's: UNAVAILABLE, then CONNECTION. Below the limit a
// multi-client process stays available and says CONNECTION_MULTI.
func (s *loopState) onAccept() []masterproto.Message {
	s.active++
	s.uses++
	if s.active < s.limit && s.uses < s.maxUse && !s.draining {
		return []masterproto.Message{masterproto.ConnectionMulti}
	}
	if s.busy {
		return []masterproto.Message{masterproto.Connection}
	}
	s.busy = true
	return []masterproto.Message{masterproto.Unavailable, masterproto.Connection}
}

// onDone returns the messages to send when a session ends.
func (s *loopState) onDone() []masterproto.Message {
	s.active--
	if s.uses >= s.maxUse {
		s.draining = true
	}
	if s.busy && !s.draining {
		s.busy = false
		return []masterproto.Message{masterproto.Available}
	}
	return nil
}

// onDrain marks the process as going away. A process that still serves
// sessions tells master it is unavailable, so master can start another.
func (s *loopState) onDrain() []masterproto.Message {
	s.draining = true
	if !s.busy && s.active > 0 {
		s.busy = true
		return []masterproto.Message{masterproto.Unavailable}
	}
	return nil
}

func (r *runner) tell(msgs []masterproto.Message) {
	for _, m := range msgs {
		if r.orphaned {
			return
		}
		b := masterproto.Encode(m, os.Getpid())
		if _, err := r.status.Write(b[:]); err != nil {
			if errors.Is(err, syscall.EPIPE) {
				// Nobody reads the status pipe: master has died.
				r.orphaned = true
				return
			}
			r.logger.Error(fmt.Sprintf("unable to tell master %x: %v", int32(m), err))
		}
	}
}

func (r *runner) run(ctx context.Context) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sigs, stop := notifySignals()
	defer stop()

	maxUse := r.maxUse
	if maxUse < 1 {
		maxUse = 1 // Cyrus: -U 0 still serves the one connection it accepted
	}
	st := &loopState{limit: r.clientLimit, maxUse: maxUse}

	acceptReq := make(chan struct{})
	accepted := make(chan acceptResult)
	go func() {
		for range acceptReq {
			c, err := r.ln.Accept()
			accepted <- acceptResult{c, err}
		}
	}()
	defer close(acceptReq)

	done := make(chan struct{})
	ticker := time.NewTicker(binaryCheckInterval)
	defer ticker.Stop()
	var idle <-chan time.Time
	var idleTimer *time.Timer
	pending := false
	closed := false
	var shutdownDeadline <-chan time.Time

	drain := func(why string) {
		if st.draining {
			return
		}
		r.logger.Debug(why)
		r.tell(st.onDrain())
	}
	masterGone := watchMaster(r.statusFD)

	for {
		if r.orphaned && !st.draining {
			r.logger.Warn("master has exited; finishing sessions, accepting no more")
			drain("master has exited")
		}
		if st.draining && !closed {
			r.ln.Close()
			closed = true
		}
		if st.wantAccept() && !pending && !closed {
			acceptReq <- struct{}{}
			pending = true
		}
		if st.draining && st.active == 0 && !pending {
			return exitOK
		}
		// The reuse timeout only runs while the process waits between
		// sessions, as Cyrus's alarm() does.
		if st.active == 0 && st.uses > 0 && r.reuseTimeout > 0 && idle == nil && !st.draining {
			idleTimer = time.NewTimer(r.reuseTimeout)
			idle = idleTimer.C
		} else if st.active > 0 && idle != nil {
			idleTimer.Stop()
			idle = nil
		}

		select {
		case res := <-accepted:
			pending = false
			if res.err != nil {
				if closed {
					continue
				}
				if ne, ok := res.err.(net.Error); ok && ne.Timeout() {
					continue
				}
				if errors.Is(res.err, syscall.EINVAL) {
					// master shut the listening socket down (reload or
					// shutdown): stop accepting, quietly.
					drain("listener shut down by master")
					continue
				}
				r.logger.Error(fmt.Sprintf("accept failed: %v", res.err))
				drain("accept failed")
				continue
			}
			r.tell(st.onAccept())
			r.logger.Debug("accepted connection")
			go r.serve(ctx, res.conn, done)
		case <-done:
			r.tell(st.onDone())
		case sig := <-sigs:
			switch sig {
			case syscall.SIGHUP:
				drain("received SIGHUP, finishing sessions")
			default:
				r.logger.Info("graceful shutdown")
				drain("shutting down")
				cancel()
				if shutdownDeadline == nil {
					shutdownDeadline = time.After(shutdownGrace)
				}
			}
		case <-shutdownDeadline:
			r.closeAll()
			return exitOK
		case <-ticker.C:
			if changed, why := r.exe.changed(); changed {
				r.logger.Info(why)
				drain(why)
			}
		case <-idle:
			idle = nil
			drain("reuse timeout")
		case <-masterGone:
			masterGone = nil
			r.orphaned = true
		}
	}
}

// serve runs one session with a recover, so that a panic ends only the
// connection that caused it.
func (r *runner) serve(ctx context.Context, conn net.Conn, done chan<- struct{}) {
	defer func() { done <- struct{}{} }()
	r.track(conn, true)
	defer r.track(conn, false)
	defer conn.Close()
	defer func() {
		if p := recover(); p != nil {
			r.logger.Error(fmt.Sprintf("panic serving %s: %v", conn.RemoteAddr(), p), "stack", string(debug.Stack()))
		}
	}()
	if tc, ok := conn.(*net.TCPConn); ok {
		// Cyrus enables keepalive so dead peers are noticed; we also keep
		// Go's TCP_NODELAY, so small replies are not held back.
		tc.SetKeepAlive(true)
	}
	r.handler.ServeConn(ctx, conn)
}

func (r *runner) track(c net.Conn, add bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if add {
		r.conns[c] = struct{}{}
	} else {
		delete(r.conns, c)
	}
}

func (r *runner) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.conns {
		c.Close()
	}
}

// exeStamp remembers the executable's identity at start, as Cyrus's
// service.c does with inode, size and mtime.
type exeStamp struct {
	path string
	fi   os.FileInfo
}

func stampExecutable() exeStamp {
	p, err := os.Executable()
	if err != nil {
		return exeStamp{}
	}
	fi, err := os.Stat(p)
	if err != nil {
		return exeStamp{}
	}
	return exeStamp{path: p, fi: fi}
}

func (e exeStamp) changed() (bool, string) {
	if e.fi == nil {
		return false, ""
	}
	fi, err := os.Stat(e.path)
	if err != nil {
		return true, fmt.Sprintf("cannot stat process file: %v", err)
	}
	if !os.SameFile(fi, e.fi) || fi.Size() != e.fi.Size() || !fi.ModTime().Equal(e.fi.ModTime()) {
		return true, "process file has changed"
	}
	return false, ""
}

// logPanic is shared by the stdio path.
func logPanic(l *slog.Logger, p any) {
	l.Error(fmt.Sprintf("panic serving stdio session: %v", p), "stack", string(debug.Stack()))
}
