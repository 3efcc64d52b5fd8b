package imapserver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/auth"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/imapwire"
	"github.com/cyrusgo/cyrusgo/libcyrus/mboxname"
)

func cmdCapability(ss *session, tag string) result {
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	caps := ss.capabilities()
	if ss.state == stateNotAuth {
		caps = ss.preauthCapabilities() // capability_preauth.go
	}
	ss.w.Raw("* CAPABILITY " + caps + "\r\n")
	return ok("")
}

func cmdNoop(ss *session, tag string) result {
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	if err := ss.sendUpdates(true); err != nil {
		return storeResult(err)
	}
	return ok("")
}

func cmdLogout(ss *session, tag string) result {
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	ss.w.Raw("* BYE LOGOUT received\r\n")
	ss.state = stateLogout
	return ok("")
}

// cmdStartTLS is RFC 3501 6.2.1; the reader must hold no pipelined bytes
// (RFC 2595 3.1: anything after STARTTLS before the handshake is an
// injection attempt).
func cmdStartTLS(ss *session, tag string) result {
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	if ss.srv.opts.TLS == nil {
		return bad("Unrecognized command")
	}
	if ss.tlsActive {
		return bad("Already successfully executed STARTTLS")
	}
	if ss.r.Buffered() > 0 {
		ss.state = stateLogout
		return bad("Data after STARTTLS")
	}
	ss.respond(tag, ok("Begin TLS negotiation now"))
	tc := tls.Server(ss.conn, ss.srv.opts.TLS)
	tc.SetDeadline(time.Now().Add(time.Minute))
	if err := tc.HandshakeContext(ss.ctx); err != nil {
		ss.srv.log.Info(fmt.Sprintf("STARTTLS negotiation failed: %s: %v", ss.clientHost, err))
		ss.state = stateLogout
		return result{err: err}
	}
	tc.SetDeadline(time.Time{})
	ss.conn = tc
	ss.tlsActive, ss.secure = true, true
	ss.setupIO()
	return result{status: answered}
}

