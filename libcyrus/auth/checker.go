package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
)

// Password checking methods of sasl_pwcheck_method.
const (
	MethodAuxprop     = "auxprop"
	MethodSaslauthd   = "saslauthd"
	MethodAlwaysTrue  = "alwaystrue"
	MethodPwcheck     = "pwcheck"
	MethodAuthdaemond = "authdaemond"
)

// detailCheckpass is what libsasl's sasl_checkpass leaves as the detail of
// any failed check, and so what Cyrus logs: "SASL(-13): authentication
// failure: checkpass failed".
const detailCheckpass = "checkpass failed"

// Checker verifies passwords with the methods of sasl_pwcheck_method.
type Checker struct {
	methods   []string
	saslauthd string
	users     cyrusdb.DB
	logger    *slog.Logger
	params    hashParams
}

// NewChecker returns a Checker for cfg's sasl_pwcheck_method and
// sasl_saslauthd_path. users is the cyrusdb.Users database; it may be nil
// when "auxprop" is not among the methods. A method cyrusgo does not
// implement is reported here and fails each check that reaches it.
func NewChecker(cfg *config.Config, users cyrusdb.DB, logger *slog.Logger) *Checker {
	if logger == nil {
		logger = slog.Default()
	}
	c := &Checker{
		methods:   cfg.List(config.SASLPWCheckMethod),
		saslauthd: cfg.String(config.SASLSaslauthdPath),
		users:     users,
		logger:    logger,
		params:    defaultParams(),
	}
	for _, m := range c.methods {
		switch m {
		case MethodAlwaysTrue:
			logger.Warn("sasl_pwcheck_method alwaystrue accepts any password for any user: for tests only")
		case MethodAuxprop, MethodSaslauthd:
		default:
			logger.Error(fmt.Sprintf("sasl_pwcheck_method %s is not supported by cyrusgo; use saslauthd or auxprop", m))
		}
	}
	if c.users == nil && slices.Contains(c.methods, MethodAuxprop) {
		logger.Error("sasl_pwcheck_method auxprop without a users database")
	}
	return c
}

// Methods returns the password checking methods, in the order tried.
func (c *Checker) Methods() []string { return slices.Clone(c.methods) }

// HasVerifiers reports whether the native user store is in use, so SCRAM
// mechanisms can be offered: only it keeps SCRAM verifiers.
func (c *Checker) HasVerifiers() bool {
	return c.users != nil && slices.Contains(c.methods, MethodAuxprop)
}

// Check verifies password for user (already canonical) with each method in
// turn until one accepts it, as libsasl's sasl_checkpass does: a method
// that fails, for any reason, passes the question to the next. service is
// the SASL service name saslauthd is told ("imap", "pop", "sieve",
// "lmtp"); realm, when not empty, is the realm of a user name without "@".
//
// When every method fails, the error says the most useful thing any of
// them found: a temporary failure first (so that a saslauthd outage shows
// as one rather than as wrong passwords), then a wrong password, then an
// unknown user. The error is an *Error of kind ErrBadPassword, ErrNoUser or
// ErrTemporary; it never holds the password.
func (c *Checker) Check(ctx context.Context, user, password, service, realm string) error {
	if user == "" {
		return newError(ErrNoUser, user, detailCheckpass, nil)
	}
	if password == "" {
		// Some backends (LDAP binds through saslauthd) take an empty
		// password as an anonymous success; never ask them.
		return newError(ErrBadPassword, user, detailCheckpass, nil)
	}
	if len(c.methods) == 0 {
		return newError(ErrTemporary, user, "no password verifier configured", nil)
	}
	var worst *Error
	for _, m := range c.methods {
		err := c.checkOne(ctx, m, user, password, service, realm)
		if err == nil {
			return nil
		}
		if worst == nil || rank(err.Kind) > rank(worst.Kind) {
			worst = err
		}
	}
	return worst
}

// rank orders failures by how much they tell an admin.
func rank(kind error) int {
	switch kind {
	case ErrTemporary:
		return 3
	case ErrBadPassword:
		return 2
	}
	return 1
}

func (c *Checker) checkOne(ctx context.Context, method, user, password, service, realm string) *Error {
	switch method {
	case MethodAuxprop:
		return c.checkAuxprop(user, password, realm)
	case MethodSaslauthd:
		err := saslauthdVerify(ctx, c.saslauthd, user, password, service, realm)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, errSaslauthdNo):
			// saslauthd does not tell a wrong password from an unknown
			// user; libsasl calls both SASL_BADAUTH.
			return newError(ErrBadPassword, user, detailCheckpass, nil)
		}
		c.logger.Error(fmt.Sprintf("saslauthd at %s: %v", c.saslauthd, err))
		return newError(ErrTemporary, user, "saslauthd", err)
	case MethodAlwaysTrue:
		// libsasl logs each success of this verifier as a warning.
		c.logger.Warn(fmt.Sprintf("AlwaysTrue Password Verifier Verified: %s", user))
		return nil
	}
	return newError(ErrTemporary, user, fmt.Sprintf("unknown password verifier(s) %s", method), nil)
}

func (c *Checker) checkAuxprop(user, password, realm string) *Error {
	if c.users == nil {
		return newError(ErrTemporary, user, "auxprop: no users database", nil)
	}
	key := user
	if realm != "" && !strings.Contains(user, "@") {
		key = user + "@" + realm
	}
	rec, err := loadRecord(c.users, key)
	if errors.Is(err, cyrusdb.ErrNotFound) {
		dummyHash(password, c.params)
		return newError(ErrNoUser, user, detailCheckpass, nil)
	}
	if err != nil {
		c.logger.Error(fmt.Sprintf("auxprop: %v", err))
		return newError(ErrTemporary, user, "auxprop", err)
	}
	ok, err := rec.verifyPlain(password)
	if err != nil {
		c.logger.Error(fmt.Sprintf("auxprop: user %s: %v", key, err))
		return newError(ErrTemporary, user, "auxprop", err)
	}
	if !ok {
		return newError(ErrBadPassword, user, detailCheckpass, nil)
	}
	return nil
}

// scramKeysFor returns user's verifiers for mech from the store, nil when
// the user or the verifiers do not exist, and an error when the store
// cannot be read.
func (c *Checker) scramKeysFor(user, mech string) (*scramKeys, error) {
	if !c.HasVerifiers() {
		return nil, nil
	}
	rec, err := loadRecord(c.users, user)
	if errors.Is(err, cyrusdb.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return rec.scramFor(mech), nil
}
