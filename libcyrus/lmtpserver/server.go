// Package lmtpserver is the LMTP engine of lmtpd (RFC 2033): the
// conversation with the MTA, recipient resolution, the assembly of the
// message as Cyrus stores it (trace headers, header checks) and its
// delivery into the mail store, one reply per recipient.
//
// The replies are Cyrus 3.6's, byte for byte where an MTA or an admin's
// script could look (see ../../shared/reference/cyrus-3.6/lmtp_*.txt):
// "250 2.1.5 ok" to RCPT, "550 5.1.1 User unknown" after Cyrus's two
// explanatory lines, "452 4.2.2 Over quota SESSIONID=<...>". Beyond Cyrus
// it offers CHUNKING (BDAT, RFC 3030).
//
// One file per command family: lhlo.go (LHLO, STARTTLS, AUTH),
// envelope.go (MAIL, RCPT, RSET, NOOP, VRFY, QUIT), data.go (DATA, BDAT),
// message.go (the message as stored), recipient.go (who a RCPT names),
// deliver.go (into the mailboxes, exactly once).
//
// A session runs in one goroutine (BDAT adds one that stages the message
// while the chunks arrive); it holds no store lock between commands and
// never while it writes to the client.
package lmtpserver

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
	"sync/atomic"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/auth"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/duplicate"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
)

// Version is what the greeting and the Received header call the server.
const Version = "cyrusgo"

// DefaultTimeout is how long a client may stay silent, as Cyrus's
// prot_settimeout(deliver_in, 360).
const DefaultTimeout = 6 * time.Minute

// maxLine bounds a command line, as Cyrus's 4096-byte buffer; RFC 5321
// 4.5.3.1.4 asks for 512 at least.
const maxLine = 4096

// maxRecipients bounds one transaction; RFC 5321 4.5.3.1.8 asks for 100 at
// least.
const maxRecipients = 10000

// Options configure a Server.
type Options struct {
	// Config is imapd.conf resolved for the service.
	Config *config.Config
	Store  *mailbox.Store
	// Dupes records deliveries for duplicatesuppression; nil disables it.
	Dupes *duplicate.Suppressor
	Auth  *auth.Authenticator
	// TLS is nil when no certificate is configured.
	TLS *tls.Config
	// ImplicitTLS is lmtpd -s: the handshake comes before the greeting.
	ImplicitTLS bool
	// PreAuth is lmtpd -a: TCP connections need no AUTH. Unix socket
	// connections never do, as in Cyrus.
	PreAuth bool
	Logger  *slog.Logger
	// Sieve, when set, runs for each user recipient before the default
	// keep (see SieveFunc).
	Sieve SieveFunc
	// Now replaces time.Now (tests).
	Now func() time.Time
	// Timeout replaces DefaultTimeout.
	Timeout time.Duration
	// AuthDelay paces failed AUTH attempts; the zero value is auth.Delay's
	// defaults.
	AuthDelay auth.Delay
}

// Server serves LMTP sessions. It is safe for concurrent use by several
// sessions (client_limit).
type Server struct {
	opts        Options
	cfg         *config.Config
	store       *mailbox.Store
	log         *slog.Logger
	now         func() time.Time
	timeout     time.Duration
	serverName  string
	serverInfo  bool
	maxSize     int64
	sessionBase string
	pid         int

	// Per-process counters, as Cyrus's session_id_count and msgid_count.
	sessionCount atomic.Uint64
	msgidCount   atomic.Uint64

	downcase       bool
	fuzzy          bool
	catchall       string
	overQuotaPerm  bool
	strictQuota    bool
	reject8bit     bool
	munge8bit      bool
	strict2821     bool
	softNoAuth     bool
	postUser       string
	postmaster     string
	singleInstance bool
	autocreate     bool
}

