package pop3server

import (
	"strconv"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
)

// cmdCAPA is RFC 2449 5, with Cyrus's capabilities in Cyrus's order.
func cmdCAPA(ss *session, arg string, hasArg bool) {
	if hasArg {
		ss.err("", "Unexpected extra argument")
		return
	}
	ss.ok("List of capabilities follows")
	for _, c := range ss.capabilities() {
		ss.line(c)
	}
	ss.endMulti()
}

// capabilities lists what CAPA reports in the session's state.
func (ss *session) capabilities() []string {
	srv := ss.srv
	authz := ss.state == stateAuthorization
	var caps []string
	if authz && !ss.tlsRequired() {
		// RFC 5034 5: the mechanisms this connection may use.
		if mechs := srv.auth.Mechanisms(ss.secure); len(mechs) > 0 {
			caps = append(caps, "SASL "+strings.Join(mechs, " "))
		}
	}
	if authz && srv.opts.TLS != nil && !ss.tlsActive {
		caps = append(caps, "STLS") // RFC 2595 4
	}
	// RFC 2449 6.7: popexpiretime in days, negative for NEVER.
	if exp := srv.cfg.Duration(config.POPExpireTime); exp < 0 {
		caps = append(caps, "EXPIRE NEVER")
	} else {
		caps = append(caps, "EXPIRE "+strconv.FormatInt(int64(exp/(24*time.Hour)), 10))
	}
	// RFC 2449 6.5: the delay is in seconds.
	caps = append(caps, "LOGIN-DELAY "+strconv.FormatInt(int64(srv.cfg.Duration(config.POPMinPoll)/time.Second), 10))
	caps = append(caps, "TOP", "UIDL", "PIPELINING", "RESP-CODES", "AUTH-RESP-CODE")
	if authz && !ss.tlsRequired() && srv.auth.PlaintextAllowed(ss.secure) {
		caps = append(caps, "USER") // RFC 2449 6.2
	}
	// RFC 2449 6.9: shown before login only when serverinfo is on.
	if !authz || srv.cfg.Enum(config.ServerInfo) == "on" {
		caps = append(caps, "IMPLEMENTATION "+implementation)
	}
	return caps
}
