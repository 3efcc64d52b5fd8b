package imapserver

import (
	"strconv"
	"strings"
)

// capabilities returns the CAPABILITY list for the session's state, in
// Cyrus 3.6's order, with only what this server implements.
func (ss *session) capabilities() string {
	a := ss.srv.opts.Auth
	caps := []string{"IMAP4rev1", "IMAP4rev2"}
	if ss.srv.limits.LiteralMinus {
		caps = append(caps, "LITERAL-")
	} else {
		caps = append(caps, "LITERAL+")
	}
	caps = append(caps, "ID", "ENABLE")
	if ss.state != stateNotAuth {
		caps = append(caps, "ACL", "BINARY", "CATENATE", "CHILDREN", "CONDSTORE", "CREATE-SPECIAL-USE",
			"ESEARCH", "ESORT", "LIST-EXTENDED", "LIST-MYRIGHTS", "LIST-STATUS", "METADATA", "MOVE", "MULTIAPPEND",
			"NAMESPACE", "OBJECTID", "PREVIEW", "QRESYNC", "QUOTA", "RIGHTS=kxten", "SAVEDATE", "SEARCHRES",
			"SORT", "SORT=DISPLAY", "SPECIAL-USE", "STATUS=SIZE", "THREAD=ORDEREDSUBJECT",
			"THREAD=REFERENCES", "UIDPLUS", "UNSELECT", "WITHIN", "LIST-METADATA", "XLIST")
		if !ss.compressed {
			// RFC 4978 3: offered only while no compression is active.
			caps = append(caps, "COMPRESS=DEFLATE")
		}
		caps = append(caps, "IDLE")
		if n := ss.srv.maxMsgSize; n > 0 {
			caps = append(caps, "APPENDLIMIT="+strconv.FormatInt(n, 10))
		} else {
			caps = append(caps, "APPENDLIMIT=4294967295")
		}
		return strings.Join(caps, " ")
	}
	for _, m := range a.Mechanisms(ss.secure) {
		caps = append(caps, "AUTH="+m)
	}
	caps = append(caps, "SASL-IR")
	if ss.srv.opts.TLS != nil && !ss.tlsActive {
		caps = append(caps, "STARTTLS")
	}
	if !a.PlaintextAllowed(ss.secure) {
		caps = append(caps, "LOGINDISABLED")
	}
	return strings.Join(caps, " ")
}
