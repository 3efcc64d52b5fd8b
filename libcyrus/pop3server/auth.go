package pop3server

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/auth"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
)

// tlsRequired reports whether tls_required still forbids authentication
// on this connection (it no longer does once TLS is on).
func (ss *session) tlsRequired() bool {
	return ss.srv.cfg.Bool(config.TLSRequired) && !ss.secure
}

// cmdUSER is RFC 1939 7. The name is only remembered; PASS checks it.
// Passwords in the clear are refused on a connection that is neither
// encrypted nor local unless allowplaintext is set, as Cyrus refuses them
// ("only available under a layer").
func cmdUSER(ss *session, arg string, hasArg bool) {
	if !hasArg {
		ss.err("", "Missing argument")
		return
	}
	if !ss.srv.auth.PlaintextAllowed(ss.secure) {
		ss.err("AUTH", "USER command only available under a layer")
		return
	}
	if ss.user != "" {
		ss.err("AUTH", "Must give PASS command")
		return
	}
	name, sub := ss.splitSubfolder(arg)
	canon, err := auth.CanonUser(ss.srv.cfg, name)
	if err != nil {
		ss.srv.auth.LogBadLogin(ss.clientHost, auth.MechPlaintext,
			&auth.Error{Kind: auth.ErrBadUser, User: arg, Detail: "invalid user", Err: err})
		ss.err("AUTH", "Invalid user")
		return
	}
	ss.user, ss.subfolder = canon, sub
	ss.ok("Name is a valid mailbox")
}

// splitSubfolder takes "+folder" out of a user name when popsubfolders is
// set, as Cyrus's popd_canon_user does: "alice+Work" logs in as alice and
// opens her folder Work; with virtual domains the folder ends at "@".
func (ss *session) splitSubfolder(name string) (user, sub string) {
	if !ss.srv.cfg.Bool(config.POPSubfolders) {
		return name, ""
	}
	i := strings.IndexByte(name, '+')
	if i < 0 {
		return name, ""
	}
	n := len(name) - i
	if ss.srv.cfg.Enum(config.VirtDomains) != "off" {
		if j := strings.IndexByte(name[i:], '@'); j >= 0 {
			n = j
		}
	}
	return name[:i] + name[i+n:], name[i : i+n]
}

// cmdPASS is RFC 1939 7.
func cmdPASS(ss *session, arg string, hasArg bool) {
	if !hasArg {
		ss.err("", "Missing argument")
		return
	}
	if ss.user == "" {
		ss.err("AUTH", "Must give USER command")
		return
	}
	user, sub := ss.user, ss.subfolder
	ss.user, ss.subfolder = "", ""
	a := ss.srv.auth
	if user == "anonymous" {
		// Cyrus refuses anonymous unless allowanonymouslogin, which
		// cyrusgo does not offer.
		a.LogBadLogin(ss.clientHost, auth.MechPlaintext,
			&auth.Error{Kind: auth.ErrBadPassword, User: user, Detail: "anonymous login refused"})
		ss.err("AUTH", "Invalid login")
		return
	}
	res, err := a.Login(ss.ctx, user, arg, ss.secure)
	if err != nil {
		a.LogBadLogin(ss.clientHost, auth.MechPlaintext, err)
		ss.delay.Fail(ss.ctx)
		if errors.Is(err, auth.ErrTemporary) {
			// RFC 3206 4: the failure is the server's, not the password's.
			ss.err("SYS/TEMP", "Unable to check the password now, try again later")
			return
		}
		ss.err("AUTH", "Invalid login")
		return
	}
	ss.subfolder = sub
	ss.loggedIn(res)
}

// cmdAPOP is RFC 1939 7. APOP proves knowledge of the password with an
// MD5 of the greeting's timestamp and the plaintext password, so it can
// only be checked against a stored plaintext; the user store keeps salted
// hashes and saslauthd checks plaintext given to it, so APOP is never
// possible here. The greeting carries no timestamp, which tells clients
// so (RFC 1939 7), and the command gets a plain refusal.
func cmdAPOP(ss *session, arg string, hasArg bool) {
	ss.err("AUTH", "APOP is not available: passwords are not stored in a form APOP can check; use AUTH or USER/PASS")
}

