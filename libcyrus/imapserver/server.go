// Package imapserver is the IMAP engine of imapd: IMAP4rev1 (RFC 3501)
// and the extensions Cyrus 3.6 advertises, and IMAP4rev2 (RFC 9051) once
// a session enables it (rev2.go), over package imapwire and the mail
// store (package mailbox). One file per command family.
//
// A session runs in one goroutine. It holds no lock between commands; the
// selected mailbox's view tells it what other processes changed, and it
// reports that before each tagged response (RFC 3501 7), except that
// EXPUNGE is never sent during FETCH, STORE and SEARCH (RFC 3501 7.4.1).
package imapserver

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/auth"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/imapwire"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/mboxname"
)

// Options configure a Server.
type Options struct {
	Config *config.Config
	Store  *mailbox.Store
	Auth   *auth.Authenticator
	// TLS is the server's TLS configuration, nil when TLS is disabled.
	TLS *tls.Config
	// ImplicitTLS is imapd -s: the handshake comes before the greeting.
	ImplicitTLS bool
	Logger      *slog.Logger
}

// Server serves IMAP sessions.
type Server struct {
	opts       Options
	cfg        *config.Config
	store      *mailbox.Store
	log        *slog.Logger
	limits     imapwire.Limits
	serverName string
	timeout    time.Duration // before login and between commands
	idleTime   time.Duration // in IDLE
	maxMsgSize int64
}

// New returns a Server.
func New(o Options) *Server {
	cfg := o.Config
	s := &Server{opts: o, cfg: cfg, store: o.Store, log: o.Logger}
	s.limits = imapwire.DefaultLimits()
	s.limits.MaxWord = int(cfg.Size(config.MaxWord))
	s.limits.MaxQuoted = int(cfg.Size(config.MaxQuoted))
	s.limits.MaxLiteral = int(cfg.Size(config.MaxLiteral))
	s.limits.MaxArgs = cfg.Size(config.MaxArgsSize)
	s.limits.LiteralMinus = cfg.Bool(config.LiteralMinus)
	s.maxMsgSize = cfg.Size(config.MaxMessageSize)
	s.limits.MaxAppendLiteral = s.maxMsgSize
	s.serverName = cfg.String(config.ServerName)
	if s.serverName == "" {
		s.serverName, _ = os.Hostname()
	}
	s.timeout = cfg.Duration(config.Timeout)
	if s.timeout < 30*time.Minute {
		// RFC 3501 5.4: the autologout timer is at least 30 minutes.
		s.timeout = 30 * time.Minute
	}
	s.idleTime = cfg.Duration(config.IMAPIdleTimeout)
	if s.idleTime <= 0 {
		s.idleTime = s.timeout
	}
	return s
}

// state is the RFC 3501 3 connection state.
type state int

const (
	stateNotAuth state = 1 << iota
	stateAuth
	stateSelected
	stateLogout
)

// session is one client connection.
type session struct {
	srv        *Server
	ctx        context.Context
	conn       net.Conn
	br         *bufio.Reader
	r          *imapwire.Reader
	w          *imapwire.Writer
	state      state
	secure     bool // TLS, or a local socket: plaintext logins allowed
	tlsActive  bool
	compressed bool // COMPRESS=DEFLATE is active (RFC 4978)
	clientHost string
	sessionID  string
	delay      auth.Delay

	user string
	id   acl.Identity
	ns   mboxname.Namespace

	mbox     *mailbox.Mailbox
	mboxName string // internal name of the selected mailbox
	// searchRes is the SEARCHRES "$" (RFC 5182): the UIDs the last
	// SEARCH RETURN (SAVE) found in the selected mailbox.
	searchRes []uint32

	enabled map[string]bool
	bad     int
	idling  bool
}

// maxBadCommands closes a connection that sends this many bad commands
// in a row, like a non-IMAP speaker would.
const maxBadCommands = 10

