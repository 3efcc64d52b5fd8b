package acl

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
)

// Special identifiers (RFC 4314 2; "anonymous" and "group:" are Cyrus's).
const (
	// Anyone matches every identity, anonymous ones included.
	Anyone = "anyone"
	// Anonymous matches anonymous logins only.
	Anonymous = "anonymous"
	// GroupPrefix starts the identifier of a group: "group:staff".
	GroupPrefix = "group:"
)

// Entry is one access control entry. An Identifier starting with "-" is a
// negative entry (RFC 4314 2): its rights are taken away from whoever the
// rest of the identifier matches.
type Entry struct {
	Identifier string
	Rights     Rights
}

// Negative reports whether e takes rights away.
func (e Entry) Negative() bool { return strings.HasPrefix(e.Identifier, "-") }

// ACL is an ordered access control list with one entry per identifier
// (a positive and a negative entry for the same name are two identifiers).
// The zero value is the empty ACL. Methods that change an ACL build new
// storage, so copies of an ACL value never affect each other.
type ACL struct {
	entries []Entry
}

// ParseError reports a stored ACL that does not parse.
type ParseError struct {
	ACL    string
	Reason string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("bad ACL %q: %s", e.ACL, e.Reason)
}

// Parse parses an ACL in Cyrus's stored form, as in mailboxes.db and
// cyrus.header: "identifier<TAB>rights<TAB>" repeated, the empty string
// being the empty ACL. Unlike Cyrus, which skips what it cannot read, it
// refuses a missing final tab, an empty or repeated identifier, a bad
// identifier and unsupported rights, with a *ParseError.
func Parse(s string) (ACL, error) {
	if s == "" {
		return ACL{}, nil
	}
	if !strings.HasSuffix(s, "\t") {
		return ACL{}, &ParseError{ACL: s, Reason: "does not end with a tab"}
	}
	fields := strings.Split(s[:len(s)-1], "\t")
	if len(fields)%2 != 0 {
		return ACL{}, &ParseError{ACL: s, Reason: "identifier without rights"}
	}
	a := ACL{entries: make([]Entry, 0, len(fields)/2)}
	for i := 0; i < len(fields); i += 2 {
		id := fields[i]
		if err := checkIdentifier(id); err != nil {
			return ACL{}, &ParseError{ACL: s, Reason: err.Error()}
		}
		if a.index(id) >= 0 {
			return ACL{}, &ParseError{ACL: s, Reason: fmt.Sprintf("identifier %q appears twice", id)}
		}
		r, err := ParseRights(fields[i+1])
		if err != nil {
			return ACL{}, &ParseError{ACL: s, Reason: fmt.Sprintf("rights of %q: %v", id, err)}
		}
		a.entries = append(a.entries, Entry{Identifier: id, Rights: r})
	}
	return a, nil
}

// String returns the ACL in Cyrus's stored form (see Parse), rights in
// canonical order with the virtual c and d, as Cyrus writes them.
func (a ACL) String() string {
	var b strings.Builder
	for _, e := range a.entries {
		b.WriteString(e.Identifier)
		b.WriteByte('\t')
		b.WriteString(e.Rights.String())
		b.WriteByte('\t')
	}
	return b.String()
}

// Entries returns the entries in order, as GETACL lists them. The slice is
// the caller's.
func (a ACL) Entries() []Entry { return slices.Clone(a.entries) }

// Get returns the rights of exactly identifier ("-bob" for bob's negative
// entry), and whether it has an entry.
func (a ACL) Get(identifier string) (Rights, bool) {
	if i := a.index(identifier); i >= 0 {
		return a.entries[i].Rights, true
	}
	return 0, false
}

func (a ACL) index(identifier string) int {
	return slices.IndexFunc(a.entries, func(e Entry) bool { return e.Identifier == identifier })
}

// IdentifierError reports an identifier that cannot be in an ACL.
type IdentifierError struct {
	Identifier string
	Reason     string
}

func (e *IdentifierError) Error() string {
	return fmt.Sprintf("invalid identifier %q: %s", e.Identifier, e.Reason)
}

// checkIdentifier refuses identifiers that would break the stored form or
// mean nothing: empty (also after "-"), a tab, control characters, bytes
// that are not UTF-8.
func checkIdentifier(id string) error {
	name := strings.TrimPrefix(id, "-")
	switch {
	case name == "":
		return &IdentifierError{Identifier: id, Reason: "empty"}
	case !utf8.ValidString(id):
		return &IdentifierError{Identifier: id, Reason: "not valid UTF-8"}
	case strings.ContainsFunc(id, unicode.IsControl):
		return &IdentifierError{Identifier: id, Reason: "contains a control character"}
	}
	return nil
}

