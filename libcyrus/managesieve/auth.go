package managesieve

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/auth"
)

// maxSASLString bounds a client's base64 SASL string.
const maxSASLString = auth.MaxResponse*4/3 + 8

// cmdAuthenticate is RFC 5804 2.1: AUTHENTICATE mechanism [initial-response],
// then challenges sent as strings and answered by strings until OK or NO.
// SCRAM's final server message travels in OK (SASL "...").
func cmdAuthenticate(ss *session) error {
	if err := ss.r.sp("SPACE must occur after AUTHENTICATE"); err != nil {
		return err
	}
	mech, err := ss.r.str(maxName, "Did not specify mechanism name")
	if err != nil {
		return err
	}
	var initial *string
	if eol, err := ss.r.atEOL(); err != nil {
		return err
	} else if !eol {
		if err := ss.r.sp("Expected SPACE"); err != nil {
			return err
		}
		ir, err := ss.r.str(maxSASLString, "Expected string")
		if err != nil {
			return err
		}
		initial = &ir
	}
	if err := ss.r.eol(); err != nil {
		return err
	}
	if ss.authed {
		// RFC 5804 2.1: no reauthentication.
		ss.no("", "Already authenticated")
		return nil
	}
	a := ss.srv.o.Auth
	sess, err := a.Start(ss.ctx, mech, ss.secure, auth.StartOptions{SuccessData: true})
	if err != nil {
		return ss.authFailed(strings.ToUpper(mech), err)
	}
	var resp []byte
	if initial != nil {
		// RFC 5804 2.1: an empty initial response is an empty string;
		// "=" (RFC 4959) is accepted too.
		if *initial != "" {
			if resp, err = auth.DecodeInitialResponse(*initial); err != nil {
				return ss.authFailed(sess.Mech(), err)
			}
		} else {
			resp = []byte{}
		}
	}
	for {
		chal, done, err := sess.Next(resp)
		if err != nil {
			return ss.authFailed(sess.Mech(), err)
		}
		if done {
			return ss.authSucceeded(sess.Result(), chal)
		}
		// Challenges go out as literals, as Cyrus sends them.
		ss.w.WriteString(literal(auth.EncodeChallenge(chal)) + "\r\n")
		if err := ss.w.Flush(); err != nil {
			return err
		}
		line, err := ss.r.str(maxSASLString, "Expected STRING")
		if err != nil {
			if _, ok := err.(*clientError); ok {
				// Not a string: the exchange is over, as a cancel.
				ss.r.skipLine()
				return ss.authFailed(sess.Mech(), err)
			}
			return err
		}
		if err := ss.r.eol(); err != nil {
			if _, ok := err.(*clientError); ok {
				ss.r.skipLine()
				return ss.authFailed(sess.Mech(), err)
			}
			return err
		}
		if resp, err = auth.DecodeResponse(line); err != nil {
			return ss.authFailed(sess.Mech(), err)
		}
	}
}

// authFailed logs the failure as Cyrus does ("badlogin: ..."), waits the
// growing delay, and answers NO. The text is Cyrus's; response codes say
// why when the client can act on it (RFC 5804 1.3).
func (ss *session) authFailed(mech string, err error) error {
	a := ss.srv.o.Auth
	var ae *auth.Error
	if !errors.As(err, &ae) {
		err = &auth.Error{Kind: auth.ErrMalformed, Detail: err.Error()}
	}
	a.LogBadLogin(ss.clientHost, mech, err)
	if !errors.Is(err, auth.ErrCanceled) {
		if derr := ss.delay.Fail(ss.ctx); derr != nil {
			return derr
		}
	}
	code := ""
	switch {
	case errors.Is(err, auth.ErrEncrypt):
		code = "ENCRYPT-NEEDED"
	case errors.Is(err, auth.ErrTemporary):
		code = "TRYLATER"
	}
	ss.no(code, "Authentication Error")
	return nil
}

