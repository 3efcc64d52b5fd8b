// Package pop3server is the POP3 engine of pop3d: POP3 (RFC 1939) with
// the extensions Cyrus 3.6 offers (CAPA and response codes, RFC 2449; AUTH,
// RFC 5034; STLS, RFC 2595), over the mail store (package mailbox). The
// lines it sends are Cyrus's, so clients and admins' scripts see the same
// server; one file per command family.
//
// A session runs in one goroutine and holds no lock between commands. At
// login it takes a snapshot of the maildrop (its messages and sizes) and
// works on that snapshot until QUIT, as Cyrus's pop3d does: mail delivered
// meanwhile waits for the next session, and a message another session
// expunged stays listed (RETR then fails if its file is gone). DELE marks
// messages in the session only; QUIT expunges them in one commit (RFC 1939
// 6), and a session that ends any other way changes nothing.
//
// Output is buffered and flushed only when no further complete command is
// waiting, so a pipelining client (RFC 2449 6.6) gets its responses in
// large writes, and a message is streamed from its file, never read whole.
package pop3server

import (
	"bufio"
	"bytes"
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
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/auth"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
)

// Options configure a Server.
type Options struct {
	Config *config.Config
	Store  *mailbox.Store
	Auth   *auth.Authenticator
	// TLS is the server's TLS configuration, nil when TLS is disabled.
	TLS *tls.Config
	// ImplicitTLS is pop3d -s: the handshake comes before the greeting.
	ImplicitTLS bool
	// ExternalSSF is pop3d -p: the strength of a security layer outside
	// the server (a TLS proxy); above 1 it counts as encryption for
	// USER/PASS and PLAIN, as in Cyrus.
	ExternalSSF int
	Logger      *slog.Logger
	// Now is the clock (popminpoll); nil means time.Now.
	Now func() time.Time
	// FailDelay is the wait after the second failed login on a connection
	// (see auth.Delay); zero means auth.DefaultDelayBase, negative none.
	FailDelay time.Duration
}

// Server serves POP3 sessions. It is safe for concurrent use.
type Server struct {
	opts       Options
	cfg        *config.Config
	store      *mailbox.Store
	auth       *auth.Authenticator
	log        *slog.Logger
	now        func() time.Time
	serverName string
	timeout    time.Duration
	sessions   atomic.Uint64 // numbers session ids, as Cyrus's session_new_id
}

// Cyrus's names for this server in the greeting and CAPA IMPLEMENTATION.
const implementation = "Cyrus POP3 cyrusgo"

