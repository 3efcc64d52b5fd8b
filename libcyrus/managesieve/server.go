// Package managesieve is the ManageSieve engine of timsieved (RFC 5804):
// the session state machine, SASL authentication through package auth,
// STARTTLS, and the script commands over package sievescript, one file
// per command family. It touches no file itself.
//
// A session runs in one goroutine and holds no lock. A client may drop
// its connection at any point, in the middle of a literal included: the
// command being read is then abandoned before anything is written, and a
// script is only ever stored by sievescript's atomic rename once its
// whole text has arrived and compiled, so nothing half-written is left
// (Cyrus 3.6's timsieved crashes here, timsieved_segfault.txt).
package managesieve

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/auth"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/sievescript"
)

// Options configure a Server.
type Options struct {
	Config *config.Config
	Auth   *auth.Authenticator
	// TLS is nil when TLS is not configured.
	TLS     *tls.Config
	Scripts *sievescript.Store
	Logger  *slog.Logger
	// PreAuthTimeout bounds idleness before authentication (RFC 5804
	// 1.2: "MAY be less before authentication"); zero means 5 minutes.
	// After it the timeout option applies, at least 30 minutes.
	PreAuthTimeout time.Duration
	// AuthDelay spaces out failed authentications; nil means auth's
	// defaults.
	AuthDelay func() *auth.Delay
}

// Server serves ManageSieve sessions.
type Server struct {
	o              Options
	log            *slog.Logger
	implementation string
	timeout        time.Duration
	preAuthTimeout time.Duration
}

// New returns a Server.
func New(o Options) *Server {
	s := &Server{o: o, log: o.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	// RFC 5804 1.2: at least 30 minutes once authenticated.
	s.timeout = max(o.Config.Duration(config.Timeout), 30*time.Minute)
	s.preAuthTimeout = o.PreAuthTimeout
	if s.preAuthTimeout <= 0 {
		s.preAuthTimeout = 5 * time.Minute
	}
	// The IMPLEMENTATION capability as Cyrus's serverinfo shapes it.
	switch o.Config.Enum(config.ServerInfo) {
	case "off":
		s.implementation = "ManageSieve"
	case "min":
		s.implementation = "Cyrus timsieved"
	default:
		s.implementation = "Cyrus timsieved cyrusgo"
	}
	return s
}

// session is one client connection.
type session struct {
	srv        *Server
	ctx        context.Context
	conn       net.Conn
	raw        net.Conn
	r          *reader
	w          *bufio.Writer
	clientHost string
	secure     bool // TLS or a local socket: passwords may be sent
	tlsActive  bool
	delay      *auth.Delay

	authed bool
	user   string // the authorization identity
	admin  bool   // manages the global scripts
	dir    *sievescript.Dir
	bad    int
	done   bool
}

// maxBadCommands closes a connection that sends this many bad commands
// in a row.
const maxBadCommands = 20

// ServeConn runs one session; it returns when the client is gone.
func (s *Server) ServeConn(ctx context.Context, conn net.Conn) {
	ss := &session{
		srv:        s,
		ctx:        ctx,
		conn:       conn,
		raw:        conn,
		clientHost: auth.LookupClientHost(ctx, nil, conn.RemoteAddr()),
		secure:     isLocal(conn),
	}
	if s.o.AuthDelay != nil {
		ss.delay = s.o.AuthDelay()
	} else {
		ss.delay = &auth.Delay{}
	}
	// A process asked to stop wakes the session from its read.
	ss.setupIO()
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Now()) })
	defer stop()
	defer func() {
		// A bug ends this session, not the process (the service
		// runtime recovers too, but the client deserves a BYE).
		if p := recover(); p != nil {
			s.log.Error(fmt.Sprintf("panic serving %s: %v", ss.clientHost, p), "stack", string(debug.Stack()))
			ss.w.WriteString("BYE \"Internal error\"\r\n")
			ss.w.Flush()
		}
	}()
	ss.capabilities()
	ss.w.Flush()
	ss.loop()
}

func isLocal(c net.Conn) bool {
	switch c.LocalAddr().Network() {
	case "unix", "unixpacket", "stdio":
		return true
	}
	return false
}

func (ss *session) setupIO() {
	ss.r = &reader{br: bufio.NewReaderSize(ss.conn, 16<<10)}
	ss.w = bufio.NewWriterSize(ss.conn, 16<<10)
}

// command is one entry of the dispatch table.
type command struct {
	fn func(ss *session) error
	// preAuth: valid before authentication (RFC 5804 2: AUTHENTICATE,
	// CAPABILITY, STARTTLS, LOGOUT, NOOP); postAuth: after it.
	preAuth, postAuth bool
}