func cmdLogin(ss *session, tag string) result {
	if err := ss.r.SP(); err != nil {
		return wireErr(err)
	}
	user, err := ss.r.ReadAString()
	if err != nil {
		return wireErr(err)
	}
	if err := ss.r.SP(); err != nil {
		return wireErr(err)
	}
	pass, err := ss.r.ReadAString()
	if err != nil {
		return wireErr(err)
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	a := ss.srv.opts.Auth
	if !a.PlaintextAllowed(ss.secure) {
		return no("PRIVACYREQUIRED", "Login only available under a layer")
	}
	res, err := a.Login(ss.ctx, user, pass, ss.secure)
	if err != nil {
		return ss.authFailed("plaintext", user, err)
	}
	return ss.loggedIn(res)
}

func (ss *session) authFailed(mech, user string, err error) result {
	ss.srv.opts.Auth.LogBadLogin(ss.clientHost, mech, err)
	if errors.Is(err, auth.ErrCanceled) {
		return bad("Client canceled authentication")
	}
	if errors.Is(err, auth.ErrMalformed) {
		return bad(auth.PublicMessage(err))
	}
	ss.delay.Fail(ss.ctx)
	if errors.Is(err, auth.ErrTemporary) {
		return no("UNAVAILABLE", "Login failed: "+auth.PublicMessage(err))
	}
	if errors.Is(err, auth.ErrEncrypt) {
		return no("PRIVACYREQUIRED", "Login failed: "+auth.PublicMessage(err))
	}
	return no("AUTHENTICATIONFAILED", "Login failed: "+auth.PublicMessage(err))
}

func (ss *session) loggedIn(res auth.Result) result {
	ss.user = res.AuthzID
	ss.id = ss.srv.store.Identity(ss.user)
	ss.ns.Admin = ss.id.Admin
	ss.state = stateAuth
	ss.srv.opts.Auth.LogLogin(ss.clientHost, res, ss.tlsActive, ss.sessionID)
	ss.autocreateInbox()
	return okCode("CAPABILITY "+ss.capabilities(), "User logged in SESSIONID=<"+ss.sessionID+">")
}

// autocreateInbox creates the user's INBOX at login when autocreate_quota
// is not negative, as Cyrus's autocreate does.
func (ss *session) autocreateInbox() {
	if ss.srv.cfg.Int(config.AutocreateQuota) < 0 {
		return
	}
	inbox := mboxname.UserInbox(ss.user)
	if _, err := ss.srv.store.Lookup(inbox); err == nil {
		return
	}
	if err := ss.srv.autocreate(ss.user); err != nil {
		ss.srv.log.Error(fmt.Sprintf("autocreate INBOX for %s: %v", ss.user, err))
	}
}

// cmdAuthenticate is RFC 3501 6.2.2 with SASL-IR (RFC 4959).
func cmdAuthenticate(ss *session, tag string) result {
	if err := ss.r.SP(); err != nil {
		return wireErr(err)
	}
	mech, err := ss.r.ReadAtom()
	if err != nil {
		return wireErr(err)
	}
	var initial []byte
	haveInitial := false
	if ss.r.PeekSP() {
		ss.r.SP()
		ir, err := ss.r.ReadAtomFunc(func(c byte) bool { return c > ' ' && c < 0x7f })
		if err != nil {
			return wireErr(err)
		}
		if initial, err = auth.DecodeResponse(ir); err != nil {
			ss.r.ReadEOL()
			return bad("Invalid base64 string")
		}
		haveInitial = true
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	a := ss.srv.opts.Auth
	sess, err := a.Start(ss.ctx, mech, ss.secure, auth.StartOptions{})
	if err != nil {
		if errors.Is(err, auth.ErrEncrypt) {
			return no("PRIVACYREQUIRED", "Authentication failed: "+auth.PublicMessage(err))
		}
		return no("", "Authentication failed: "+auth.PublicMessage(err))
	}
	var resp []byte
	if haveInitial {
		resp = initial
		if resp == nil {
			resp = []byte{}
		}
	}
	for {
		chal, done, err := sess.Next(resp)
		if err != nil {
			return ss.authFailed(sess.Mech(), "", err)
		}
		if done {
			return ss.loggedIn(sess.Result())
		}
		if err := ss.w.Continue(auth.EncodeChallenge(chal)); err != nil {
			return wireErr(err)
		}
		line, err := ss.r.ReadLine(ss.srv.limits.MaxWord + 64)
		if err != nil {
			return wireErr(err)
		}
		if resp, err = auth.DecodeResponse(strings.TrimRight(line, "\r\n")); err != nil {
			if errors.Is(err, auth.ErrCanceled) {
				return bad("Client canceled authentication")
			}
			return bad("Invalid base64 string")
		}
	}
}

// cmdID is RFC 2971: the client's fields are read and ignored.
func cmdID(ss *session, tag string) result {
	if err := ss.r.SP(); err != nil {
		return wireErr(err)
	}
	if c, _ := ss.r.Peek(); c == '(' {
		err := ss.r.ReadList(func(r *imapwire.Reader) error {
			_, _, err := r.ReadNString()
			return err
		})
		if err != nil {
			return wireErr(err)
		}
	} else if _, isNil, err := ss.r.ReadNString(); err != nil || !isNil {
		if err == nil {
			err = &imapwire.SyntaxError{Msg: "Invalid ID"}
		}
		return wireErr(err)
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	ss.w.Raw(`* ID ("name" "cyrusgo" "vendor" "cyrusgo" "support-url" "https://github.com/cyrusgo/cyrusgo")` + "\r\n")
	return ok("")
}

// cmdEnable is RFC 5161. Only extensions this server implements are
// enabled; others are ignored, as the RFC says.
func cmdEnable(ss *session, tag string) result {
	var enabled []string
	resync := map[string]bool{}
	for ss.r.PeekSP() {
		ss.r.SP()
		ext, err := ss.r.ReadAtom()
		if err != nil {
			return wireErr(err)
		}
		switch e := strings.ToUpper(ext); e {
		case "UTF8=ACCEPT":
			if !ss.enabled[e] {
				ss.enabled[e] = true
				ss.w.SetUTF8Accept(true)
				enabled = append(enabled, e)
			}
		case "CONDSTORE", "QRESYNC":
			resync[e] = true
		case "IMAP4REV2":
			// RFC 9051 2.1: a server offering both starts in IMAP4rev1.
			if ss.enableRev2() {
				enabled = append(enabled, "IMAP4rev2")
			}
		}
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	enabled = append(enabled, ss.enableResync(resync)...)
	ss.w.Raw("* ENABLED")
	for _, e := range enabled {
		ss.w.Raw(" " + e)
	}
	ss.w.Raw("\r\n")
	return ok("")
}