// New returns a Server.
func New(o Options) *Server {
	cfg := o.Config
	s := &Server{opts: o, cfg: cfg, store: o.Store, log: o.Logger, now: o.Now, timeout: o.Timeout, pid: os.Getpid()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	s.serverName = cfg.String(config.ServerName)
	if s.serverName == "" {
		s.serverName, _ = os.Hostname()
	}
	s.serverInfo = cfg.Enum(config.ServerInfo) == "on"
	s.maxSize = cfg.Size(config.MaxMessageSize)
	s.sessionBase = cfg.String(config.SyslogPrefix)
	if s.sessionBase == "" {
		s.sessionBase = s.serverName
	}
	s.downcase = cfg.Bool(config.LMTPDowncaseRcpt)
	s.fuzzy = cfg.Bool(config.LMTPFuzzyMailboxMatch)
	s.catchall = cfg.String(config.LMTPCatchAllMailbox)
	s.overQuotaPerm = cfg.Bool(config.LMTPOverQuotaPermFailure)
	s.strictQuota = cfg.Bool(config.LMTPStrictQuota)
	s.reject8bit = cfg.Bool(config.Reject8Bit)
	s.munge8bit = cfg.Bool(config.Munge8Bit)
	s.strict2821 = cfg.Bool(config.LMTPStrictRFC2821)
	s.softNoAuth = cfg.Bool(config.SoftNoAuth)
	s.postUser = cfg.String(config.PostUser)
	s.postmaster = cfg.String(config.Postmaster)
	s.singleInstance = cfg.Bool(config.SingleInstanceStore)
	s.autocreate = cfg.Bool(config.AutocreatePost) && cfg.Int(config.AutocreateQuota) >= 0
	return s
}

// newSessionID is Cyrus's session_new_id: <syslog_prefix or
// servername>-<time>-<pid>-<count>-<random>.
func (s *Server) newSessionID() string {
	var b [8]byte
	rand.Read(b[:])
	n := s.sessionCount.Add(1)
	return fmt.Sprintf("%s-%d-%d-%d-%d", s.sessionBase, s.now().Unix(), s.pid, n, binary.BigEndian.Uint64(b[:]))
}

// authState is Cyrus's clientdata.authenticated.
type authState int

const (
	authNone     authState = iota
	authExternal           // pre-authorized (Unix socket, -a): AUTH still allowed
	authDone               // AUTH succeeded
)

// session is one client connection.
type session struct {
	srv        *Server
	ctx        context.Context
	conn       net.Conn
	io         *deadlineConn
	br         *bufio.Reader
	bw         *bufio.Writer
	clientHost string
	preauth    bool
	auth       authState
	authUser   string
	tlsState   *tls.ConnectionState
	lhlo       string
	sessionID  string
	delay      auth.Delay
	txn        txn
	bdat       *bdatTransfer
	quit       bool
	// stopped is set when the process shuts down: reads fail from then on.
	stopped atomic.Bool
}

// ServeConn runs one session; it returns when the client is gone.
func (s *Server) ServeConn(ctx context.Context, conn net.Conn) {
	ss := &session{srv: s, ctx: ctx, conn: conn, delay: s.opts.AuthDelay}
	tcp := isTCP(conn.RemoteAddr())
	if tcp {
		ss.clientHost = auth.LookupClientHost(ctx, nil, conn.RemoteAddr())
	} else {
		// Cyrus's get_clienthost names a local socket so.
		ss.clientHost = "[unix socket]"
	}
	// A Unix socket is trusted: the MTA on this machine delivers through
	// it (Cyrus's lmtpmode sets preauth for any non-internet socket).
	ss.preauth = s.opts.PreAuth || !tcp
	if ss.preauth {
		ss.auth = authExternal
	}
	ss.sessionID = s.newSessionID()
	defer ss.txn.reset()
	defer ss.abortBDAT()

	if s.opts.ImplicitTLS {
		if s.opts.TLS == nil {
			s.log.Error("lmtps: no TLS certificate configured (tls_server_cert); closing")
			return
		}
		tc := tls.Server(conn, s.opts.TLS)
		tc.SetDeadline(time.Now().Add(time.Minute))
		if err := tc.HandshakeContext(ctx); err != nil {
			s.log.Info(fmt.Sprintf("lmtps TLS negotiation failed: %s: %v", ss.clientHost, err))
			return
		}
		tc.SetDeadline(time.Time{})
		st := tc.ConnectionState()
		ss.conn, ss.tlsState = tc, &st
	}
	ss.setupIO()
	// The raw connection never changes (TLS reads through it), so a
	// deadline set on it wakes whatever read is pending.
	raw := conn
	stop := context.AfterFunc(ctx, func() {
		ss.stopped.Store(true)
		raw.SetReadDeadline(time.Now())
	})
	defer stop()

	s.log.Debug(fmt.Sprintf("connection from %s%s", ss.clientHost, map[bool]string{true: " preauth'd as postman"}[ss.preauth]))
	greeting := "220 " + s.serverName
	if s.serverInfo {
		greeting += " Cyrus LMTP " + Version
	}
	ss.reply(greeting + " server ready")
	ss.loop()
	ss.flush()
}

func isTCP(a net.Addr) bool {
	if a == nil {
		return false
	}
	switch a.Network() {
	case "tcp", "tcp4", "tcp6":
		return true
	}
	return false
}

func (ss *session) setupIO() {
	ss.bw = bufio.NewWriterSize(ss.conn, 4<<10)
	ss.io = &deadlineConn{conn: ss.conn, timeout: ss.srv.timeout, flush: ss.bw, stopped: &ss.stopped}
	ss.br = bufio.NewReaderSize(ss.io, 64<<10)
}

// reply queues one reply line; it goes out before the next read that
// would block (RFC 2920 3.2: a server may batch replies to pipelined
// commands, and must flush before it waits).
func (ss *session) reply(line string) {
	ss.bw.WriteString(line)
	ss.bw.WriteString("\r\n")
}

func (ss *session) replyf(format string, args ...any) {
	ss.reply(fmt.Sprintf(format, args...))
}

// command is a dispatch table entry. Cyrus matches "LHLO " and friends
// with their space, and DATA, RSET, NOOP, QUIT, STARTTLS exactly: a
// command given an argument it takes none of (or none it needs) is a
// syntax error.
type command struct {
	fn     func(ss *session, arg string)
	hasArg bool
}

var commands = map[string]command{
	"LHLO":     {cmdLHLO, true},
	"STARTTLS": {cmdStartTLS, false},
	"AUTH":     {cmdAuth, true},
	"MAIL":     {cmdMail, true},
	"RCPT":     {cmdRcpt, true},
	"DATA":     {cmdData, false},
	"BDAT":     {cmdBDAT, true},
	"RSET":     {cmdRset, false},
	"NOOP":     {cmdNoop, false},
	"VRFY":     {cmdVrfy, true},
	"QUIT":     {cmdQuit, false},
}

const (
	replySyntax    = "500 5.5.2 Syntax error"
	replyLineLong  = "500 5.5.2 Line too long"
	replyShutdown  = "421 4.3.2 Server shutting down"
	replyNeedAuthT = "430 Authentication required"
	replyNeedAuthP = "530 Authentication required"
)

func (ss *session) loop() {
	for !ss.quit {
		line, err := ss.readLine()
		if errors.Is(err, errLineTooLong) {
			ss.reply(replyLineLong)
			continue
		}
		if err != nil {
			ss.disconnect(err)
			return
		}
		ss.dispatch(line)
	}
}

// dispatch runs one command line.
func (ss *session) dispatch(line string) {
	verb, arg, hasArg := strings.Cut(line, " ")
	cmd, ok := commands[strings.ToUpper(verb)]
	if !ok || cmd.hasArg != hasArg {
		ss.reply(replySyntax)
		return
	}
	cmd.fn(ss, arg)
}

// disconnect ends a session whose input failed: a client gone, a timeout
// or a shutdown.
func (ss *session) disconnect(err error) {
	switch {
	case errors.Is(err, errShutdown):
		ss.reply(replyShutdown)
	case isTimeout(err):
		ss.reply("421 4.4.1 bye idle for too long")
		ss.srv.log.Info(fmt.Sprintf("%s: timed out", ss.clientHost))
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), errors.Is(err, io.ErrUnexpectedEOF):
	default:
		ss.srv.log.Debug(fmt.Sprintf("%s: read error: %v", ss.clientHost, err))
	}
	ss.flush()
}