var commands = map[string]command{
	"AUTHENTICATE":   {fn: cmdAuthenticate, preAuth: true, postAuth: true},
	"CAPABILITY":     {fn: cmdCapability, preAuth: true, postAuth: true},
	"STARTTLS":       {fn: cmdStartTLS, preAuth: true, postAuth: true},
	"LOGOUT":         {fn: cmdLogout, preAuth: true, postAuth: true},
	"NOOP":           {fn: cmdNoop, preAuth: true, postAuth: true},
	"UNAUTHENTICATE": {fn: cmdUnauthenticate, postAuth: true},
	"HAVESPACE":      {fn: cmdHaveSpace, postAuth: true},
	"PUTSCRIPT":      {fn: cmdPutScript, postAuth: true},
	"CHECKSCRIPT":    {fn: cmdCheckScript, postAuth: true},
	"LISTSCRIPTS":    {fn: cmdListScripts, postAuth: true},
	"SETACTIVE":      {fn: cmdSetActive, postAuth: true},
	"GETSCRIPT":      {fn: cmdGetScript, postAuth: true},
	"DELETESCRIPT":   {fn: cmdDeleteScript, postAuth: true},
	"RENAMESCRIPT":   {fn: cmdRenameScript, postAuth: true},
}

func (ss *session) loop() {
	for !ss.done {
		timeout := ss.srv.preAuthTimeout
		if ss.authed {
			timeout = ss.srv.timeout
		}
		ss.raw.SetReadDeadline(time.Now().Add(timeout))
		if err := ss.ctx.Err(); err != nil {
			// Cancelled before the deadline above replaced the one the
			// AfterFunc set.
			ss.disconnect(err)
			return
		}
		err := ss.one()
		if err == nil {
			continue
		}
		var ce *clientError
		var tl *tooLongError
		switch {
		case errors.As(err, &ce), errors.As(err, &tl):
			if errors.As(err, &tl) {
				ss.no("", fmt.Sprintf("Argument too long: %v", tl))
			} else {
				ss.no("", ce.msg)
			}
			if ferr := ss.w.Flush(); ferr != nil {
				ss.disconnect(ferr)
				return
			}
			if serr := ss.r.skipLine(); serr != nil {
				ss.disconnect(serr)
				return
			}
			ss.bad++
			if ss.bad >= maxBadCommands {
				ss.bye("", "Too many protocol errors")
				return
			}
		default:
			ss.disconnect(err)
			return
		}
	}
}

// one reads and runs one command. A *clientError or *tooLongError leaves
// the rest of the line to the caller; any other error ends the session.
func (ss *session) one() error {
	// Blank lines between commands are ignored, as Cyrus does.
	for {
		eol, err := ss.r.atEOL()
		if err != nil {
			return err
		}
		if !eol {
			break
		}
		ss.r.eol()
	}
	name, err := ss.r.atom()
	if err != nil {
		return err
	}
	cmd, ok := commands[strings.ToUpper(name)]
	if !ok {
		return syntaxf("Expected a command. Got something else.")
	}
	if !ss.authed && !cmd.preAuth {
		return syntaxf("Authenticate first")
	}
	if ss.authed && !cmd.postAuth {
		return syntaxf("Already authenticated")
	}
	if err := cmd.fn(ss); err != nil {
		return err
	}
	ss.bad = 0
	return ss.w.Flush()
}

// disconnect ends a session on an I/O error, with a BYE for a timeout or
// shutdown and a log line for a client that went away without LOGOUT.
func (ss *session) disconnect(err error) {
	var ne net.Error
	switch {
	case ss.ctx.Err() != nil:
		ss.bye("", "Server shutting down")
	case errors.As(err, &ne) && ne.Timeout():
		ss.bye("", "Idle timeout")
	case errors.Is(err, errFatalInput):
		ss.bye("", "Literal too large")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		ss.srv.log.Info(fmt.Sprintf("Lost connection to client %s", ss.clientHost))
	default:
		ss.srv.log.Info(fmt.Sprintf("connection from %s: %v", ss.clientHost, err))
	}
}

// Responses (RFC 5804 4: response-oknobye).

func (ss *session) status(kind, code, text string) {
	var b strings.Builder
	b.WriteString(kind)
	if code != "" {
		b.WriteString(" (" + code + ")")
	}
	if text != "" {
		b.WriteString(" " + quote(text))
	}
	b.WriteString("\r\n")
	ss.w.WriteString(b.String())
}

func (ss *session) ok(code, text string) { ss.status("OK", code, text) }
func (ss *session) no(code, text string) { ss.status("NO", code, text) }

func (ss *session) bye(code, text string) {
	ss.status("BYE", code, text)
	ss.w.Flush()
	ss.done = true
}

// capabilities writes the capability response, in Cyrus 3.6's order
// (managesieve_session.txt), followed by OK.
func (ss *session) capabilities() {
	s := ss.srv
	line := func(name, value string, hasValue bool) {
		ss.w.WriteString(quote(name))
		if hasValue {
			ss.w.WriteString(" " + quote(value))
		}
		ss.w.WriteString("\r\n")
	}
	line("IMPLEMENTATION", s.implementation, true)
	line("VERSION", "1.0", true)
	if !ss.authed {
		line("SASL", strings.Join(s.o.Auth.Mechanisms(ss.secure), " "), true)
	}
	exts := s.o.Scripts.Extensions()
	line("SIEVE", exts.Capability(), true)
	if m := exts.NotifyMethods(); m != "" {
		line("NOTIFY", m, true)
	}
	if s.o.TLS != nil && !ss.tlsActive && !ss.authed {
		line("STARTTLS", "", false)
	}
	if ss.authed {
		line("OWNER", ss.user, true)
	}
	line("UNAUTHENTICATE", "", false)
	ss.w.WriteString("OK\r\n")
}
