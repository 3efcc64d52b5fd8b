package imapserver

import "strings"

// preauthCapabilities is the answer to CAPABILITY before login. Cyrus
// 3.6 gives there everything it gives after login, with the
// authentication items (AUTH=, SASL-IR, STARTTLS, LOGINDISABLED) after
// its LIST-related extensions and before COMPRESS and IDLE; only the
// greeting carries the short list. Clients depend on it: cyradm decides
// from this answer alone whether the server has METADATA.
//
// It is derived from capabilities(), so it follows whatever that lists.
func (ss *session) preauthCapabilities() string {
	short := strings.Fields(ss.capabilities())
	saved := ss.state
	ss.state = stateAuth
	full := strings.Fields(ss.capabilities())
	ss.state = saved
	inFull := map[string]bool{}
	for _, c := range full {
		inFull[c] = true
	}
	var auth []string
	for _, c := range short {
		if !inFull[c] {
			auth = append(auth, c)
		}
	}
	at := len(full)
	for i, c := range full {
		if c == "IDLE" || strings.HasPrefix(c, "COMPRESS=") || strings.HasPrefix(c, "APPENDLIMIT=") {
			at = i
			break
		}
	}
	out := append(append(append([]string{}, full[:at]...), auth...), full[at:]...)
	return strings.Join(out, " ")
}