// New returns a Server.
func New(o Options) *Server {
	s := &Server{opts: o, cfg: o.Config, store: o.Store, auth: o.Auth, log: o.Logger, now: o.Now}
	if s.log == nil {
		s.log = logging.Discard()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.serverName = s.cfg.String(config.ServerName)
	if s.serverName == "" {
		s.serverName, _ = os.Hostname()
	}
	s.timeout = s.cfg.Duration(config.POPTimeout)
	if s.timeout < 10*time.Minute {
		// RFC 1939 3: an autologout timer is at least 10 minutes.
		s.timeout = 10 * time.Minute
	}
	return s
}

// state is the RFC 1939 3 session state. UPDATE is the QUIT command.
type state int

const (
	stateAuthorization state = 1 << iota
	stateTransaction
)

// Line limits. RFC 2449 4 sets 255 octets for a command; twice that
// leaves room for clients that stretch it (long user names, initial
// responses) without letting a line grow without bound. A SASL response
// to a challenge carries base64 of at most auth.MaxResponse octets.
const (
	maxCommandLine = 512
	maxSASLLine    = (auth.MaxResponse+2)/3*4 + 2
)

// maxBadCommands closes a connection after this many unrecognized or
// malformed commands in a row: whatever speaks there is not a POP3 client.
const maxBadCommands = 10

// errLineTooLong is a command or response line past its limit; the rest
// of the line has been read and discarded.
var errLineTooLong = errors.New("line too long")

// session is one client connection.
type session struct {
	srv        *Server
	ctx        context.Context
	conn       net.Conn
	br         *bufio.Reader
	bw         *bufio.Writer
	state      state
	secure     bool // TLS, a local socket or -p: passwords may be sent
	tlsActive  bool
	clientHost string
	sessionID  string
	delay      auth.Delay
	bad        int
	closing    bool

	// AUTHORIZATION state.
	user      string // canonical USER argument awaiting PASS
	subfolder string // "+folder" of a popsubfolders login

	// TRANSACTION state.
	userid    string
	mbox      *mailbox.Mailbox
	msgs      []message
	rights    acl.Rights
	loginTime time.Time
	msgReader *bufio.Reader // reused for every RETR and TOP

	counts struct{ retr, top, dele int }
}

// message is one message of the snapshot taken at login: RFC 1939's
// message number is its index plus one.
type message struct {
	uid     uint32
	seq     uint32 // sequence number in the mailbox view
	size    uint64
	deleted bool // DELE
	seen    bool // RETR, for popuseimapflags
}

// ServeConn runs one session; it returns when the client is gone.
func (s *Server) ServeConn(ctx context.Context, conn net.Conn) {
	ss := &session{
		srv:        s,
		ctx:        ctx,
		conn:       conn,
		state:      stateAuthorization,
		clientHost: auth.LookupClientHost(ctx, nil, conn.RemoteAddr()),
		sessionID:  s.newSessionID(),
		delay:      auth.Delay{Base: s.opts.FailDelay},
	}
	ss.secure = isLocal(conn) || s.opts.ExternalSSF > 1
	defer ss.cleanup()
	defer func() {
		// A bug in one session must not take the process, or other
		// sessions, down with it.
		if p := recover(); p != nil {
			s.log.Error(fmt.Sprintf("panic in POP3 session from %s: %v", ss.clientHost, p), "stack", string(debug.Stack()))
			if ss.bw != nil {
				ss.bw.WriteString("-ERR [SYS/PERM] Fatal error: internal error\r\n")
				ss.bw.Flush()
			}
		}
	}()
	if s.opts.ImplicitTLS {
		if s.opts.TLS == nil {
			s.log.Error("pop3s: required TLS options not present (tls_server_cert, tls_server_key); closing")
			return
		}
		tc := tls.Server(conn, s.opts.TLS)
		tc.SetDeadline(time.Now().Add(time.Minute))
		if err := tc.HandshakeContext(ctx); err != nil {
			s.log.Info(fmt.Sprintf("pop3s TLS negotiation failed: %s: %v", ss.clientHost, err))
			return
		}
		tc.SetDeadline(time.Time{})
		ss.conn = tc
		ss.secure, ss.tlsActive = true, true
	}
	ss.setupIO()
	stop := context.AfterFunc(ctx, func() {
		// Wake a session blocked on the client so it can say goodbye
		// (through TLS too: a tls.Conn's deadlines are conn's).
		conn.SetReadDeadline(time.Now())
	})
	defer stop()
	ss.greet()
	ss.loop()
}

func (s *Server) newSessionID() string {
	var b [8]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%d-%d-%d", s.serverName, s.now().Unix(), os.Getpid(), s.sessions.Add(1), binary.BigEndian.Uint64(b[:])>>1)
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
	ss.bw = bufio.NewWriterSize(&deadlineWriter{conn: ss.conn, timeout: ss.srv.timeout}, 32<<10)
}

// deadlineWriter gives every write to the client the autologout time to
// complete, so a client that stops reading in the middle of a long RETR
// is dropped rather than held forever.
type deadlineWriter struct {
	conn    net.Conn
	timeout time.Duration
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	d.conn.SetWriteDeadline(time.Now().Add(d.timeout))
	return d.conn.Write(p)
}

// cleanup ends the session as Cyrus's popd_reset does: the maildrop is
// closed (without committing anything unless QUIT did) and the counts
// line logged.
func (ss *session) cleanup() {
	if ss.bw != nil {
		ss.bw.Flush()
	}
	if ss.mbox != nil {
		ss.mbox.Close()
		ss.mbox = nil
	}
	ss.srv.log.Log(context.Background(), logging.LevelNotice,
		fmt.Sprintf("counts: retr=<%d> top=<%d> dele=<%d>", ss.counts.retr, ss.counts.top, ss.counts.dele))
}

// greet sends Cyrus's greeting. serverinfo decides how much it tells.
// There is no APOP timestamp: APOP needs the plaintext password, which
// no password store here keeps (see cmdAPOP).
func (ss *session) greet() {
	var b strings.Builder
	b.WriteString("+OK")
	switch ss.srv.cfg.Enum(config.ServerInfo) {
	case "on":
		b.WriteString(" " + ss.srv.serverName + " " + implementation)
	case "min":
		b.WriteString(" " + ss.srv.serverName)
	}
	b.WriteString(" server ready")
	ss.line(b.String())
}

// command is a dispatch table entry. fn gets the argument (arg) as Cyrus
// splits it, and hasArg false when the command came without one.
type command struct {
	fn     func(ss *session, arg string, hasArg bool)
	states state
}

// commands are the POP3 commands, by lower-case keyword.
var commands = map[string]command{
	"capa": {cmdCAPA, stateAuthorization | stateTransaction},
	"quit": {cmdQUIT, stateAuthorization | stateTransaction},
	"user": {cmdUSER, stateAuthorization},
	"pass": {cmdPASS, stateAuthorization},
	"apop": {cmdAPOP, stateAuthorization},
	"auth": {cmdAUTH, stateAuthorization},
	"stls": {cmdSTLS, stateAuthorization},
	"stat": {cmdSTAT, stateTransaction},
	"list": {cmdLIST, stateTransaction},
	"uidl": {cmdUIDL, stateTransaction},
	"retr": {cmdRETR, stateTransaction},
	"top":  {cmdTOP, stateTransaction},
	"dele": {cmdDELE, stateTransaction},
	"noop": {cmdNOOP, stateTransaction},
	"rset": {cmdRSET, stateTransaction},
}

func (ss *session) loop() {
	for !ss.closing {
		if err := ss.flushIfIdle(); err != nil {
			return
		}
		ss.conn.SetReadDeadline(time.Now().Add(ss.srv.timeout))
		if ss.ctx.Err() != nil {
			ss.shutdown()
			return
		}
		line, err := ss.readLine(maxCommandLine)
		if errors.Is(err, errLineTooLong) {
			ss.err("", "Line too long")
			ss.badCommand()
			continue
		}
		if err != nil {
			if ss.ctx.Err() != nil {
				ss.shutdown()
			}
			// RFC 1939 3: at the autologout timer, or when the client
			// goes away, the session ends without an UPDATE and without
			// a word.
			return
		}
		ss.dispatch(line)
	}
}

// dispatch parses a command line as Cyrus's cmdloop does: the keyword
// runs to the first white space, and the argument is the rest with
// leading white space removed, except for PASS, whose argument is the
// password exactly as sent (it may start with a space).
func (ss *session) dispatch(line string) {
	keyword, arg, hasArg := line, "", false
	if i := strings.IndexFunc(line, isSpace); i >= 0 {
		keyword, arg, hasArg = line[:i], line[i+1:], true
		if !strings.EqualFold(keyword, "pass") {
			arg = strings.TrimLeftFunc(arg, isSpace)
		}
		if arg == "" {
			if !strings.EqualFold(keyword, "auth") {
				ss.err("", "Syntax error")
				ss.badCommand()
				return
			}
			// Outlook sends "AUTH " to list the mechanisms.
			hasArg = false
		}
	}
	cmd, ok := commands[strings.ToLower(keyword)]
	if !ok || cmd.states&ss.state == 0 {
		// Cyrus answers a command given in the wrong state as if it did
		// not exist; RFC 2449 defines no response code for either.
		ss.err("", "Unrecognized command")
		ss.badCommand()
		return
	}
	ss.bad = 0
	cmd.fn(ss, arg, hasArg)
}

func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

func (ss *session) badCommand() {
	ss.bad++
	if ss.bad >= maxBadCommands {
		ss.err("SYS/PERM", "Too many bad commands, closing connection")
		ss.closing = true
	}
}

// shutdown answers a session interrupted by the process shutting down,
// as Cyrus does for its shutdown file; nothing is committed.
func (ss *session) shutdown() {
	ss.err("SYS/TEMP", "Server shutting down")
	ss.bw.Flush()
	ss.closing = true
}

// readLine reads one line of at most limit octets, CRLF included, and
// returns it without its line end (a bare LF is accepted, as Cyrus
// does). A longer line is read to its end and discarded.
func (ss *session) readLine(limit int) (string, error) {
	var line []byte
	for {
		chunk, err := ss.br.ReadSlice('\n')
		if len(line)+len(chunk) > limit {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = ss.br.ReadSlice('\n')
			}
			if err != nil {
				return "", err
			}
			return "", errLineTooLong
		}
		line = append(line, chunk...)
		if err == nil {
			line = bytes.TrimSuffix(line, []byte("\n"))
			line = bytes.TrimSuffix(line, []byte("\r"))
			return string(line), nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", err
		}
	}
}

