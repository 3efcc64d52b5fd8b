package mboxname

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameLen is the longest internal name accepted, in bytes: Cyrus's
// MAX_MAILBOX_NAME. Validate applies it both to the UTF-8 name and to its
// modified UTF-7 form, which is what Cyrus measures and stores.
const MaxNameLen = 490

// Sep is the separator of internal names, whatever the namespace.
const Sep = '.'

// NameError reports a mailbox name that cannot be used or translated. Name
// is the name as given (external or internal, as the operation took it).
type NameError struct {
	Name   string
	Reason string
}

func (e *NameError) Error() string {
	return fmt.Sprintf("invalid mailbox name %q: %s", e.Name, e.Reason)
}

func nameErrorf(name, format string, args ...any) *NameError {
	return &NameError{Name: name, Reason: fmt.Sprintf(format, args...)}
}

// badChars are the printable ASCII characters Cyrus's mboxname_policycheck
// refuses in a mailbox name (every printable character outside its
// GOODCHARS, except "&", which is only special in the modified UTF-7 form
// and is "&-" there). "/" is refused because it is the external separator
// under unixhierarchysep and a directory separator on disk; "!" is allowed
// only as the end of the domain part.
const badChars = "!\"%/;<>\\`{|}"

// Validate checks that internal is a name a mailbox may have. It refuses,
// with a *NameError saying why:
//   - an empty name, a name longer than MaxNameLen bytes (in UTF-8 or in
//     modified UTF-7), bytes that are not UTF-8, control characters (NUL,
//     CR, LF, TAB, DEL, C1);
//   - a leading or trailing separator, an empty component (".."), a leading
//     "/", "~" or "$" (Cyrus reserves "$" keys in mailboxes.db), and a
//     component that is "." or ".." in external form (internal "^" or "^^",
//     since "^" stands for "." under unixhierarchysep);
//   - the characters Cyrus 3.6's mboxname_policycheck refuses: ! " % / ; < >
//     \ ` { | } ("!" only ends a domain part);
//   - a bad domain part ("example.com!..." must be a host name);
//   - the names Cyrus never allows: "user" alone, "user.anyone",
//     "user.anonymous" and user names starting with "%".
func Validate(internal string) error {
	if internal == "" {
		return nameErrorf(internal, "empty name")
	}
	if len(internal) > MaxNameLen {
		return nameErrorf(internal, "longer than %d bytes", MaxNameLen)
	}
	if !utf8.ValidString(internal) {
		return nameErrorf(internal, "not valid UTF-8")
	}
	if n := len(EncodeMUTF7(internal)); n > MaxNameLen {
		return nameErrorf(internal, "longer than %d bytes in modified UTF-7", MaxNameLen)
	}
	domain, rest := SplitDomain(internal)
	if strings.IndexByte(internal, '!') >= 0 {
		if err := checkDomain(internal, domain); err != nil {
			return err
		}
	}
	if rest == "" {
		return nameErrorf(internal, "empty name after the domain")
	}
	switch rest[0] {
	case '/':
		return nameErrorf(internal, "starts with /")
	case '~', '$':
		return nameErrorf(internal, "starts with %q", rest[0])
	}
	if err := checkComponents(internal, rest); err != nil {
		return err
	}
	for _, r := range rest {
		if r < utf8.RuneSelf && strings.ContainsRune(badChars, r) {
			return nameErrorf(internal, "character %q is not allowed", r)
		}
	}
	switch {
	case rest == "user":
		return nameErrorf(internal, "the user hierarchy itself is not a mailbox")
	case rest == "user.anyone", rest == "user.anonymous":
		return nameErrorf(internal, "%q is a reserved identifier, not a user", rest[len("user."):])
	case strings.HasPrefix(rest, "user.%"):
		return nameErrorf(internal, "user names must not start with %%")
	}
	return nil
}

// checkComponents checks the structure of the part of an internal name
// after the domain: no control characters, no empty components, no
// components that mean "." or "..".
func checkComponents(name, rest string) error {
	for _, r := range rest {
		if unicode.IsControl(r) {
			return nameErrorf(name, "control character %U", r)
		}
	}
	if rest[0] == Sep {
		return nameErrorf(name, "starts with the separator")
	}
	if rest[len(rest)-1] == Sep {
		return nameErrorf(name, "ends with the separator")
	}
	for c := range strings.SplitSeq(rest, string(Sep)) {
		switch c {
		case "":
			return nameErrorf(name, "empty component")
		case "^", "^^":
			return nameErrorf(name, "component %q is a relative path", strings.ReplaceAll(c, "^", "."))
		}
	}
	return nil
}

