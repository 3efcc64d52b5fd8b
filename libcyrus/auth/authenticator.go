package auth

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
)

// SASL mechanism names, and the name Cyrus logs for the LOGIN and USER/PASS
// commands.
const (
	MechSCRAMSHA256 = "SCRAM-SHA-256"
	MechSCRAMSHA1   = "SCRAM-SHA-1"
	MechPlain       = "PLAIN"
	MechLogin       = "LOGIN"
	// MechPlaintext is not a SASL mechanism: it names the IMAP LOGIN and
	// POP3 USER/PASS commands in Result.Mech and in log lines, as Cyrus's
	// "login: ... alice plaintext User logged in".
	MechPlaintext = "plaintext"
)

// allMechs is every mechanism cyrusgo implements, strongest first, the
// order libsasl lists them in.
func allMechs() []string {
	return []string{MechSCRAMSHA256, MechSCRAMSHA1, MechPlain, MechLogin}
}

// sendsPassword reports whether mech puts the password on the wire, so is
// subject to allowplaintext (libsasl's SASL_SEC_NOPLAINTEXT).
func sendsPassword(mech string) bool { return mech == MechPlain || mech == MechLogin }

// Result is a successful authentication.
type Result struct {
	// AuthID is the canonical authentication identity: whose password was
	// checked.
	AuthID string
	// AuthzID is the canonical authorization identity: the user the
	// session acts as. It equals AuthID unless an admin or proxy server
	// asked to act as someone else.
	AuthzID string
	// Mech is the SASL mechanism, or MechPlaintext for Login.
	Mech string
}

// Authenticator is the server side of authentication for one service.
type Authenticator struct {
	cfg     *config.Config
	checker *Checker
	logger  *slog.Logger
	service string
	// secret keys the fake SCRAM salts of unknown users, so that they are
	// stable for one process (a prober asking twice sees the same salt)
	// and unpredictable.
	secret [32]byte
	// nonce, when set, replaces SCRAM's random server nonce, so fuzz seeds
	// can hold complete exchanges. Tests only.
	nonce func() string
}

// NewAuthenticator returns the Authenticator of a service. cfg is the
// configuration resolved for the service (so that imaps_sasl_mech_list or
// lmtp_admins apply); service is the SASL service name saslauthd is told:
// "imap", "pop", "sieve" or "lmtp", as Cyrus's daemons say.
func NewAuthenticator(cfg *config.Config, checker *Checker, logger *slog.Logger, service string) *Authenticator {
	if logger == nil {
		logger = slog.Default()
	}
	a := &Authenticator{cfg: cfg, checker: checker, logger: logger, service: service}
	if _, err := rand.Read(a.secret[:]); err != nil {
		// crypto/rand does not fail on Linux; a zero secret would only
		// make unknown users' fake salts predictable.
		logger.Error(fmt.Sprintf("auth: random secret: %v", err))
	}
	return a
}

// Config returns the configuration the Authenticator reads.
func (a *Authenticator) Config() *config.Config { return a.cfg }

// PlaintextAllowed reports whether passwords may be sent in the clear on a
// connection: it is secure (TLS, or a Unix socket, as Cyrus counts it) or
// allowplaintext is set. IMAP advertises LOGINDISABLED and POP3 hides USER
// when it is false.
func (a *Authenticator) PlaintextAllowed(secure bool) bool {
	if a.cfg.Bool(config.TLSRequired) && !secure {
		return false
	}
	return secure || a.cfg.Bool(config.AllowPlaintext)
}

// Mechanisms returns the mechanisms to advertise on a connection, strongest
// first:
//   - none at all before TLS when tls_required is set;
//   - SCRAM-SHA-256 and SCRAM-SHA-1 when the native user store is among
//     the password checking methods (only it keeps SCRAM verifiers);
//   - PLAIN and LOGIN when PlaintextAllowed(secure);
//   - CRAM-MD5 and DIGEST-MD5 never: no store here keeps what they need.
//
// sasl_mech_list, when set, keeps only the mechanisms it names.
func (a *Authenticator) Mechanisms(secure bool) []string {
	if a.cfg.Bool(config.TLSRequired) && !secure {
		return nil
	}
	var out []string
	for _, m := range a.available() {
		if sendsPassword(m) && !a.PlaintextAllowed(secure) {
			continue
		}
		out = append(out, m)
	}
	return out
}

// available is what the store and sasl_mech_list allow, whatever the
// connection.
func (a *Authenticator) available() []string {
	list := a.cfg.List(config.SASLMechList)
	var out []string
	for _, m := range allMechs() {
		if strings.HasPrefix(m, "SCRAM-") && !a.checker.HasVerifiers() {
			continue
		}
		if len(list) > 0 && !slices.ContainsFunc(list, func(l string) bool { return strings.EqualFold(l, m) }) {
			continue
		}
		out = append(out, m)
	}
	return out
}

