package auth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
)

// The lines Cyrus writes for logins, which admins' scripts and fail2ban
// filters match (imap/imapd.c, pop3d.c, lmtpengine.c, timsieved):
//
//	login: localhost [127.0.0.1] alice plaintext User logged in SESSIONID=<...>
//	login: localhost [127.0.0.1] alice PLAIN+TLS User logged in
//	badlogin: localhost [127.0.0.1] plaintext (alice) [SASL(-13): authentication failure: checkpass failed]
//
// Both are logged at notice level. No line ever holds a password.

// LoginLine formats a successful login: clientHost as ClientHost gives it,
// the user the session acts as, the mechanism (MechPlaintext for LOGIN and
// USER/PASS) with "+TLS" when TLS is on, and the session id when the
// protocol has one (lmtpd and timsieved log none).
func LoginLine(clientHost, userid, mech string, tls bool, sessionID string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "login: %s %s %s", clientHost, printable(userid), mech)
	if tls {
		b.WriteString("+TLS")
	}
	b.WriteString(" User logged in")
	if sessionID != "" {
		fmt.Fprintf(&b, " SESSIONID=<%s>", sessionID)
	}
	return b.String()
}

// BadLoginLine formats a failed login: the client, the mechanism, the user
// the client named ("-notset-" when it named none, as Cyrus prints) and
// libsasl's detail, which err (an *Error) carries.
func BadLoginLine(clientHost, mech string, err error) string {
	user := "-notset-"
	detail := "SASL(-1): generic failure"
	var e *Error
	if errors.As(err, &e) {
		if e.User != "" {
			user = printable(e.User)
		}
		detail = e.Error()
	} else if err != nil {
		detail = fmt.Sprintf("SASL(-1): generic failure: %v", err)
	}
	return fmt.Sprintf("badlogin: %s %s (%s) [%s]", clientHost, mech, user, detail)
}

// LogLogin writes LoginLine for r at notice level.
func (a *Authenticator) LogLogin(clientHost string, r Result, tls bool, sessionID string) {
	a.logger.Log(context.Background(), logging.LevelNotice, LoginLine(clientHost, r.AuthzID, r.Mech, tls, sessionID))
}

// LogBadLogin writes BadLoginLine at notice level. A client's cancel is
// not a failed login and is not logged, as in Cyrus.
func (a *Authenticator) LogBadLogin(clientHost, mech string, err error) {
	if errors.Is(err, ErrCanceled) {
		return
	}
	a.logger.Log(context.Background(), logging.LevelNotice, BadLoginLine(clientHost, mech, err))
}

// ClientHost formats a peer as Cyrus names it in log lines: "name [ip]"
// when the address has a reverse name, "[ip]" when not, and "[local]" for
// a Unix socket or stdio connection. name is the reverse lookup result
// (LookupClientHost), empty for none.
func ClientHost(name string, addr net.Addr) string {
	ip := ""
	switch a := addr.(type) {
	case *net.TCPAddr:
		ip = a.IP.String()
	case nil:
	default:
		if a.Network() == "tcp" || a.Network() == "tcp4" || a.Network() == "tcp6" {
			if h, _, err := net.SplitHostPort(a.String()); err == nil {
				ip = h
			}
		}
	}
	if ip == "" {
		return "[local]"
	}
	if name == "" {
		return "[" + ip + "]"
	}
	return name + " [" + ip + "]"
}

// LookupClientHost is ClientHost with the reverse lookup done, bounded by
// a short timeout so a slow resolver cannot hold up a greeting.
func LookupClientHost(ctx context.Context, r *net.Resolver, addr net.Addr) string {
	name := ""
	if ta, ok := addr.(*net.TCPAddr); ok {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if r == nil {
			r = net.DefaultResolver
		}
		if names, err := r.LookupAddr(ctx, ta.IP.String()); err == nil && len(names) > 0 {
			name = strings.TrimSuffix(names[0], ".")
		}
	}
	return ClientHost(name, addr)
}
