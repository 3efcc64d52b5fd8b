// Package acl owns mailbox access control lists: the rights of RFC 4314,
// their letters, Cyrus's stored ACL format and the SETACL edits, and the
// rights an identity holds on a mailbox.
//
// Rights follow Cyrus 3.6: the RFC 4314 rights l r s w i p k x t e a n, the
// site rights 0-9 (RFC 4314 2.1 leaves digits to the implementation; Cyrus
// offers them in LISTRIGHTS), and the obsolete RFC 2086 rights c and d kept
// as "virtual" rights (RFC 4314 2.1.1): c stands for k and x (Cyrus's
// deleteright default "c"), d for t and e. They are never stored as bits;
// they are parsed into their members and shown whenever any member is held,
// which is why Cyrus answers MYRIGHTS with "lrswipkxtecdan".
//
// The package holds no state and does no I/O; an ACL is a value that the
// mailbox store keeps in its mailbox list, and the store (never the protocol
// code) asks it for rights.
package acl

import (
	"fmt"
	"strings"
)

// Rights is a set of access rights. The bit values are Cyrus's (lib/acl.h),
// so masks read the same in both.
type Rights uint32

// The rights of RFC 4314 2.1 and the site rights 0-9.
const (
	Lookup         Rights = 0x000001 // l: mailbox is visible to LIST/LSUB, SUBSCRIBE
	Read           Rights = 0x000002 // r: SELECT, EXAMINE, FETCH, SEARCH, COPY from
	Seen           Rights = 0x000004 // s: keep \Seen across sessions
	Write          Rights = 0x000008 // w: set flags other than \Seen and \Deleted
	Insert         Rights = 0x000010 // i: APPEND, COPY into
	Post           Rights = 0x000020 // p: send mail to the submission address (LMTP +folder)
	Create         Rights = 0x000040 // k: create child mailboxes
	DeleteMailbox  Rights = 0x000080 // x: delete or rename the mailbox
	DeleteMessages Rights = 0x000100 // t: set or clear \Deleted
	Expunge        Rights = 0x000200 // e: EXPUNGE
	Admin          Rights = 0x000400 // a: SETACL, DELETEACL, GETACL, LISTRIGHTS
	Annotate       Rights = 0x000800 // n: write shared annotations (RFC 5257/5464)
	User1          Rights = 0x001000
	User2          Rights = 0x002000
	User3          Rights = 0x004000
	User4          Rights = 0x008000
	User5          Rights = 0x010000
	User6          Rights = 0x020000
	User7          Rights = 0x040000
	User8          Rights = 0x080000
	User9          Rights = 0x100000
	User0          Rights = 0x200000
)

const (
	// None is the empty set.
	None Rights = 0
	// All is every RFC 4314 right, Cyrus's ACL_ALL: what the owner of a new
	// user INBOX gets, shown "lrswipkxtecdan".
	All = Lookup | Read | Seen | Write | Insert | Post | Create | DeleteMailbox |
		DeleteMessages | Expunge | Admin | Annotate
	// Full adds the site rights 0-9 (Cyrus's ACL_FULL).
	Full = All | User0 | User1 | User2 | User3 | User4 | User5 | User6 | User7 | User8 | User9
	// LegacyCreate are the members of the obsolete right c (RFC 4314
	// 2.1.1, with Cyrus's default deleteright "c": create and delete).
	LegacyCreate = Create | DeleteMailbox
	// LegacyDelete are the members of the obsolete right d (RFC 4314
	// 2.1.1): delete messages and expunge.
	LegacyDelete = DeleteMessages | Expunge
	// ReadWrite are the rights an EXAMINE drops (Cyrus's ACL_READ_WRITE).
	ReadWrite = Seen | Write | Insert | DeleteMessages | Expunge | Annotate
	// ImplicitAdmin are the rights Cyrus gives a user listed in admins on
	// every mailbox (l and a). RightsFor never adds them: whether an
	// identity is an admin is the caller's decision.
	ImplicitAdmin = Lookup | Admin
	// DefaultImplicitOwner is Cyrus 3.6's implicit_owner_rights, "lkxan".
	DefaultImplicitOwner = Lookup | Create | DeleteMailbox | Admin | Annotate
)

// order lists the real rights in canonical order; String puts the virtual
// c and d after e.
const order = "lrswipkxtean0123456789"

// letterRight returns the right of a letter of order.
func letterRight(c byte) (Rights, bool) {
	switch c {
	case 'l':
		return Lookup, true
	case 'r':
		return Read, true
	case 's':
		return Seen, true
	case 'w':
		return Write, true
	case 'i':
		return Insert, true
	case 'p':
		return Post, true
	case 'k':
		return Create, true
	case 'x':
		return DeleteMailbox, true
	case 't':
		return DeleteMessages, true
	case 'e':
		return Expunge, true
	case 'a':
		return Admin, true
	case 'n':
		return Annotate, true
	case '0':
		return User0, true
	}
	if c >= '1' && c <= '9' {
		return User1 << (c - '1'), true
	}
	return 0, false
}

// RightsError reports a right letter that is not supported. RFC 4314 3.1:
// an unrecognised right in SETACL makes the command fail with BAD. The
// text is Cyrus's.
type RightsError struct {
	Rights string // the rights string as given
	Right  rune   // the first unsupported letter
}

func (e *RightsError) Error() string {
	return fmt.Sprintf("The %c right is not supported", e.Right)
}

// ParseRights parses a rights string such as "lrswipkxtecdan". Order and
// repetition do not matter. The obsolete c and d (RFC 4314 2.1.1) are
// handled as Cyrus 3.6 does: a c or d stands for all its members unless
// the string also names one of them, in which case it adds nothing (so
// "lrc" is l r k x, while "lrkc" is l r k). Any other letter is a
// *RightsError.
func ParseRights(s string) (Rights, error) {
	var r, legacy Rights
	for i, c := range s {
		switch c {
		case 'c':
			legacy |= LegacyCreate
			continue
		case 'd':
			legacy |= LegacyDelete
			continue
		}
		if c >= 0x80 {
			return 0, &RightsError{Rights: s, Right: c}
		}
		bit, ok := letterRight(s[i])
		if !ok {
			return 0, &RightsError{Rights: s, Right: c}
		}
		r |= bit
	}
	for _, macro := range [...]Rights{LegacyCreate, LegacyDelete} {
		if legacy&macro != 0 && r&macro == 0 {
			r |= macro
		}
	}
	return r, nil
}

// String returns the rights in Cyrus's canonical order "lrswipkxtecdan"
// followed by the digits 0-9, with c shown when k or x is held and d when
// t or e is (RFC 4314 2.1.1). It is also the stored form: ParseRights of
// String gives the same set back.
func (r Rights) String() string {
	var b strings.Builder
	for i := 0; i < len(order); i++ {
		c := order[i]
		if bit, _ := letterRight(c); r&bit != 0 {
			b.WriteByte(c)
		}
		if c == 'e' {
			writeLegacy(&b, r)
		}
	}
	return b.String()
}

func writeLegacy(b *strings.Builder, r Rights) {
	if r&LegacyCreate != 0 {
		b.WriteByte('c')
	}
	if r&LegacyDelete != 0 {
		b.WriteByte('d')
	}
}

// Has reports whether r holds every right in want.
func (r Rights) Has(want Rights) bool { return r&want == want }

// HasAny reports whether r holds at least one right in want.
func (r Rights) HasAny(want Rights) bool { return r&want != 0 }