// checkDomain checks the domain part of an internal name: a host name of
// letters, digits, "-", "_" and dots, without empty labels.
func checkDomain(name, domain string) error {
	if domain == "" {
		return nameErrorf(name, "empty domain")
	}
	for i := 0; i < len(domain); i++ {
		c := domain[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.'
		if !ok {
			return nameErrorf(name, "character %q is not allowed in the domain %q", c, domain)
		}
	}
	if domain[0] == '.' || domain[len(domain)-1] == '.' || strings.Contains(domain, "..") {
		return nameErrorf(name, "domain %q has an empty label", domain)
	}
	return nil
}

// SplitDomain splits an internal name into its virtual domain and the rest:
// "example.com!user.bob" gives ("example.com", "user.bob"), "user.bob"
// gives ("", "user.bob"). Like Cyrus, the domain ends at the first "!".
func SplitDomain(internal string) (domain, rest string) {
	if d, r, ok := strings.Cut(internal, "!"); ok {
		return d, r
	}
	return "", internal
}

// mbname is an internal name taken apart, as Cyrus's mbname_t: an optional
// domain, an optional owner (the second component under "user"), and the
// remaining components. Strings hold "." where the internal name has "^".
type mbname struct {
	domain string
	local  string // owner's local part; "" for a shared mailbox
	boxes  []string
}

// userid returns the owner as a userid, local@domain, or "" when shared.
func (m mbname) userid() string {
	if m.local == "" {
		return ""
	}
	if m.domain != "" {
		return m.local + "@" + m.domain
	}
	return m.local
}

// parseInternal takes an internal name apart. It checks structure only (see
// checkComponents), not the character policy of Validate, so that any name
// a mailbox list may hold can still be shown.
func parseInternal(internal string) (mbname, error) {
	if internal == "" {
		return mbname{}, nameErrorf(internal, "empty name")
	}
	if !utf8.ValidString(internal) {
		return mbname{}, nameErrorf(internal, "not valid UTF-8")
	}
	domain, rest := SplitDomain(internal)
	if strings.IndexByte(internal, '!') >= 0 {
		if err := checkDomain(internal, domain); err != nil {
			return mbname{}, err
		}
	}
	if rest == "" {
		return mbname{}, nameErrorf(internal, "empty name after the domain")
	}
	if err := checkComponents(internal, rest); err != nil {
		return mbname{}, err
	}
	if strings.ContainsAny(rest, "/!") {
		return mbname{}, nameErrorf(internal, "contains / or !")
	}
	comps := strings.Split(rest, string(Sep))
	for i, c := range comps {
		comps[i] = strings.ReplaceAll(c, "^", ".")
	}
	m := mbname{domain: domain}
	if len(comps) > 1 && comps[0] == "user" {
		m.local = comps[1]
		comps = comps[2:]
	}
	m.boxes = comps
	return m, nil
}

// String formats m as an internal name; "." inside a component becomes "^"
// (Cyrus's _append_intbuf).
func (m mbname) String() string {
	var b strings.Builder
	if m.domain != "" {
		b.WriteString(m.domain)
		b.WriteByte('!')
	}
	sep := false
	if m.local != "" {
		b.WriteString("user.")
		b.WriteString(strings.ReplaceAll(m.local, ".", "^"))
		sep = true
	}
	for _, c := range m.boxes {
		if sep {
			b.WriteByte(Sep)
		}
		b.WriteString(strings.ReplaceAll(c, ".", "^"))
		sep = true
	}
	return b.String()
}

// UserInbox returns the internal name of the INBOX of userid:
// "bob" gives "user.bob", "bob@example.com" gives "example.com!user.bob",
// and "john.doe" gives "user.john^doe". userid must be canonical (see
// Namespace.CanonicalUserID): a default-domain userid would get a domain
// part it must not have.
func UserInbox(userid string) string {
	m := mbname{local: userid}
	if i := strings.LastIndexByte(userid, '@'); i >= 0 {
		m.local, m.domain = userid[:i], userid[i+1:]
	}
	return m.String()
}

// Owner returns the userid owning the internal name, local@domain for a
// virtual domain: "user.bob.Sent" gives "bob", "example.com!user.bob" gives
// "bob@example.com". ok is false for shared mailboxes and for names that do
// not parse.
func Owner(internal string) (userid string, ok bool) {
	m, err := parseInternal(internal)
	if err != nil || m.local == "" {
		return "", false
	}
	return m.userid(), true
}

// IsUserInbox reports whether internal is a user's INBOX, [domain!]user.X.
func IsUserInbox(internal string) bool {
	m, err := parseInternal(internal)
	return err == nil && m.local != "" && len(m.boxes) == 0
}

// Parent returns the internal name one level up, keeping the domain:
// "user.bob.Sent" gives "user.bob", "user.bob" gives "user" (the \Noselect
// root of all users, as Cyrus's mboxname_make_parent). A name of one
// component ("user", "shared", "example.com!shared") has no parent: ok is
// false.
func Parent(internal string) (parent string, ok bool) {
	domain, rest := SplitDomain(internal)
	i := strings.LastIndexByte(rest, Sep)
	if i <= 0 {
		return "", false
	}
	if domain != "" || strings.IndexByte(internal, '!') >= 0 {
		return domain + "!" + rest[:i], true
	}
	return rest[:i], true
}