// StartOptions are what differ between protocols in an exchange.
type StartOptions struct {
	// SuccessData says the protocol can carry "additional data with
	// success" (RFC 4422 section 3.6; ManageSieve's OK (SASL "..."), RFC
	// 5804). Then SCRAM's server-final message comes with done; otherwise
	// it is sent as one more challenge, to be answered with an empty
	// response (IMAP, POP3, LMTP).
	SuccessData bool
	// AdminsOnly admits only users in admins, as Cyrus's lmtpd does for
	// LMTP AUTH ("only admins may authenticate").
	AdminsOnly bool
}

// Session is one SASL exchange. The protocol calls Next with each client
// response, decoded (DecodeResponse): first with the initial response, or
// nil when the client sent none, then with each answer to a challenge.
// Next returns the next challenge to send, or done. With done and a nil
// error the exchange succeeded and Result is valid; challenge may then
// hold additional data with success (only with StartOptions.SuccessData).
// Any error ends the exchange; it is an *Error. A Session belongs to one
// connection and is not safe for concurrent use.
type Session interface {
	Next(response []byte) (challenge []byte, done bool, err error)
	// Result returns the outcome of a successful exchange.
	Result() Result
	// Mech returns the mechanism name.
	Mech() string
}

// Start begins an exchange with mechanism mech (any case) on a connection
// that is secure (TLS or a Unix socket) or not. It fails with ErrEncrypt
// for a password mechanism refused on this connection, and ErrNoMech for
// a mechanism not offered at all. ctx bounds the password checks of the
// exchange (a saslauthd query) and should live as long as the connection.
func (a *Authenticator) Start(ctx context.Context, mech string, secure bool, opt StartOptions) (Session, error) {
	mech = strings.ToUpper(mech)
	if !slices.Contains(a.Mechanisms(secure), mech) {
		if slices.Contains(a.available(), mech) {
			return nil, newError(ErrEncrypt, "", fmt.Sprintf("mechanism %s requires TLS", mech), nil)
		}
		return nil, newError(ErrNoMech, "", fmt.Sprintf("mechanism %s not available", mech), nil)
	}
	switch mech {
	case MechPlain:
		return a.newPlain(ctx, opt), nil
	case MechLogin:
		return a.newLogin(ctx, opt), nil
	case MechSCRAMSHA1, MechSCRAMSHA256:
		return a.newSCRAM(ctx, mech, opt)
	}
	return nil, newError(ErrNoMech, "", fmt.Sprintf("mechanism %s not available", mech), nil)
}

// Login checks a user name and password given in the clear by IMAP LOGIN
// or POP3 USER/PASS, with the same rules as the PLAIN mechanism:
// refused (ErrEncrypt) unless PlaintextAllowed(secure).
func (a *Authenticator) Login(ctx context.Context, user, password string, secure bool) (Result, error) {
	if !a.PlaintextAllowed(secure) {
		return Result{}, newError(ErrEncrypt, user, "plaintext login requires TLS", nil)
	}
	authid, err := a.checkPassword(ctx, user, password)
	if err != nil {
		return Result{}, err
	}
	return a.authorize(authid, "", MechPlaintext, StartOptions{})
}

// checkPassword canonicalises user and checks password; it returns the
// canonical name.
func (a *Authenticator) checkPassword(ctx context.Context, user, password string) (string, error) {
	authid, err := CanonUser(a.cfg, user)
	if err != nil {
		return "", newError(ErrBadUser, printable(user), "bad userid authenticated", err)
	}
	if err := a.checker.Check(ctx, authid, password, a.service, ""); err != nil {
		return authid, err
	}
	return authid, nil
}

// authorize applies Cyrus's proxy policy (mysasl_proxy_policy) once the
// password or proof is right: the cross-realm rule, admins-only
// exchanges, and who may act as another user.
func (a *Authenticator) authorize(authid, authzid, mech string, opt StartOptions) (Result, error) {
	if err := checkRealm(a.cfg, authid); err != nil {
		return Result{}, err
	}
	admin := IsAdmin(a.cfg, authid)
	if opt.AdminsOnly && !admin {
		a.logger.Error(fmt.Sprintf("%s is not an admin", authid))
		return Result{}, newError(ErrNotAdmin, authid, "only admins may authenticate", nil)
	}
	effective := authid
	if authzid != "" {
		z, err := CanonUser(a.cfg, authzid)
		if err != nil {
			return Result{}, newError(ErrAuthzNotAllowed, authid, "bad authorization id", err)
		}
		if z != authid && !admin && !IsProxyServer(a.cfg, authid) {
			return Result{}, newError(ErrAuthzNotAllowed, authid, fmt.Sprintf("user %s is not allowed to proxy", authid), nil)
		}
		effective = z
	}
	return Result{AuthID: authid, AuthzID: effective, Mech: mech}, nil
}

// IsAdmin reports whether userid is in this service's admins.
func (a *Authenticator) IsAdmin(userid string) bool { return IsAdmin(a.cfg, userid) }

// printable makes a client-supplied name safe for a log line.
func printable(s string) string {
	if len(s) > MaxUserLen {
		s = s[:MaxUserLen]
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == '\uFFFD' {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
}
