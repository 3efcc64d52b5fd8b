package auth

import (
	"errors"
	"fmt"
)

// Kinds of authentication failure. Every error this package returns from a
// check, a Login or a Session step is an *Error whose Kind is one of these,
// so errors.Is(err, ErrBadPassword) works and a protocol maps kinds to its
// replies: ErrCanceled and ErrMalformed to BAD, ErrTemporary to a temporary
// failure ([UNAVAILABLE], LMTP 4xx), the rest to NO.
var (
	// ErrBadPassword: the password (or SCRAM proof) is wrong.
	ErrBadPassword = errors.New("bad password")
	// ErrNoUser: no method knows the user. Never told to the client
	// (PublicMessage says "authentication failure", as Cyrus does, so
	// that users cannot be probed), only logged.
	ErrNoUser = errors.New("no such user")
	// ErrTemporary: the password could not be checked (saslauthd down, the
	// users database unreadable, an unsupported sasl_pwcheck_method).
	ErrTemporary = errors.New("password check unavailable")
	// ErrBadUser: the user name cannot be a Cyrus userid.
	ErrBadUser = errors.New("invalid user name")
	// ErrAuthzNotAllowed: an authorization identity other than the
	// authentication identity was asked for by a user that is neither in
	// admins nor in proxyservers.
	ErrAuthzNotAllowed = errors.New("authzid not allowed")
	// ErrCrossRealm: user@realm from a realm not in loginrealms.
	ErrCrossRealm = errors.New("cross-realm login denied")
	// ErrNotAdmin: the exchange allows admins only (LMTP AUTH).
	ErrNotAdmin = errors.New("only admins may authenticate")
	// ErrNoMech: the mechanism is unknown or not offered.
	ErrNoMech = errors.New("mechanism not available")
	// ErrEncrypt: the mechanism (or the LOGIN command) sends the password
	// in the clear and the connection is neither TLS nor local while
	// allowplaintext is off, or tls_required is set.
	ErrEncrypt = errors.New("encryption needed")
	// ErrMalformed: the client's response cannot be parsed.
	ErrMalformed = errors.New("malformed client response")
	// ErrCanceled: the client sent "*" (RFC 4422 section 3.5).
	ErrCanceled = errors.New("authentication canceled")
)

// ErrUserExists is returned by AddUser for a user already in the store.
var ErrUserExists = errors.New("user already exists")

// libsasl result codes and their sasl_errstring texts (sasl.h, common.c).
// Cyrus logs them in badlogin lines and sends the text to clients, so
// admins' log filters and clients' expectations carry over.
const (
	saslFail    = -1  // "generic failure"
	saslNoMech  = -4  // "no mechanism available"
	saslBadProt = -5  // "bad protocol / cancel"
	saslBadAuth = -13 // "authentication failure"
	saslEncrypt = -16 // "encryption needed to use mechanism"
	saslNoUser  = -20 // "user not found"
)

func saslCode(kind error) (int, string) {
	switch kind {
	case ErrNoUser:
		return saslNoUser, "user not found"
	case ErrTemporary:
		return saslFail, "generic failure"
	case ErrNoMech:
		return saslNoMech, "no mechanism available"
	case ErrEncrypt:
		return saslEncrypt, "encryption needed to use mechanism"
	case ErrMalformed, ErrCanceled:
		return saslBadProt, "bad protocol / cancel"
	}
	// ErrBadPassword, ErrBadUser, ErrAuthzNotAllowed, ErrCrossRealm and
	// ErrNotAdmin are all SASL_BADAUTH in libsasl and Cyrus's proxy policy.
	return saslBadAuth, "authentication failure"
}

// Error is an authentication failure as libsasl reports it. Its text is
// libsasl's sasl_errdetail, "SASL(-13): authentication failure: checkpass
// failed", which is what Cyrus writes in its badlogin lines. It never holds
// a password.
type Error struct {
	// Kind is one of the Err* values above.
	Kind error
	// User is the authentication identity as far as it is known, for the
	// badlogin line; empty when the exchange failed before naming one.
	User string
	// Detail is libsasl's detail text ("checkpass failed").
	Detail string
	// Err is the underlying cause (a dial error, a database error), if any.
	Err error
}

func (e *Error) Error() string {
	code, text := saslCode(e.Kind)
	s := fmt.Sprintf("SASL(%d): %s", code, text)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap gives errors.Is and errors.As both the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

func newError(kind error, user, detail string, cause error) *Error {
	return &Error{Kind: kind, User: user, Detail: detail, Err: cause}
}

// PublicMessage is the text a protocol may send to the client for err:
// libsasl's sasl_errstring, with "user not found" turned into
// "authentication failure" as Cyrus does ("Don't allow user probing").
func PublicMessage(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return "generic failure"
	}
	kind := e.Kind
	if kind == ErrNoUser {
		kind = ErrBadPassword
	}
	_, text := saslCode(kind)
	return text
}