// ServeConn runs one session; it returns when the client is gone.
func (s *Server) ServeConn(ctx context.Context, conn net.Conn) {
	ss := &session{
		srv:        s,
		ctx:        ctx,
		conn:       conn,
		state:      stateNotAuth,
		enabled:    map[string]bool{},
		clientHost: auth.LookupClientHost(ctx, nil, conn.RemoteAddr()),
		ns:         s.store.Namespace(),
	}
	ss.sessionID = newSessionID(s.serverName)
	ss.secure = isLocal(conn)
	if s.opts.ImplicitTLS {
		if s.opts.TLS == nil {
			s.log.Error("imaps: no TLS certificate configured (tls_server_cert); closing")
			return
		}
		tc := tls.Server(conn, s.opts.TLS)
		tc.SetDeadline(time.Now().Add(time.Minute))
		if err := tc.HandshakeContext(ctx); err != nil {
			s.log.Info(fmt.Sprintf("imaps TLS negotiation failed: %s: %v", ss.clientHost, err))
			return
		}
		tc.SetDeadline(time.Time{})
		ss.conn = tc
		ss.secure, ss.tlsActive = true, true
	}
	ss.setupIO()
	defer ss.cleanup()
	ss.greet()
	ss.loop()
}

func newSessionID(host string) string {
	var b [8]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%d-%d", host, time.Now().Unix(), os.Getpid(), binary.BigEndian.Uint64(b[:])>>1)
}

func isLocal(c net.Conn) bool {
	switch c.LocalAddr().Network() {
	case "unix", "unixpacket", "stdio":
		return true
	}
	return false
}

func (ss *session) setupIO() {
	ss.br = bufio.NewReaderSize(ss.conn, 16<<10)
	ss.w = imapwire.NewWriter(ss.conn)
	ss.r = imapwire.NewReader(ss.br, ss.w, ss.srv.limits)
}

func (ss *session) cleanup() {
	if ss.mbox != nil {
		ss.mbox.Close()
		ss.mbox = nil
	}
}

func (ss *session) greet() {
	// serverinfo says how much the greeting tells, as in Cyrus: on gives
	// name and implementation, min the host name only, off nothing.
	text := "server ready"
	switch ss.srv.cfg.Enum(config.ServerInfo) {
	case "on":
		text = ss.srv.serverName + " Cyrus IMAP cyrusgo server ready"
	case "min":
		text = ss.srv.serverName + " server ready"
	}
	ss.w.UntaggedStatus("OK", "CAPABILITY "+ss.capabilities(), text)
	ss.w.Flush()
}

// handler is one command. It reads its own arguments (the reader is after
// the command name), writes its responses and returns the tagged result.
type handler func(ss *session, tag string) result

// result is the tagged response of a command. A nil *result-like zero
// value means OK Completed.
type result struct {
	status string // OK, NO, BAD; "" means OK
	code   string
	text   string
	err    error // a wire error: BAD for a syntax error, fatal for I/O
	skip   bool  // the rest of the line was already consumed
}

// answered is the status of a result whose tagged response the handler
// already sent (STARTTLS answers before the handshake).
const answered = "-"

func ok(text string) result           { return result{status: "OK", text: text} }
func okCode(code, text string) result { return result{status: "OK", code: code, text: text} }
func no(code, text string) result     { return result{status: "NO", code: code, text: text} }
func bad(text string) result          { return result{status: "BAD", text: text} }
func wireErr(err error) result        { return result{err: err} }

// command is a dispatch table entry.
type command struct {
	fn     handler
	states state
}

func (ss *session) loop() {
	for ss.state != stateLogout {
		ss.conn.SetReadDeadline(time.Now().Add(ss.srv.timeout))
		tag, err := ss.r.ReadTag()
		if err != nil {
			if !imapwire.IsClientError(err) {
				ss.disconnect(err)
				return
			}
			ss.w.Raw("* BAD " + clientText(err) + "\r\n")
			ss.r.SkipLine()
			if ss.tooManyBad() {
				return
			}
			ss.w.Flush()
			continue
		}
		name, err := ss.readCommandName()
		if err != nil {
			if !imapwire.IsClientError(err) {
				ss.disconnect(err)
				return
			}
			ss.respond(tag, bad("Missing command"))
			ss.r.SkipLine()
			if ss.tooManyBad() {
				return
			}
			continue
		}
		if looksLikeHTTP(tag, name) {
			ss.w.Raw("* BYE Not an IMAP client\r\n")
			ss.w.Flush()
			return
		}
		cmd, known := commands[name]
		if !known {
			ss.respond(tag, bad("Unrecognized command"))
			ss.r.SkipLine()
			if ss.tooManyBad() {
				return
			}
			continue
		}
		if cmd.states&ss.state == 0 {
			ss.r.SkipLine()
			switch {
			case ss.state == stateNotAuth:
				ss.respond(tag, bad("Please login first"))
			case cmd.states == stateNotAuth:
				ss.respond(tag, bad("Already authenticated"))
			default:
				ss.respond(tag, bad("Please select a mailbox first"))
			}
			continue
		}
		res := ss.run(cmd, tag)
		if res.err != nil && !imapwire.IsClientError(res.err) {
			ss.disconnect(res.err)
			return
		}
		if res.err != nil {
			ss.r.SkipLine()
			res = bad(clientText(res.err))
		}
		if res.status == answered {
			continue
		}
		ss.respond(tag, res)
		if res.status == "BAD" {
			if ss.tooManyBad() {
				return
			}
		} else {
			ss.bad = 0
		}
	}
}

