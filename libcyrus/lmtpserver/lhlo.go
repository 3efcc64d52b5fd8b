package lmtpserver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/auth"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
)

// maxLHLO bounds the LHLO argument kept for the Received header, as
// Cyrus's lhlo_param[250].
const maxLHLO = 249

// cmdLHLO is RFC 2033 4.1, answered with Cyrus 3.6's extension list and
// CHUNKING (RFC 3030) before IGNOREQUOTA; the last line carries the
// session id, and a new one starts.
func cmdLHLO(ss *session, arg string) {
	s := ss.srv
	ss.replyf("250-%s", s.serverName)
	ss.reply("250-8BITMIME")
	ss.reply("250-ENHANCEDSTATUSCODES")
	ss.reply("250-PIPELINING")
	if s.maxSize > 0 {
		// RFC 1870 4: the fixed maximum message size.
		ss.replyf("250-SIZE %d", s.maxSize)
	} else {
		ss.reply("250-SIZE")
	}
	if s.opts.TLS != nil && ss.tlsState == nil && ss.auth == authNone {
		ss.reply("250-STARTTLS")
	}
	if ss.auth != authDone {
		if mechs := ss.mechanisms(); len(mechs) > 0 {
			ss.reply("250-AUTH " + strings.Join(mechs, " "))
		}
	}
	ss.reply("250-CHUNKING")
	ss.reply("250-IGNOREQUOTA")
	ss.replyf("250 Ok SESSIONID=<%s>", ss.sessionID)
	if len(arg) > maxLHLO {
		arg = arg[:maxLHLO]
	}
	ss.lhlo = arg
	ss.sessionID = s.newSessionID()
}

// mechanisms are the SASL mechanisms of the connection: EXTERNAL alone on
// a pre-authorized one (Cyrus's localauth mech_list override), else what
// the authenticator offers on it.
func (ss *session) mechanisms() []string {
	if ss.preauth {
		return []string{"EXTERNAL"}
	}
	if ss.srv.opts.Auth == nil {
		return nil
	}
	return ss.srv.opts.Auth.Mechanisms(ss.secure())
}

// secure is a connection on which passwords may travel: TLS or local.
func (ss *session) secure() bool { return ss.tlsState != nil || !isTCP(ss.conn.RemoteAddr()) }

// cmdStartTLS is RFC 3207, offered only to connections that are not
// pre-authorized, as Cyrus does.
func cmdStartTLS(ss *session, _ string) {
	s := ss.srv
	if s.opts.TLS == nil || ss.preauth {
		ss.reply(replySyntax)
		return
	}
	if ss.tlsState != nil {
		ss.reply("454 4.3.3 Already successfully executed STARTTLS")
		return
	}
	if len(ss.txn.rcpts) > 0 {
		ss.reply("503 5.5.0 STARTTLS not permitted now")
		return
	}
	// Anything the client sent after STARTTLS came in the clear and could
	// have been injected: drop it (RFC 3207 6, Cyrus's prot_flush(pin)).
	ss.br.Discard(ss.br.Buffered())
	ss.reply("220 2.0.0 Begin TLS negotiation now")
	if err := ss.flush(); err != nil {
		ss.quit = true
		return
	}
	tc := tls.Server(ss.conn, s.opts.TLS)
	tc.SetDeadline(time.Now().Add(time.Minute))
	if err := tc.HandshakeContext(ss.ctx); err != nil {
		s.log.Info(fmt.Sprintf("[lmtpd] STARTTLS failed: %s: %v", ss.clientHost, err))
		ss.quit = true
		return
	}
	tc.SetDeadline(time.Time{})
	st := tc.ConnectionState()
	ss.conn, ss.tlsState = tc, &st
	ss.setupIO()
	// RFC 3207 4.2: forget what the client said before the handshake.
	ss.txn.reset()
	ss.lhlo = ""
}

// cmdAuth is RFC 4954 as Cyrus's lmtpd runs it: only admins (admins or
// lmtp_admins) may authenticate, and any failure is "501 5.5.4 undefined
// error!" (Cyrus passes its own error code to sasl_errstring).
func cmdAuth(ss *session, arg string) {
	if ss.auth == authDone {
		ss.reply("503 5.5.0 already authenticated")
		return
	}
	if len(ss.txn.rcpts) > 0 {
		ss.reply("503 5.5.0 AUTH not permitted now")
		return
	}
	mech, initial, hasInitial := strings.Cut(arg, " ")
	if ss.preauth {
		ss.authExternal(mech, initial, hasInitial)
		return
	}
	a := ss.srv.opts.Auth
	if a == nil {
		ss.reply("504 Unrecognized authentication type.")
		return
	}
	sess, err := a.Start(ss.ctx, mech, ss.secure(), auth.StartOptions{AdminsOnly: true})
	if err != nil {
		ss.reply("504 Unrecognized authentication type.")
		return
	}
	var resp []byte
	if hasInitial {
		if resp, err = auth.DecodeInitialResponse(initial); err != nil {
			ss.authFailed(sess.Mech(), err)
			return
		}
	}
	for {
		chal, done, err := sess.Next(resp)
		if err != nil {
			ss.authFailed(sess.Mech(), err)
			return
		}
		if done {
			res := sess.Result()
			a.LogLogin(ss.clientHost, res, ss.tlsState != nil, "")
			ss.auth, ss.authUser = authDone, res.AuthzID
			ss.reply("235 Authenticated!")
			return
		}
		ss.reply("334 " + auth.EncodeChallenge(chal))
		line, err := ss.readLine()
		if err != nil {
			if errors.Is(err, errLineTooLong) {
				ss.authFailed(sess.Mech(), err)
				return
			}
			ss.quit = true
			ss.disconnect(err)
			return
		}
		if resp, err = auth.DecodeResponse(line); err != nil {
			ss.authFailed(sess.Mech(), err)
			return
		}
	}
}

func (ss *session) authFailed(mech string, err error) {
	if errors.Is(err, auth.ErrCanceled) {
		ss.reply("501 5.5.4 client canceled authentication")
		return
	}
	ss.srv.opts.Auth.LogBadLogin(ss.clientHost, mech, err)
	ss.delay.Fail(ss.ctx)
	ss.reply("501 5.5.4 undefined error!")
}

// authExternal is SASL EXTERNAL (RFC 4422 appendix A) on a connection the
// transport already vouches for: Cyrus's "postman", or the authorization
// identity the client asks for.
func (ss *session) authExternal(mech, initial string, hasInitial bool) {
	if !strings.EqualFold(mech, "EXTERNAL") {
		ss.reply("504 Unrecognized authentication type.")
		return
	}
	var authz []byte
	var err error
	if hasInitial {
		authz, err = auth.DecodeInitialResponse(initial)
	} else {
		ss.reply("334 ")
		var line string
		if line, err = ss.readLine(); err == nil {
			authz, err = auth.DecodeResponse(line)
		} else if !errors.Is(err, errLineTooLong) {
			ss.quit = true
			ss.disconnect(err)
			return
		}
	}
	if err != nil {
		if errors.Is(err, auth.ErrCanceled) {
			ss.reply("501 5.5.4 client canceled authentication")
		} else {
			ss.reply("501 5.5.4 undefined error!")
		}
		return
	}
	user := string(authz)
	if user == "" {
		user = "postman"
	}
	ss.srv.log.Log(ss.ctx, logging.LevelNotice, auth.LoginLine(ss.clientHost, user, "EXTERNAL", ss.tlsState != nil, ""))
	ss.auth, ss.authUser = authDone, user
	ss.reply("235 Authenticated!")
}
