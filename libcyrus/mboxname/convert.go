package mboxname

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// user is an authenticated userid taken apart: the local part and the
// domain, "" for defaultdomain or without virtual domains.
type user struct {
	local, domain string
}

func (u user) userid() string {
	if u.domain != "" {
		return u.local + "@" + u.domain
	}
	return u.local
}

// parseUser canonicalises userid as Cyrus's mbname_from_userid sees it
// after login: the domain starts at the last "@" and is lower-cased, a
// defaultdomain userid has no domain, and without virtual domains only the
// local part counts (virtdomains: off, "Cyrus does not know or care about
// domains"). An empty userid is an anonymous session, with no INBOX.
func (ns Namespace) parseUser(userid string) (user, error) {
	if userid == "" {
		return user{}, nil
	}
	u := user{local: userid}
	if i := strings.LastIndexByte(userid, '@'); i >= 0 {
		u.local = userid[:i]
		if ns.VirtDomains != VirtDomainsOff {
			u.domain = strings.ToLower(userid[i+1:])
			if strings.EqualFold(u.domain, ns.DefaultDomain) {
				u.domain = ""
			} else if err := checkDomain(userid, u.domain); err != nil {
				return user{}, userError(userid, err)
			}
		}
	}
	if u.local == "" {
		return user{}, nameErrorf(userid, "userid has an empty local part")
	}
	for _, r := range u.local {
		if unicode.IsControl(r) || r == '!' || r == '/' || r == '^' {
			return user{}, nameErrorf(userid, "userid contains %q", r)
		}
	}
	if u.local == "." || u.local == ".." {
		return user{}, nameErrorf(userid, "userid is a relative path")
	}
	if !utf8.ValidString(u.local) {
		return user{}, nameErrorf(userid, "userid is not valid UTF-8")
	}
	return u, nil
}

func userError(userid string, err error) error {
	if ne, ok := err.(*NameError); ok {
		return nameErrorf(userid, "bad userid: %s", ne.Reason)
	}
	return err
}

// CanonicalUserID returns userid as the mailbox layer names users: the
// domain lower-cased, no domain for defaultdomain or when virtdomains is
// off. Owner and UserInbox expect userids in this form.
func (ns Namespace) CanonicalUserID(userid string) (string, error) {
	u, err := ns.parseUser(userid)
	if err != nil {
		return "", err
	}
	return u.userid(), nil
}

