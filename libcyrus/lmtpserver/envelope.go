package lmtpserver

import (
	"strconv"
	"strings"
)

// txn is the mail transaction in progress (RFC 5321 3.3).
type txn struct {
	active bool   // MAIL was accepted
	from   string // the reverse-path, with its angle brackets
	authEq string // MAIL FROM's AUTH= (RFC 4954 5), decoded; "" for <>
	size   int64  // MAIL FROM's SIZE= (RFC 1870), 0 if not given
	rcpts  []*Recipient
	bdat   bool // a BDAT chunk came: DATA is out of sequence (RFC 3030 2)
}

func (t *txn) reset() { *t = txn{} }

// cmdMail is RFC 5321 4.1.1.2 with Cyrus's checks, in Cyrus's order: a
// connection that is neither authenticated nor pre-authorized may not
// start a transaction (soft_noauth picks 430 or 530).
func cmdMail(ss *session, arg string) {
	s := ss.srv
	if ss.auth == authNone {
		if s.softNoAuth {
			ss.reply(replyNeedAuthT)
		} else {
			ss.reply(replyNeedAuthP)
		}
		return
	}
	if ss.txn.active {
		ss.reply("503 5.5.1 Nested MAIL command")
		return
	}
	rest, ok := cutPrefixFold(arg, "FROM:")
	if !ok {
		ss.reply("501 5.5.4 Syntax error in parameters")
		return
	}
	from, params, ok := parseAddr(rest, s.strict2821)
	if !ok {
		ss.reply("501 5.5.4 Syntax error in parameters")
		return
	}
	t := txn{active: true, from: from}
	if params != "" {
		for _, p := range strings.Split(params, " ") {
			key, val, _ := strings.Cut(p, "=")
			switch strings.ToUpper(key) {
			case "AUTH":
				// RFC 4954 5: the submitter the MTA vouches for, in
				// xtext; "<>" when unknown.
				user, ok := decodeXtext(val)
				if !ok {
					ss.reply("501 5.5.4 Syntax error in parameters")
					return
				}
				t.authEq = user
			case "BODY":
				// RFC 6152: 7BIT or 8BITMIME; both are stored as they are.
				switch v := strings.ToUpper(val); {
				case v == "7BIT" || v == "8BITMIME":
				case strings.HasPrefix(v, "7BIT") || strings.HasPrefix(v, "8BITMIME"):
					ss.reply("501 5.5.4 Syntax error in parameters")
					return
				default:
					ss.reply("501 5.5.4 Unrecognized BODY type")
					return
				}
			case "SIZE":
				// RFC 1870 6.
				if val == "" || val[0] < '0' || val[0] > '9' {
					ss.reply("501 5.5.2 SIZE requires a value")
					return
				}
				n, err := strconv.ParseInt(val, 10, 64)
				if err != nil && !isDigits(val) {
					ss.reply("501 5.5.4 Syntax error in parameters")
					return
				}
				if err != nil || (s.maxSize > 0 && n > s.maxSize) {
					ss.replyf("552 5.2.3 Message SIZE exceeds fixed maximum message size (%d)", s.maxSizeShown())
					return
				}
				t.size = n
			default:
				ss.reply("501 5.5.4 Unrecognized parameters")
				return
			}
		}
	}
	ss.txn = t
	ss.reply("250 2.1.0 ok")
}

// maxSizeShown is the limit as Cyrus prints it: INT_MAX for none.
func (s *Server) maxSizeShown() int64 {
	if s.maxSize > 0 {
		return s.maxSize
	}
	return 1<<31 - 1
}

// cmdRcpt is RFC 2033 4.2 / RFC 5321 4.1.1.3. The only parameter is
// Cyrus's IGNOREQUOTA.
func cmdRcpt(ss *session, arg string) {
	if !ss.txn.active {
		ss.reply("503 5.5.1 Need MAIL command")
		return
	}
	if ss.txn.bdat {
		ss.reply("503 5.5.1 Bad sequence of commands")
		return
	}
	rest, ok := cutPrefixFold(arg, "TO:")
	if !ok {
		ss.reply("501 5.5.4 Syntax error in parameters")
		return
	}
	addr, params, ok := parseAddr(rest, ss.srv.strict2821)
	if !ok {
		ss.reply("501 5.5.4 Syntax error in parameters")
		return
	}
	ignoreQuota := false
	if params != "" {
		for _, p := range strings.Split(params, " ") {
			if !strings.EqualFold(p, "IGNOREQUOTA") {
				ss.reply("501 5.5.4 Unrecognized parameters")
				return
			}
			ignoreQuota = true
		}
	}
	if len(ss.txn.rcpts) >= maxRecipients {
		ss.reply("452 4.5.3 Too many recipients")
		return
	}
	rc, err := ss.resolve(addr, ignoreQuota)
	if err != nil {
		ss.sendError(err)
		return
	}
	ss.txn.rcpts = append(ss.txn.rcpts, rc)
	ss.reply("250 2.1.5 ok")
}