// cmdAUTH is RFC 5034 4, with the initial response on the command line.
func cmdAUTH(ss *session, arg string, hasArg bool) {
	if ss.tlsRequired() {
		ss.err("AUTH", "AUTH command only available under a layer")
		return
	}
	a := ss.srv.auth
	if !hasArg {
		// Before RFC 5034, clients listed the mechanisms with a bare AUTH
		// (draft-myers-sasl-pop3); Cyrus still answers it.
		ss.ok("List of supported mechanisms follows")
		for _, m := range a.Mechanisms(ss.secure) {
			ss.line(m)
		}
		ss.endMulti()
		return
	}
	mech, ir, hasIR := strings.Cut(arg, " ")
	ir = strings.TrimLeftFunc(ir, isSpace)
	sess, err := a.Start(ss.ctx, mech, ss.secure, auth.StartOptions{})
	if err != nil {
		ss.authFailed(strings.ToUpper(mech), err)
		return
	}
	sub := subfolderRewriter{enabled: ss.srv.cfg.Bool(config.POPSubfolders), mech: sess.Mech(), ss: ss}
	var resp []byte
	if hasIR {
		if resp, err = auth.DecodeInitialResponse(ir); err != nil {
			ss.authFailed(sess.Mech(), err)
			return
		}
		resp = sub.rewrite(resp)
	}
	for {
		chal, done, err := sess.Next(resp)
		if err != nil {
			ss.authFailed(sess.Mech(), err)
			return
		}
		if done {
			ss.subfolder = sub.folder
			ss.loggedIn(sess.Result())
			return
		}
		// RFC 5034 4: a challenge is "+ " and base64, an empty one "+ ".
		ss.line("+ " + auth.EncodeChallenge(chal))
		if err := ss.bw.Flush(); err != nil {
			ss.closing = true
			return
		}
		ss.conn.SetReadDeadline(time.Now().Add(ss.srv.timeout))
		line, err := ss.readLine(maxSASLLine)
		if errors.Is(err, errLineTooLong) {
			ss.err("AUTH", "Error reading client response: line too long")
			return
		}
		if err != nil {
			ss.closing = true
			return
		}
		if resp, err = auth.DecodeResponse(line); err != nil {
			ss.authFailed(sess.Mech(), err)
			return
		}
		resp = sub.rewrite(resp)
	}
}

// authFailed answers a failed AUTH as Cyrus does and logs it.
func (ss *session) authFailed(mech string, err error) {
	ss.srv.auth.LogBadLogin(ss.clientHost, mech, err)
	switch {
	case errors.Is(err, auth.ErrCanceled):
		// RFC 5034 4: "*" cancels the exchange.
		ss.err("AUTH", "Client canceled authentication")
		return
	case errors.Is(err, auth.ErrMalformed):
		ss.err("AUTH", "Error reading client response: "+auth.PublicMessage(err))
		return
	}
	ss.delay.Fail(ss.ctx)
	if errors.Is(err, auth.ErrTemporary) {
		ss.err("SYS/TEMP", "authenticating: "+auth.PublicMessage(err))
		return
	}
	ss.err("AUTH", "authenticating: "+auth.PublicMessage(err))
}

// subfolderRewriter applies popsubfolders to an AUTH exchange: it takes
// "+folder" out of the user names of a PLAIN message or of LOGIN's user
// name response, the only mechanisms whose user names a server can
// rewrite (SCRAM signs the name the client sent, so "alice+Work" cannot
// log in with it).
type subfolderRewriter struct {
	enabled bool
	mech    string
	ss      *session
	step    int
	folder  string
}

func (r *subfolderRewriter) rewrite(resp []byte) []byte {
	if !r.enabled || resp == nil {
		return resp
	}
	r.step++
	switch {
	case r.mech == auth.MechPlain && r.step == 1:
		parts := bytes.Split(resp, []byte{0})
		if len(parts) != 3 {
			return resp
		}
		for i := 1; i >= 0; i-- { // the authzid's folder wins, as in Cyrus
			u, sub := r.ss.splitSubfolder(string(parts[i]))
			if sub != "" {
				parts[i], r.folder = []byte(u), sub
			}
		}
		return bytes.Join(parts, []byte{0})
	case r.mech == auth.MechLogin && r.step == 1:
		u, sub := r.ss.splitSubfolder(string(resp))
		if sub != "" {
			r.folder = sub
		}
		return []byte(u)
	}
	return resp
}

// cmdSTLS is RFC 2595 4. Commands pipelined after STLS are refused and the
// connection closed: they were sent in the clear and would otherwise run
// as if they came through TLS (RFC 2595 3.1's injection concern).
func cmdSTLS(ss *session, arg string, hasArg bool) {
	if ss.srv.opts.TLS == nil {
		ss.err("", "Unrecognized command")
		return
	}
	if hasArg {
		ss.err("", "Unexpected extra argument")
		return
	}
	if ss.tlsActive {
		ss.err("", "Already successfully executed STLS")
		return
	}
	if ss.br.Buffered() > 0 {
		ss.err("SYS/PERM", "Data after STLS")
		ss.closing = true
		return
	}
	ss.ok("Begin TLS negotiation now")
	if err := ss.bw.Flush(); err != nil {
		ss.closing = true
		return
	}
	tc := tls.Server(ss.conn, ss.srv.opts.TLS)
	tc.SetDeadline(time.Now().Add(time.Minute))
	if err := tc.HandshakeContext(ss.ctx); err != nil {
		ss.srv.log.Info(fmt.Sprintf("STLS negotiation failed: %s: %v", ss.clientHost, err))
		ss.closing = true
		return
	}
	tc.SetDeadline(time.Time{})
	ss.conn = tc
	ss.tlsActive, ss.secure = true, true
	// RFC 2595 4: what the client said before TLS counts for nothing.
	ss.user, ss.subfolder = "", ""
	ss.setupIO()
}