// ToInternal translates external, a mailbox name as the client userid
// sent it but already decoded from modified UTF-7 (DecodeMUTF7), into an
// internal name. userid may be user@domain and is empty for anonymous
// sessions, which have no INBOX.
//
// The rules are Cyrus 3.6's mbname_from_extname without crossdomains:
//   - "INBOX" in any case is the user's INBOX; in the standard namespace
//     "INBOX.x" is the folder x, "user.bob.x" bob's folder x and anything
//     else a shared mailbox;
//   - in the alternate namespace "x" is the user's folder x, "Other
//     Users/bob/x" bob's folder, "Shared Folders/s/x" the shared s.x, and
//     "Alt Folders/x" the user's folder x even when x clashes with INBOX or
//     a prefix; "Other Users" alone is "user", the parent of every user;
//   - a normal user's names are always in the user's own domain; an admin
//     with virtual domains names another domain with an "@domain" suffix;
//   - under unixhierarchysep a "." inside a component is kept and stored
//     as "^"; in the standard separator "^" stands for ".".
//
// It refuses names it cannot map (empty components, so a CREATE must strip
// a trailing separator first; "^" under unixhierarchysep; "/" with the "."
// separator; "!"; control characters) with a *NameError. It does not apply
// the creation policy: call Validate before creating a mailbox.
func (ns Namespace) ToInternal(external, userid string) (string, error) {
	u, err := ns.parseUser(userid)
	if err != nil {
		return "", err
	}
	if external == "" {
		return "", nameErrorf(external, "empty name")
	}
	if !utf8.ValidString(external) {
		return "", nameErrorf(external, "not valid UTF-8")
	}
	for _, r := range external {
		if unicode.IsControl(r) {
			return "", nameErrorf(external, "control character %U", r)
		}
	}
	m := mbname{domain: u.domain}
	name := external
	if ns.adminDomains() {
		if i := strings.LastIndexByte(name, '@'); i >= 0 {
			d := strings.ToLower(name[i+1:])
			name = name[:i]
			if strings.EqualFold(d, ns.DefaultDomain) {
				d = ""
			} else if err := checkDomain(external, d); err != nil {
				return "", err
			}
			m.domain = d
		}
	}
	comps, err := ns.splitExternal(external, name)
	if err != nil {
		return "", err
	}
	own := func() error {
		if u.local == "" {
			return nameErrorf(external, "an anonymous session has no personal mailboxes")
		}
		m.local = u.local
		return nil
	}
	top := comps[0]
	if ns.alt() {
		switch top {
		case ns.altPrefix():
			if err := own(); err != nil {
				return "", err
			}
			m.boxes = comps[1:]
		case ns.userPrefix():
			if len(comps) == 1 {
				m.boxes = []string{"user"}
				break
			}
			m.local, m.boxes = comps[1], comps[2:]
		case ns.sharedPrefix():
			if len(comps) == 1 {
				return "", nameErrorf(external, "the shared namespace itself is not a mailbox")
			}
			m.boxes = comps[1:]
		default:
			if err := own(); err != nil {
				return "", err
			}
			m.boxes = comps
			if strings.EqualFold(top, "INBOX") {
				// Cyrus: INBOX alone is the INBOX, any case; with
				// children it is the folder spelled "INBOX" exactly.
				if len(comps) == 1 {
					m.boxes = nil
				} else {
					comps[0] = "INBOX"
				}
			}
		}
		return m.String(), nil
	}
	switch {
	case strings.EqualFold(top, "INBOX"):
		if err := own(); err != nil {
			return "", err
		}
		m.boxes = comps[1:]
	case top == "user" && len(comps) > 1:
		m.local, m.boxes = comps[1], comps[2:]
	default:
		m.boxes = comps
	}
	return m.String(), nil
}

// splitExternal splits the external name (without an admin's @domain)
// into components, undoing the separator escape: "^" means "." when the
// separator is ".", and is refused under unixhierarchysep, where it would
// be read back as ".". orig is the name for errors.
func (ns Namespace) splitExternal(orig, name string) ([]string, error) {
	if name == "" {
		return nil, nameErrorf(orig, "empty name")
	}
	sep := string(ns.Separator())
	comps := strings.Split(name, sep)
	for i, c := range comps {
		switch {
		case c == "":
			return nil, nameErrorf(orig, "empty component (leading, trailing or double %q)", sep)
		case c == "." || c == "..":
			return nil, nameErrorf(orig, "component %q is a relative path", c)
		case strings.IndexByte(c, '!') >= 0:
			return nil, nameErrorf(orig, "character '!' is not allowed")
		case ns.UnixHierSep && strings.IndexByte(c, '^') >= 0:
			return nil, nameErrorf(orig, "character '^' is not allowed with the / separator")
		case !ns.UnixHierSep && strings.IndexByte(c, '/') >= 0:
			return nil, nameErrorf(orig, "character '/' is not allowed with the . separator")
		}
		if !ns.UnixHierSep {
			c = strings.ReplaceAll(c, "^", ".")
			if c == "." || c == ".." {
				return nil, nameErrorf(orig, "component %q is a relative path", c)
			}
			comps[i] = c
		}
	}
	return comps, nil
}