// cmdRset is RFC 5321 4.1.1.5; as in Cyrus 3.6 it starts a new session id
// and shows it.
func cmdRset(ss *session, _ string) {
	ss.abortBDAT()
	ss.txn.reset()
	ss.sessionID = ss.srv.newSessionID()
	ss.replyf("250 2.0.0 Ok SESSIONID=<%s>", ss.sessionID)
}

func cmdNoop(ss *session, _ string) { ss.reply("250 2.0.0 ok") }

// cmdVrfy is RFC 5321 3.5.3: no verification, as Cyrus.
func cmdVrfy(ss *session, _ string) { ss.reply("252 2.3.3 try RCPT to attempt delivery") }

func cmdQuit(ss *session, _ string) {
	ss.abortBDAT()
	ss.reply("221 2.0.0 bye")
	ss.quit = true
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// parseAddr reads a path, "<...>", at the start of s as Cyrus's parseaddr
// does (RFC 5321 4.1.2 without the source-route details it ignores): an
// optional at-domain-list, a quoted or plain local part, an optional
// domain. Nothing may come between "FROM:" and "<" (Cyrus answers "MAIL
// FROM: <x>" with a syntax error). It returns the path with its brackets
// and the parameters after the one space that must follow. With strict
// off (lmtp_strict_rfc2821: no), 8-bit bytes of the local part become
// "X" instead of failing, so an MTA that lets them through does not make
// this server a backscatter source.
func parseAddr(s string, strict bool) (addr, params string, ok bool) {
	b := []byte(s)
	p := 0
	at := func(i int) byte {
		if i < len(b) {
			return b[i]
		}
		return 0
	}
	if at(p) != '<' {
		return "", "", false
	}
	p++
	domain := func() bool {
		if at(p) == '[' {
			p++
			for isDigit(at(p)) || at(p) == '.' {
				p++
			}
			if at(p) != ']' {
				return false
			}
			p++
			return true
		}
		for isAlnum(at(p)) || at(p) == '.' || at(p) == '-' {
			p++
		}
		return true
	}
	for at(p) == '@' {
		p++
		if !domain() {
			return "", "", false
		}
		switch {
		case at(p) == ',' && at(p+1) == '@':
			p++
		case at(p) == ':' && at(p+1) != '@':
			p++
		default:
			return "", "", false
		}
	}
	if at(p) == '"' {
		p++
		for p < len(b) && b[p] != '"' {
			if b[p] == '\\' {
				p++
				if p >= len(b) {
					return "", "", false
				}
			}
			p++
		}
		if p >= len(b) {
			return "", "", false
		}
		p++
	} else {
		for p < len(b) && b[p] != '@' && b[p] != '>' {
			if b[p] == '\\' {
				p++
				if p >= len(b) {
					return "", "", false
				}
			} else {
				if b[p]&0x80 != 0 && !strict {
					b[p] = 'X'
				}
				if b[p] <= ' ' || b[p]&0x80 != 0 || strings.IndexByte("<>()[]\\,;:\"", b[p]) >= 0 {
					return "", "", false
				}
			}
			p++
		}
	}
	if at(p) == '@' {
		p++
		if !domain() {
			return "", "", false
		}
	}
	if at(p) != '>' {
		return "", "", false
	}
	p++
	if p < len(b) && b[p] != ' ' {
		return "", "", false
	}
	addr = string(b[:p])
	if p < len(b) {
		params = string(b[p+1:])
		if params == "" {
			// "MAIL FROM:<a> " has an empty parameter: Cyrus says
			// "Unrecognized parameters".
			params = " "
		}
	}
	return addr, params, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// decodeXtext decodes RFC 3461 4's xtext ("+" and two upper-case hex
// digits for a special byte); "<>" is the empty identity, and Cyrus also
// takes the address in angle brackets.
func decodeXtext(s string) (string, bool) {
	if s == "<>" {
		return "", true
	}
	s = strings.TrimPrefix(s, "<")
	s = strings.TrimSuffix(s, ">")
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			if i+2 >= len(s) {
				return "", false
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil || strings.ToUpper(s[i+1:i+3]) != s[i+1:i+3] {
				return "", false
			}
			out = append(out, byte(v))
			i += 2
		case c >= '!' && c <= '~' && c != '=':
			out = append(out, c)
		default:
			return "", false
		}
	}
	return string(out), true
}