// flush sends the queued replies, waiting at most the session timeout.
func (ss *session) flush() error {
	ss.conn.SetWriteDeadline(time.Now().Add(ss.srv.timeout))
	return ss.bw.Flush()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

var errLineTooLong = errors.New("line too long")

// readLine reads one command line without its line end (CRLF, or a bare
// LF, which Cyrus accepts too).
func (ss *session) readLine() (string, error) {
	line, err := ss.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) || (err == nil && len(line) > maxLine) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = ss.br.ReadSlice('\n')
		}
		if err != nil {
			return "", err
		}
		return "", errLineTooLong
	}
	if err != nil {
		if len(line) > 0 && errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return "", err
	}
	s := strings.TrimSuffix(string(line), "\n")
	return strings.TrimSuffix(s, "\r"), nil
}

// errShutdown is what reads return once the process is shutting down.
var errShutdown = errors.New("server shutting down")

// deadlineConn is the session's input: every read first sends the replies
// waiting in the output buffer (the client may be waiting for them before
// it sends more), then waits at most the session timeout, or until the
// process shuts down.
type deadlineConn struct {
	conn    net.Conn
	timeout time.Duration
	flush   *bufio.Writer
	stopped *atomic.Bool
}

func (d *deadlineConn) Read(p []byte) (int, error) {
	if d.stopped.Load() {
		return 0, errShutdown
	}
	if d.flush.Buffered() > 0 {
		d.conn.SetWriteDeadline(time.Now().Add(d.timeout))
		if err := d.flush.Flush(); err != nil {
			return 0, err
		}
	}
	d.conn.SetReadDeadline(time.Now().Add(d.timeout))
	// Looked at again after the deadline is set: a shutdown between the
	// first look and here set its own deadline before this one.
	if d.stopped.Load() {
		return 0, errShutdown
	}
	n, err := d.conn.Read(p)
	if err != nil && d.stopped.Load() {
		return n, errShutdown
	}
	return n, err
}
