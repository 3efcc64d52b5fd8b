package imapserver

// IMAP4rev2 (RFC 9051), switched on per session by ENABLE IMAP4rev2 as in
// Cyrus 3.10 and Dovecot 2.4: IMAP4rev1 stays the default. Once enabled
// (Appendix E of RFC 9051):
//   - SEARCH without RETURN answers with ESEARCH (6.4.4, 7.3.4);
//   - there is no RECENT response, no \Recent flag and no [UNSEEN n] on
//     SELECT (E.6, E.7);
//   - SELECT and EXAMINE send the LIST response of the mailbox (6.3.2);
//   - mailbox names are UTF-8 on the wire, not modified UTF-7 (5.1), and
//     quoted strings may carry UTF-8 (9, QUOTED-CHAR).
// STATUS DELETED is accepted in either mode (mailboxes.go).

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/cyrusgo/cyrusgo/libcyrus/mboxname"
)

// rev2 reports whether ENABLE IMAP4rev2 was accepted.
func (ss *session) rev2() bool { return ss.enabled["IMAP4rev2"] }

// enableRev2 switches the session to IMAP4rev2; it reports whether it
// was off.
func (ss *session) enableRev2() bool {
	if ss.rev2() {
		return false
	}
	ss.enabled["IMAP4rev2"] = true
	ss.w.SetUTF8Accept(true)
	return true
}

// utf8Wire reports whether quoted strings may carry UTF-8: after ENABLE
// UTF8=ACCEPT (RFC 6855 3) or IMAP4rev2 (RFC 9051 9).
func (ss *session) utf8Wire() bool { return ss.enabled["UTF8=ACCEPT"] || ss.rev2() }

// decodeName is a client's mailbox name as UTF-8: modified UTF-7 in
// IMAP4rev1 (RFC 3501 5.1.3), UTF-8 as it is in IMAP4rev2 (RFC 9051 5.1).
func (ss *session) decodeName(wire string) (string, error) {
	if ss.rev2() {
		if !utf8.ValidString(wire) {
			return "", &mboxname.NameError{Name: wire, Reason: "invalid UTF-8"}
		}
		return wire, nil
	}
	if isASCII(wire) {
		return mboxname.DecodeMUTF7(wire)
	}
	return decodeMixedName(wire)
}

// decodeMixedName reads an IMAP4rev1 name that carries raw UTF-8, which
// modified UTF-7 never does: clients that see IMAP4rev2 offered but do
// not enable it (go-imap v2) send non-ASCII raw and "&" as "&-". The
// ASCII runs are modified UTF-7; the 8-bit runs are kept as they are.
func decodeMixedName(wire string) (string, error) {
	if !utf8.ValidString(wire) {
		return "", &mboxname.NameError{Name: wire, Reason: "invalid UTF-8"}
	}
	var b strings.Builder
	for rest := wire; rest != ""; {
		n := 0
		for n < len(rest) && rest[n] < utf8.RuneSelf {
			n++
		}
		if n > 0 {
			dec, err := mboxname.DecodeMUTF7(rest[:n])
			if err != nil {
				return "", err
			}
			b.WriteString(dec)
			rest = rest[n:]
			continue
		}
		for n < len(rest) && rest[n] >= utf8.RuneSelf {
			n++
		}
		b.WriteString(rest[:n])
		rest = rest[n:]
	}
	return b.String(), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// encodeName is the wire form of a UTF-8 mailbox name.
func (ss *session) encodeName(name string) string {
	if ss.rev2() {
		return name
	}
	return mboxname.EncodeMUTF7(name)
}

// writeSelectedList writes the LIST response of the mailbox just
// selected (RFC 9051 6.3.2), with the attributes a LIST of its name
// would give.
func (ss *session) writeSelectedList(internal string) {
	ext, err := ss.toExternal(internal)
	if err != nil {
		return
	}
	l, err := ss.newListing([]string{ext})
	if err != nil {
		return
	}
	n := l.byExt[ext]
	if n == nil {
		return
	}
	ss.writeListNode(&listCmd{verb: "LIST"}, l, n)
}

// creatableName reports whether CREATE or RENAME may make a mailbox of
// this wire name. RFC 9051 5.1: in IMAP4rev2 a new name must be
// Net-Unicode (RFC 5198): NFC, and no control characters. Denormalized
// names are refused rather than normalized, so that every command finds
// a mailbox under the very name that created it.
func (ss *session) creatableName(wire string) bool {
	if !ss.rev2() {
		return true
	}
	for _, r := range wire {
		if r < 0x20 || r >= 0x7f && r <= 0x9f {
			return false
		}
	}
	return norm.NFC.IsNormalString(wire)
}
