// Package smtpclient sends the mail lmtpd generates (Sieve redirects,
// vacation replies, rejection notices, enotify mailto) the way Cyrus 3.6's
// smtpclient does, over SMTP in both of its backends:
//
//   - smtp_backend: sendmail runs the program named by the sendmail option
//     as "sendmail -bs" and speaks SMTP (RFC 5321 4.5.1's minimum) over its
//     standard input and output;
//   - smtp_backend: host connects to smtp_host ("host[:port]", port 587 by
//     default; "/tls" for STARTTLS, "/noauth" to never authenticate) and
//     authenticates with AUTH PLAIN when smtp_auth_authname is set.
//
// As in Cyrus, MAIL FROM carries AUTH=<user> when the server offers AUTH,
// and the DSN (RFC 3461) and deliver-by (RFC 2852) parameters of a
// redirect when the server offers those extensions; SIZE when it offers
// SIZE. Every Send is one session; nothing is shared between calls, so a
// Sender may be used concurrently.
package smtpclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
)

// DefaultTimeout bounds one whole session when Options.Timeout is zero.
const DefaultTimeout = 2 * time.Minute

// heloName is what Cyrus's smtpclient says in EHLO.
const heloName = "localhost"

// Options configure a Sender.
type Options struct {
	// Backend is "sendmail" (the default) or "host".
	Backend string
	// Sendmail is the program of the sendmail backend.
	Sendmail string
	// Host is smtp_host: "host[:port][/tls][/noauth]".
	Host string
	// AuthName and Password are the AUTH PLAIN credentials of the host
	// backend; no authentication without AuthName.
	AuthName, Password string
	// TLS is the client configuration for "/tls"; ServerName is filled
	// in from Host. Nil means the system's roots.
	TLS *tls.Config
	// Timeout bounds one session; zero means DefaultTimeout.
	Timeout time.Duration
	Logger  *slog.Logger
}

// FromConfig returns the Options of imapd.conf: smtp_backend, sendmail,
// smtp_host, smtp_auth_authname, smtp_auth_password, and
// tls_server_ca_file for verifying the host's certificate.
func FromConfig(cfg *config.Config, logger *slog.Logger) (Options, error) {
	o := Options{
		Backend:  cfg.Enum(config.SMTPBackend),
		Sendmail: cfg.String(config.Sendmail),
		Host:     cfg.String(config.SMTPHost),
		AuthName: cfg.String(config.SMTPAuthAuthName),
		Password: cfg.String(config.SMTPAuthPassword),
		Logger:   logger,
	}
	if ca := cfg.String(config.TLSServerCAFile); ca != "" && ca != "disabled" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		pem, err := os.ReadFile(ca)
		if err != nil {
			return o, fmt.Errorf("tls_server_ca_file: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return o, fmt.Errorf("tls_server_ca_file %s: no PEM certificate", ca)
		}
		o.TLS = &tls.Config{RootCAs: pool}
	}
	return o, nil
}

// Sender sends messages; see the package comment.
type Sender struct {
	o      Options
	addr   string // host:port, host backend
	host   string // host name, for TLS
	tls    bool
	noauth bool
}

// New checks o and returns its Sender.
func New(o Options) (*Sender, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	s := &Sender{o: o}
	switch o.Backend {
	case "", "sendmail":
		s.o.Backend = "sendmail"
		if o.Sendmail == "" {
			return nil, errors.New("smtp_backend sendmail: no sendmail program")
		}
	case "host":
		if err := s.parseHost(o.Host); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("smtp_backend: unknown backend %q", o.Backend)
	}
	return s, nil
}

// parseHost reads smtp_host: an address with an optional port (587 by
// default, IPv6 literals in brackets), then "/tls" and "/noauth" flags.
func (s *Sender) parseHost(v string) error {
	parts := strings.Split(strings.TrimSpace(v), "/")
	addr := parts[0]
	for _, f := range parts[1:] {
		switch strings.ToLower(f) {
		case "tls":
			s.tls = true
		case "noauth":
			s.noauth = true
		default:
			return fmt.Errorf("smtp_host %q: unknown flag %q", v, f)
		}
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]"), "587"
	}
	if host == "" {
		return fmt.Errorf("smtp_host %q: no host", v)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("smtp_host %q: bad port: %w", v, err)
	}
	s.host, s.addr = host, net.JoinHostPort(host, port)
	return nil
}

// Envelope is the SMTP envelope of one message.
type Envelope struct {
	// From is the reverse-path without brackets, "" for the null path.
	From string
	To   []string
	// AuthID is the user the message is sent for: MAIL FROM's AUTH=
	// when the server offers AUTH (RFC 4954 5).
	AuthID string
	// Notify and Ret are the DSN parameters (RFC 3461), By the
	// deliver-by one (RFC 2852), each sent only when offered.
	Notify, Ret, By string
}