// run calls a handler with a recover, so a bug in one command answers NO
// (and is logged) rather than taking the process down.
func (ss *session) run(cmd command, tag string) (res result) {
	defer func() {
		if p := recover(); p != nil {
			ss.srv.log.Error(fmt.Sprintf("panic in command from %s: %v", ss.clientHost, p))
			res = result{err: fmt.Errorf("internal error")}
			ss.state = stateLogout
		}
	}()
	return cmd.fn(ss, tag)
}

func (ss *session) readCommandName() (string, error) {
	if err := ss.r.SP(); err != nil {
		return "", err
	}
	name, err := ss.r.ReadAtom()
	if err != nil {
		return "", err
	}
	name = strings.ToUpper(name)
	if name == "UID" {
		if err := ss.r.SP(); err != nil {
			return "", err
		}
		sub, err := ss.r.ReadAtom()
		if err != nil {
			return "", err
		}
		name = "UID " + strings.ToUpper(sub)
	}
	return name, nil
}

func looksLikeHTTP(tag, name string) bool {
	switch strings.ToUpper(tag) {
	case "GET", "POST", "HEAD", "PUT", "OPTIONS", "CONNECT":
		return strings.HasPrefix(name, "/") || strings.HasPrefix(name, "HTTP")
	}
	return false
}

func (ss *session) tooManyBad() bool {
	ss.bad++
	if ss.bad >= maxBadCommands {
		ss.w.Raw("* BYE Too many protocol errors\r\n")
		ss.w.Flush()
		return true
	}
	ss.w.Flush()
	return false
}

// respond writes the tagged response and flushes.
func (ss *session) respond(tag string, res result) {
	status := res.status
	if status == "" {
		status = "OK"
	}
	text := res.text
	if text == "" {
		text = "Completed"
	}
	ss.w.Tagged(tag, status, res.code, text)
	ss.w.Flush()
}

func (ss *session) disconnect(err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		ss.w.Raw("* BYE Fatal error: idle timeout\r\n")
		ss.w.Flush()
		return
	}
}

func clientText(err error) string {
	var se *imapwire.SyntaxError
	if errors.As(err, &se) {
		return se.Msg
	}
	return err.Error()
}

// storeResult maps a store error to the tagged NO with Cyrus's response
// code and text.
func storeResult(err error) result {
	switch mailbox.CodeOf(err) {
	case mailbox.CodeNoPerm:
		return no("NOPERM", "Permission denied")
	case mailbox.CodeNonexistent:
		return no("NONEXISTENT", "Mailbox does not exist")
	case mailbox.CodeAlreadyExists:
		return no("ALREADYEXISTS", "Mailbox already exists")
	case mailbox.CodeOverQuota:
		return no("OVERQUOTA", "Over quota")
	case mailbox.CodeHasChildren:
		return no("HASCHILDREN", "Mailbox has children")
	case mailbox.CodeBadName:
		return no("CANNOT", err.Error())
	case mailbox.CodeLimit:
		return no("LIMIT", err.Error())
	case mailbox.CodeTemporary:
		return no("UNAVAILABLE", "Server unavailable, try again later")
	}
	return no("SERVERBUG", "System I/O error")
}

// toInternal converts a client's mailbox name (modified UTF-7 on the
// wire, UTF-8 in IMAP4rev2) to the internal name.
func (ss *session) toInternal(external string) (string, error) {
	dec, err := ss.decodeName(external)
	if err != nil {
		return "", err
	}
	return ss.ns.ToInternal(dec, ss.user)
}

// toExternal converts an internal name to the wire form.
func (ss *session) toExternal(internal string) (string, error) {
	ext, err := ss.ns.ToExternal(internal, ss.user)
	if err != nil {
		return "", err
	}
	return ss.encodeName(ext), nil
}
