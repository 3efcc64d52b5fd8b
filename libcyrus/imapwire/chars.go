package imapwire

// Character classes of RFC 3501 section 9. The tables are built once and
// never written afterwards.

type charClass [256]bool

var (
	atomChars    = makeClass(isAtomChar)
	astringChars = makeClass(isAStringAtomChar)
	tagChars     = makeClass(IsTagChar)
	listChars    = makeClass(IsListChar)
	flagChars    = makeClass(IsAtomChar)
	digitChars   = makeClass(func(c byte) bool { return c >= '0' && c <= '9' })
	seqChars     = makeClass(func(c byte) bool { return c >= '0' && c <= '9' || c == ':' || c == ',' || c == '*' || c == '$' })
)

func makeClass(f func(byte) bool) *charClass {
	var t charClass
	for i := range 256 {
		t[i] = f(byte(i))
	}
	return &t
}

// isAtomSpecial reports whether c is in atom-specials (RFC 3501 section 9):
// "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials /
// resp-specials.
func isAtomSpecial(c byte) bool {
	switch c {
	case '(', ')', '{', ' ', '%', '*', '"', '\\', ']':
		return true
	}
	return c < 0x20 || c == 0x7f
}

// isAtomChar is ATOM-CHAR: any CHAR (%x01-7F) except atom-specials.
func isAtomChar(c byte) bool { return c < 0x80 && !isAtomSpecial(c) }

// IsAtomChar reports whether c is an ATOM-CHAR (RFC 3501 section 9).
func IsAtomChar(c byte) bool { return isAtomChar(c) }

// IsAStringChar reports whether c is an ASTRING-CHAR: ATOM-CHAR or "]"
// (RFC 3501 section 9).
func IsAStringChar(c byte) bool { return isAtomChar(c) || c == ']' }

// isAStringAtomChar is what ReadAString accepts in the atom form: ASTRING-CHAR
// and, as Cyrus does, 8-bit bytes (UTF-8 mailbox names from RFC 6855
// clients that do not quote them).
func isAStringAtomChar(c byte) bool { return IsAStringChar(c) || c >= 0x80 }

// IsTagChar reports whether c may appear in a tag: any ASTRING-CHAR except
// "+" (RFC 3501 section 9).
func IsTagChar(c byte) bool { return IsAStringChar(c) && c != '+' }

// IsListChar reports whether c is a list-char: ATOM-CHAR, list-wildcards
// or resp-specials (RFC 3501 section 9), or, as in ReadAString, an 8-bit
// byte.
func IsListChar(c byte) bool { return IsAStringChar(c) || c == '%' || c == '*' || c >= 0x80 }