// ToExternal translates the internal name into the name the client userid
// sees, in UTF-8 (encode it with EncodeMUTF7 for the wire). It is the
// inverse of ToInternal: for every name it accepts, ToInternal of the
// result is internal again.
//
// Some names have no external form for this user, and give a *NameError:
// mailboxes of another domain (to anyone but an admin with virtual
// domains), and in the standard namespace a shared mailbox named INBOX in
// any case. Cyrus shows other domains' mailboxes without their domain in
// the alternate namespace; that name would lead back to a different
// mailbox, so here it is refused too.
//
// An admin with virtual domains sees "@domain" after names of other
// domains, as in Cyrus. Where Cyrus leaves a default-domain name bare
// although the bare name reads back differently (for a domain admin, whose
// bare names are in the admin's own domain, or when the name holds an
// "@"), "@" and defaultdomain are added, so the name always leads back.
func (ns Namespace) ToExternal(internal, userid string) (string, error) {
	u, err := ns.parseUser(userid)
	if err != nil {
		return "", err
	}
	m, err := parseInternal(internal)
	if err != nil {
		return "", err
	}
	if strings.EqualFold(m.domain, ns.DefaultDomain) {
		m.domain = ""
	}
	sep := string(ns.Separator())
	var b strings.Builder
	put := func(c string) {
		if !ns.UnixHierSep {
			c = strings.ReplaceAll(c, ".", "^")
		}
		b.WriteString(c)
	}
	putBoxes := func(boxes []string, lead bool) {
		for i, c := range boxes {
			if lead || i > 0 {
				b.WriteString(sep)
			}
			put(c)
		}
	}
	foreign := func() error {
		return nameErrorf(internal, "not visible to %q: mailbox of another domain", userid)
	}
	isOwn := m.local != "" && m.userid() == u.userid()

	if ns.alt() {
		switch {
		case m.local == "":
			if m.domain != u.domain {
				return "", foreign()
			}
			if len(m.boxes) == 1 && m.boxes[0] == "user" {
				return ns.userPrefix(), nil
			}
			b.WriteString(ns.sharedPrefix())
			putBoxes(m.boxes, true)
		case !isOwn:
			if m.domain != u.domain {
				return "", foreign()
			}
			b.WriteString(ns.userPrefix())
			b.WriteString(sep)
			put(m.local)
			putBoxes(m.boxes, true)
		case len(m.boxes) == 0:
			b.WriteString("INBOX")
		default:
			// Personal folders whose first component would be read as
			// INBOX or as a prefix go under altprefix.
			top := m.boxes[0]
			clash := top == ns.userPrefix() || top == ns.sharedPrefix() || top == ns.altPrefix()
			if strings.EqualFold(top, "INBOX") {
				clash = len(m.boxes) == 1 || top != "INBOX"
			}
			if clash {
				b.WriteString(ns.altPrefix())
				b.WriteString(sep)
			}
			putBoxes(m.boxes, false)
		}
		return b.String(), nil
	}

	switch {
	case m.local == "":
		if strings.EqualFold(m.boxes[0], "INBOX") {
			return "", nameErrorf(internal, "a shared mailbox named INBOX has no name in the standard namespace")
		}
		if !ns.adminDomains() && m.domain != u.domain {
			return "", foreign()
		}
		putBoxes(m.boxes, false)
	case !isOwn:
		if !ns.adminDomains() && m.domain != u.domain {
			return "", foreign()
		}
		b.WriteString("user")
		b.WriteString(sep)
		put(m.local)
		putBoxes(m.boxes, true)
	default:
		b.WriteString("INBOX")
		putBoxes(m.boxes, true)
	}
	if ns.adminDomains() {
		// An admin names the domain with a suffix. A name in the default
		// domain gets the default domain spelled out when ToInternal would
		// read it otherwise: for a domain admin, whose names without a
		// suffix are in the admin's domain, and when the name holds an "@"
		// whose tail would be taken for a domain.
		switch {
		case m.domain != "":
			b.WriteString("@" + m.domain)
		case u.domain != "" || strings.IndexByte(b.String(), '@') >= 0:
			b.WriteString("@" + ns.DefaultDomain)
		}
	}
	return b.String(), nil
}