func (ss *session) authSucceeded(res auth.Result, final []byte) error {
	a := ss.srv.o.Auth
	// Cyrus admins who authenticate as themselves manage the global
	// scripts (timsieved(8)); everyone else their own.
	admin := res.AuthID == res.AuthzID && a.IsAdmin(res.AuthID)
	var err error
	if admin {
		domain := ""
		if i := strings.LastIndexByte(res.AuthzID, '@'); i > 0 && ss.srv.o.Scripts != nil {
			domain = res.AuthzID[i+1:]
		}
		ss.dir, err = ss.srv.o.Scripts.Global(domain)
	} else {
		ss.dir, err = ss.srv.o.Scripts.User(res.AuthzID)
	}
	if err != nil {
		ss.srv.log.Error(fmt.Sprintf("sieve: %s: %v", res.AuthzID, err))
		ss.no("", "internal error")
		return nil
	}
	ss.authed, ss.user, ss.admin = true, res.AuthzID, admin
	if len(final) > 0 {
		ss.ok("SASL "+quote(auth.EncodeChallenge(final)), "")
	} else {
		ss.ok("", "")
	}
	a.LogLogin(ss.clientHost, res, ss.tlsActive, "")
	return nil
}

// cmdUnauthenticate is RFC 5804 2.14.1: back to the non-authenticated
// state; it never fails when authenticated.
func cmdUnauthenticate(ss *session) error {
	if err := ss.r.eol(); err != nil {
		return err
	}
	ss.authed, ss.user, ss.admin, ss.dir = false, "", false, nil
	ss.ok("", "")
	return nil
}

// cmdStartTLS is RFC 5804 2.2. Nothing may follow the command before the
// handshake (RFC 2595 3.1: such bytes would be injected into the
// protected session), so pipelined input ends the session.
func cmdStartTLS(ss *session) error {
	if err := ss.r.eol(); err != nil {
		return err
	}
	switch {
	case ss.srv.o.TLS == nil:
		ss.no("", "TLS not available")
		return nil
	case ss.tlsActive:
		ss.no("", "TLS already active")
		return nil
	case ss.authed:
		ss.no("", "Already authenticated")
		return nil
	case ss.r.br.Buffered() > 0:
		ss.bye("", "Data after STARTTLS")
		return nil
	}
	ss.ok("", "Begin TLS negotiation now")
	if err := ss.w.Flush(); err != nil {
		return err
	}
	tc := tls.Server(ss.raw, ss.srv.o.TLS)
	ss.raw.SetDeadline(time.Now().Add(time.Minute))
	if err := tc.HandshakeContext(ss.ctx); err != nil {
		ss.srv.log.Info(fmt.Sprintf("STARTTLS negotiation failed: %s: %v", ss.clientHost, err))
		ss.done = true
		return nil
	}
	ss.raw.SetDeadline(time.Time{})
	ss.conn = tc
	ss.tlsActive, ss.secure = true, true
	ss.setupIO()
	// RFC 5804 2.2: the capabilities again, now over TLS.
	ss.capabilities()
	return nil
}

func cmdCapability(ss *session) error {
	if err := ss.r.eol(); err != nil {
		return err
	}
	ss.capabilities()
	return nil
}

func cmdLogout(ss *session) error {
	if err := ss.r.eol(); err != nil {
		return err
	}
	ss.ok("", "Logout Complete")
	ss.w.Flush()
	ss.done = true
	return nil
}

// cmdNoop is RFC 5804 2.13: the tag comes back in a TAG response code, as
// a literal as Cyrus sends it (and as the RFC's example shows).
func cmdNoop(ss *session) error {
	tag := ""
	hasTag := false
	if eol, err := ss.r.atEOL(); err != nil {
		return err
	} else if !eol {
		if err := ss.r.sp("Expected SPACE"); err != nil {
			return err
		}
		t, err := ss.r.str(maxName, "Expected string")
		if err != nil {
			return err
		}
		tag, hasTag = t, true
	}
	if err := ss.r.eol(); err != nil {
		return err
	}
	if hasTag && tag != "" {
		ss.ok("TAG "+literal(tag), "Done")
	} else {
		ss.ok("", "Done")
	}
	return nil
}