// Send delivers msg to env.To in one SMTP session. An error means the
// message was not accepted for every recipient.
func (s *Sender) Send(ctx context.Context, env Envelope, msg []byte) error {
	if len(env.To) == 0 {
		return errors.New("smtp: no recipients")
	}
	if !validPath(env.From) {
		return fmt.Errorf("smtp: invalid sender %q", env.From)
	}
	for _, to := range env.To {
		if to == "" || !validPath(to) {
			return fmt.Errorf("smtp: invalid recipient %q", to)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	var (
		conn net.Conn
		wait func() error
		err  error
	)
	if s.o.Backend == "host" {
		var d net.Dialer
		conn, err = d.DialContext(ctx, "tcp", s.addr)
		if err != nil {
			return fmt.Errorf("smtp_host %s: %w", s.addr, err)
		}
	} else {
		conn, wait, err = startSendmail(ctx, s.o.Sendmail)
		if err != nil {
			return err
		}
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	err = s.session(conn, env, msg)
	conn.Close()
	if wait != nil {
		if werr := wait(); werr != nil && err == nil {
			// The message was accepted; only log the exit.
			s.o.Logger.Info(fmt.Sprintf("smtpclient: %s", werr))
		}
	}
	return err
}

// session is one SMTP exchange over conn.
func (s *Sender) session(conn net.Conn, env Envelope, msg []byte) error {
	where := s.o.Sendmail
	if s.o.Backend == "host" {
		where = s.addr
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		return fmt.Errorf("smtp %s: greeting: %w", where, err)
	}
	defer c.Close()
	// Hello falls back to HELO when EHLO is refused (RFC 5321 4.1.4).
	if err := c.Hello(heloName); err != nil {
		return fmt.Errorf("smtp %s: EHLO: %w", where, err)
	}
	if s.tls {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("smtp %s: /tls asked for but STARTTLS not offered", where)
		}
		cfg := &tls.Config{}
		if s.o.TLS != nil {
			cfg = s.o.TLS.Clone()
		}
		cfg.ServerName = s.host
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("smtp %s: STARTTLS: %w", where, err)
		}
	}
	if s.o.Backend == "host" && s.o.AuthName != "" && !s.noauth {
		if err := c.Auth(plainAuth{user: s.o.AuthName, pass: s.o.Password}); err != nil {
			return fmt.Errorf("smtp %s: AUTH: %w", where, err)
		}
	}
	if err := mailFrom(c, env, len(msg)); err != nil {
		return fmt.Errorf("smtp %s: MAIL FROM:<%s>: %w", where, env.From, err)
	}
	for _, to := range env.To {
		if err := rcptTo(c, to, env); err != nil {
			return fmt.Errorf("smtp %s: RCPT TO:<%s>: %w", where, to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp %s: DATA: %w", where, err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("smtp %s: sending the message: %w", where, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp %s: end of data: %w", where, err)
	}
	if err := c.Quit(); err != nil {
		s.o.Logger.Info(fmt.Sprintf("smtpclient: QUIT without reply: %v", err))
	}
	return nil
}

// mailFrom sends MAIL FROM with the parameters the server offers.
func mailFrom(c *smtp.Client, env Envelope, size int) error {
	cmd := "MAIL FROM:<" + env.From + ">"
	if ok, _ := c.Extension("AUTH"); ok && env.AuthID != "" {
		cmd += " AUTH=" + xtext(env.AuthID)
	}
	if ok, _ := c.Extension("DSN"); ok && validParam(env.Ret) {
		cmd += " RET=" + env.Ret
	}
	if ok, _ := c.Extension("DELIVERBY"); ok && validParam(env.By) {
		cmd += " BY=" + env.By
	}
	if ok, _ := c.Extension("SIZE"); ok {
		cmd += " SIZE=" + strconv.Itoa(size)
	}
	return command(c, 250, cmd)
}

func rcptTo(c *smtp.Client, to string, env Envelope) error {
	cmd := "RCPT TO:<" + to + ">"
	if ok, _ := c.Extension("DSN"); ok && validParam(env.Notify) {
		cmd += " NOTIFY=" + env.Notify
	}
	return command(c, 25, cmd)
}

// command sends one line and reads its reply, which must start with
// expect ("25" accepts 250 and 251).
func command(c *smtp.Client, expect int, line string) error {
	id, err := c.Text.Cmd("%s", line)
	if err != nil {
		return err
	}
	c.Text.StartResponse(id)
	defer c.Text.EndResponse(id)
	_, _, err = c.Text.ReadResponse(expect)
	return err
}

// validPath accepts an address that can go between angle brackets on a
// command line.
func validPath(a string) bool {
	return !strings.ContainsAny(a, "<>\r\n\x00 \t") && len(a) <= 512
}

// validParam accepts an ESMTP parameter value (RFC 5321 4.1.2 esmtp-value).
func validParam(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '!' || v[i] > '~' || v[i] == '=' {
			return false
		}
	}
	return true
}

// xtext encodes an AUTH= value (RFC 3461 4).
func xtext(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '!' && c <= '~' && c != '+' && c != '=' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "+%02X", c)
		}
	}
	return b.String()
}

// plainAuth is SASL PLAIN (RFC 4616). Unlike net/smtp's PlainAuth it
// does not refuse an unencrypted connection: the administrator chose the
// host and its "/tls", as with Cyrus.
type plainAuth struct{ user, pass string }

func (a plainAuth) Start(si *smtp.ServerInfo) (string, []byte, error) {
	offered := false
	for _, m := range si.Auth {
		offered = offered || strings.EqualFold(m, "PLAIN")
	}
	if !offered {
		return "", nil, fmt.Errorf("the server offers no AUTH PLAIN (%s)", strings.Join(si.Auth, " "))
	}
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass), nil
}

func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected AUTH PLAIN challenge")
	}
	return nil, nil
}