// flushIfIdle flushes the output unless a complete command is already
// waiting: pipelined commands (RFC 2449 6.6) are answered in one write.
func (ss *session) flushIfIdle() error {
	if n := ss.br.Buffered(); n > 0 {
		b, _ := ss.br.Peek(n)
		if bytes.IndexByte(b, '\n') >= 0 {
			return nil
		}
	}
	return ss.bw.Flush()
}

// line writes one response line.
func (ss *session) line(s string) {
	ss.bw.WriteString(s)
	ss.bw.WriteString("\r\n")
}

// ok writes "+OK text".
func (ss *session) ok(text string) {
	if text == "" {
		ss.line("+OK")
		return
	}
	ss.line("+OK " + text)
}

// err writes "-ERR [code] text" (RFC 2449 8: the code in brackets first).
func (ss *session) err(code, text string) {
	if code != "" {
		ss.line("-ERR [" + code + "] " + text)
		return
	}
	ss.line("-ERR " + text)
}

// endMulti ends a multi-line response (RFC 1939 3). The terminator is
// never split across two writes: some clients stumble when ".\r\n" comes
// in pieces, which is why Cyrus flushes before it.
func (ss *session) endMulti() {
	if ss.bw.Available() < 3 {
		ss.bw.Flush()
	}
	ss.bw.WriteString(".\r\n")
}

// isIOError reports whether err is the client connection failing, after
// which the session cannot go on.
func isIOError(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrClosedPipe) || errors.As(err, &ne)
}