// Set changes the entry of identifier as IMAP SETACL does (RFC 4314 3.1):
// mod "+rights" adds rights, "-rights" removes them, plain "rights"
// replaces them, and the empty string removes the entry, as does any change
// that leaves no rights. A new identifier is appended; an existing one keeps
// its place. identifier "-name" edits name's negative entry. Errors are a
// *RightsError (unsupported right: BAD) or an *IdentifierError.
func (a *ACL) Set(identifier, mod string) error {
	return a.SetOwned(identifier, mod, "", 0)
}

// SetOwned is Set on a mailbox owned by owner (mboxname.Owner), keeping
// Cyrus's rule (mboxlist_ensureOwnerRights) that the owner cannot lose the
// implicit owner rights through the ACL: a change to owner's entry always
// leaves implicitOwner in it, and a change to "-owner" never takes any of
// them away. Entries of other identifiers are edited as by Set. Whether
// the caller may make the change at all (a right, and Cyrus's refusal to
// let a non-admin take a from the owner) is the caller's check.
func (a *ACL) SetOwned(identifier, mod, owner string, implicitOwner Rights) error {
	if err := checkIdentifier(identifier); err != nil {
		return err
	}
	var change Rights
	mode := mod
	switch {
	case mod == "":
	case mod[0] == '+' || mod[0] == '-':
		mode = mod[:1]
		r, err := ParseRights(mod[1:])
		if err != nil {
			return err
		}
		change = r
	default:
		mode = "="
		r, err := ParseRights(mod)
		if err != nil {
			return err
		}
		change = r
	}
	i := a.index(identifier)
	var old Rights
	if i >= 0 {
		old = a.entries[i].Rights
	}
	var r Rights
	switch mode {
	case "+":
		r = old | change
	case "-":
		r = old &^ change
	case "=":
		r = change
	}
	if owner != "" {
		if identifier == owner {
			r |= implicitOwner
		} else if identifier == "-"+owner {
			r &^= implicitOwner
		}
	}
	entries := slices.Clone(a.entries)
	switch {
	case r == 0 && i >= 0:
		entries = slices.Delete(entries, i, i+1)
	case r == 0:
	case i >= 0:
		entries[i].Rights = r
	default:
		entries = append(entries, Entry{Identifier: identifier, Rights: r})
	}
	a.entries = entries
	return nil
}

// Delete removes the entry of exactly identifier (DELETEACL, RFC 4314
// 3.2) and reports whether there was one.
func (a *ACL) Delete(identifier string) bool {
	i := a.index(identifier)
	if i < 0 {
		return false
	}
	a.entries = slices.Delete(slices.Clone(a.entries), i, i+1)
	return true
}

// Identity is who asks for rights.
type Identity struct {
	// UserID is the canonical userid (user or user@domain). It is ignored
	// for anonymous identities.
	UserID string
	// Admin records that UserID is in admins. RightsFor does not look at
	// it: Cyrus gives admins ImplicitAdmin on every mailbox and lets them
	// bypass most checks, which is the store's decision, not the ACL's.
	Admin bool
	// Anonymous is an anonymous login.
	Anonymous bool
	// Groups are the names of the groups UserID belongs to, without the
	// "group:" prefix; they match the identifiers "group:<name>".
	Groups []string
}

// matches reports whether the identifier (without "-") names id, as
// Cyrus's auth_memberof: anyone matches everybody, anonymous only anonymous
// logins, group:x members of x, and anything else the exact userid.
func (id Identity) matches(identifier string) bool {
	switch {
	case identifier == Anyone:
		return true
	case id.Anonymous:
		return identifier == Anonymous
	case identifier == Anonymous:
		return false
	case strings.HasPrefix(identifier, GroupPrefix):
		return slices.Contains(id.Groups, identifier[len(GroupPrefix):])
	}
	return id.UserID != "" && identifier == id.UserID
}

// Policy holds the imapd.conf options that shape rights.
type Policy struct {
	// ImplicitOwner are rights the owner of a mailbox always holds
	// (implicit_owner_rights).
	ImplicitOwner Rights
	// AdminImpliesWrite gives whoever holds a through the ACL the write
	// rights too (acl_admin_implies_write).
	AdminImpliesWrite bool
	// DefaultACL is the ACL of a new shared mailbox with no parent
	// (defaultacl). Use NewSharedACL, which copies it.
	DefaultACL ACL
}

// DefaultPolicy returns Cyrus 3.6's defaults: implicit_owner_rights
// "lkxan", acl_admin_implies_write off, defaultacl "anyone lrs".
func DefaultPolicy() Policy {
	return Policy{
		ImplicitOwner: DefaultImplicitOwner,
		DefaultACL:    ACL{entries: []Entry{{Identifier: Anyone, Rights: Lookup | Read | Seen}}},
	}
}

// PolicyFromConfig reads implicit_owner_rights, acl_admin_implies_write and
// defaultacl. Cyrus ignores letters it does not know there; here they are
// an error, so a typo does not silently change rights.
func PolicyFromConfig(cfg *config.Config) (Policy, error) {
	implicit, err := ParseRights(cfg.String(config.ImplicitOwnerRights))
	if err != nil {
		return Policy{}, fmt.Errorf("implicit_owner_rights: %w", err)
	}
	def, err := ParseDefaultACL(cfg.String(config.DefaultACL))
	if err != nil {
		return Policy{}, fmt.Errorf("defaultacl: %w", err)
	}
	return Policy{
		ImplicitOwner:     implicit,
		AdminImpliesWrite: cfg.Bool(config.ACLAdminImpliesWrite),
		DefaultACL:        def,
	}, nil
}

// ParseDefaultACL parses the defaultacl option: identifier and rights
// pairs separated by white space, "anyone lrs" by default. An identifier
// without rights is an error (Cyrus silently drops it).
func ParseDefaultACL(s string) (ACL, error) {
	f := strings.Fields(s)
	if len(f)%2 != 0 {
		return ACL{}, fmt.Errorf("identifier %q has no rights", f[len(f)-1])
	}
	var a ACL
	for i := 0; i < len(f); i += 2 {
		if strings.HasPrefix(f[i+1], "+") || strings.HasPrefix(f[i+1], "-") {
			return ACL{}, fmt.Errorf("rights of %q: %w", f[i], &RightsError{Rights: f[i+1], Right: rune(f[i+1][0])})
		}
		if err := a.Set(f[i], f[i+1]); err != nil {
			return ACL{}, fmt.Errorf("rights of %q: %w", f[i], err)
		}
	}
	return a, nil
}

// NewSharedACL returns the ACL of a new shared mailbox that has no parent
// mailbox (Cyrus copies the parent's ACL when there is one).
func (p Policy) NewSharedACL() ACL {
	return ACL{entries: slices.Clone(p.DefaultACL.entries)}
}

// DefaultForUser returns the ACL of a new user INBOX: its owner with All,
// shown "lrswipkxtecdan" (Cyrus's mboxlist_create_acl). userid is the
// canonical owner, user@domain for a virtual domain.
func DefaultForUser(userid string) ACL {
	return ACL{entries: []Entry{{Identifier: userid, Rights: All}}}
}

// RightsFor returns the rights id holds on a mailbox with this ACL whose
// owner is owner ("" for a shared mailbox), as Cyrus 3.6 computes MYRIGHTS:
// the union of the positive entries that match id, minus the union of the
// matching negative entries (RFC 4314 2), plus implicitOwner when id is the
// owner, after the negative entries so that the owner cannot be locked out.
// Admins get nothing extra here (see Identity.Admin and ImplicitAdmin).
func (a ACL) RightsFor(id Identity, owner string, implicitOwner Rights) Rights {
	return a.Evaluate(id, owner, Policy{ImplicitOwner: implicitOwner})
}

// Evaluate is RightsFor with every policy option; AdminImpliesWrite adds
// the write rights to a positive a before negative entries apply, as
// Cyrus's cyrus_acl_myrights.
func (a ACL) Evaluate(id Identity, owner string, p Policy) Rights {
	var pos, neg Rights
	for _, e := range a.entries {
		if name, ok := strings.CutPrefix(e.Identifier, "-"); ok {
			if id.matches(name) {
				neg |= e.Rights
			}
		} else if id.matches(e.Identifier) {
			pos |= e.Rights
		}
	}
	if p.AdminImpliesWrite && pos&Admin != 0 {
		pos |= ReadWrite
	}
	r := pos &^ neg
	if owner != "" && !id.Anonymous && id.UserID == owner {
		r |= p.ImplicitOwner
	}
	return r
}
