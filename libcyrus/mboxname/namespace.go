// Package mboxname owns mailbox names: the internal names the mailbox list
// and the spool use, the external names clients see under the namespace
// options of imapd.conf, their checks, and modified UTF-7 (RFC 3501 5.1.3).
//
// Internal names are Cyrus's: "user.alice" is alice's INBOX,
// "user.alice.Sent" one of her folders, any other top-level name is shared
// ("shared.folder"), and with virtual domains a name may start with a
// domain and "!" ("example.com!user.bob.Sent"). The internal separator is
// always "."; a "." inside a component, possible under unixhierarchysep, is
// stored as "^" and shown as "." again. Users of defaultdomain have no
// domain part.
//
// Unlike Cyrus, which keeps internal names in modified UTF-7, this package
// works on UTF-8: ToInternal takes an external name already decoded with
// DecodeMUTF7 and ToExternal returns UTF-8 that the protocol layer encodes
// with EncodeMUTF7 (or sends as is to a UTF8=ACCEPT client, RFC 6855). The
// form Cyrus stores, in mailboxes.db and as spool directory names, is
// EncodeMUTF7 of the internal name; the two convert losslessly.
//
// The translation follows Cyrus 3.6's mbname_from_extname and
// mbname_extname: the standard namespace ("INBOX.Sent", "user.bob",
// "shared") and the alternate one ("Sent", "Other Users/bob", "Shared
// Folders/shared"), with "/" or "." as separator, for normal users and for
// admins (who never see the alternate namespace, as in Cyrus). Not
// supported: crossdomains, and the DELETED hierarchy of delete_mode:
// delayed, which the mailbox store names itself.
//
// The package holds no state; a Namespace is a small value safe to copy and
// to use from any goroutine.
package mboxname

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
)

// VirtDomains is the virtdomains option.
type VirtDomains uint8

const (
	// VirtDomainsOff ignores domains: only the local part of a userid
	// counts.
	VirtDomainsOff VirtDomains = iota
	// VirtDomainsUserID takes the domain from the userid.
	VirtDomainsUserID
	// VirtDomainsOn also derives it from the server address; for names it
	// is the same as VirtDomainsUserID, since the login layer puts the
	// domain into the userid.
	VirtDomainsOn
)

// Defaults of the namespace prefixes, as in Cyrus 3.6's imapd.conf(5).
const (
	DefaultUserPrefix   = "Other Users"
	DefaultSharedPrefix = "Shared Folders"
	DefaultAltPrefix    = "Alt Folders"
)

// Namespace holds the options that decide how names look to a client. The
// zero value is Cyrus's classic namespace (altnamespace and
// unixhierarchysep off, no virtual domains); empty prefixes mean their
// defaults.
type Namespace struct {
	// AltNamespace puts personal folders beside INBOX instead of under it
	// (altnamespace). It never applies to admins.
	AltNamespace bool
	// UnixHierSep makes "/" the separator instead of "." (unixhierarchysep).
	UnixHierSep bool
	VirtDomains VirtDomains
	// DefaultDomain is the domain whose users have no domain part
	// (defaultdomain).
	DefaultDomain string
	// UserPrefix, SharedPrefix and AltPrefix are the userprefix,
	// sharedprefix and altprefix of the alternate namespace: the roots of
	// other users' mailboxes, of shared mailboxes, and of personal folders
	// whose names would otherwise clash with INBOX or the other prefixes.
	UserPrefix   string
	SharedPrefix string
	AltPrefix    string
	// DisableUserNamespace and DisableSharedNamespace hide those namespaces
	// from the NAMESPACE response of non-admins (disable_user_namespace,
	// disable_shared_namespace).
	DisableUserNamespace   bool
	DisableSharedNamespace bool
	// Admin selects the view of an administrator (a userid in admins): the
	// standard namespace whatever AltNamespace says, and, with virtual
	// domains, names of any domain written with an "@domain" suffix
	// ("user.bob@example.com"), as Cyrus's admin namespace.
	Admin bool
}

// FromConfig reads the namespace options of cfg. It does not fail; call
// Check to refuse prefixes Cyrus refuses.
//
// Prefixes are taken as modified UTF-7 when they decode as such (they are
// compared with client names, which are modified UTF-7 in Cyrus) and as
// UTF-8 otherwise.
func FromConfig(cfg *config.Config) Namespace {
	ns := Namespace{
		AltNamespace:           cfg.Bool(config.AltNamespace),
		UnixHierSep:            cfg.Bool(config.UnixHierarchySep),
		DefaultDomain:          strings.ToLower(cfg.String(config.DefaultDomain)),
		UserPrefix:             configPrefix(cfg.String(config.UserPrefix)),
		SharedPrefix:           configPrefix(cfg.String(config.SharedPrefix)),
		AltPrefix:              configPrefix(cfg.String(config.AltPrefix)),
		DisableUserNamespace:   cfg.Bool(config.DisableUserNamespace),
		DisableSharedNamespace: cfg.Bool(config.DisableSharedNamespace),
	}
	switch cfg.Enum(config.VirtDomains) {
	case "userid":
		ns.VirtDomains = VirtDomainsUserID
	case "on":
		ns.VirtDomains = VirtDomainsOn
	}
	return ns
}

func configPrefix(s string) string {
	if d, err := DecodeMUTF7(s); err == nil {
		return d
	}
	return s
}

// maxPrefixLen is Cyrus's MAX_NAMESPACE_PREFIX, less the separator.
const maxPrefixLen = 39

// Check refuses the alternate-namespace prefixes Cyrus's
// mboxname_init_namespace refuses (imapd then exits with "Error
// initializing namespace"): a prefix that holds the separator or is too
// long, or user and shared prefixes that overlap. It also refuses an
// altprefix equal to another prefix, which would make names ambiguous.
func (ns Namespace) Check() error {
	if !ns.AltNamespace {
		return nil
	}
	sep := string(ns.Separator())
	up, sp, ap := ns.userPrefix(), ns.sharedPrefix(), ns.altPrefix()
	for _, p := range []struct{ name, val string }{{"userprefix", up}, {"sharedprefix", sp}, {"altprefix", ap}} {
		switch {
		case len(p.val) > maxPrefixLen:
			return fmt.Errorf("namespace: %s %q is longer than %d bytes", p.name, p.val, maxPrefixLen)
		case strings.Contains(p.val, sep):
			return fmt.Errorf("namespace: %s %q contains the hierarchy separator %q", p.name, p.val, sep)
		case strings.EqualFold(p.val, "INBOX"):
			return fmt.Errorf("namespace: %s must not be INBOX", p.name)
		}
		for _, r := range p.val {
			if unicode.IsControl(r) {
				return fmt.Errorf("namespace: %s %q contains a control character", p.name, p.val)
			}
		}
	}
	if strings.HasPrefix(up+sep, sp) {
		return fmt.Errorf("namespace: userprefix %q starts with sharedprefix %q", up, sp)
	}
	if ap == up || ap == sp {
		return fmt.Errorf("namespace: altprefix %q equals another prefix", ap)
	}
	return nil
}

// Separator returns the hierarchy separator clients see: '/' under
// unixhierarchysep, '.' otherwise.
func (ns Namespace) Separator() byte {
	if ns.UnixHierSep {
		return '/'
	}
	return '.'
}

// alt reports whether names are shown in the alternate namespace.
func (ns Namespace) alt() bool { return ns.AltNamespace && !ns.Admin }

// adminDomains reports whether names carry an "@domain" suffix: Cyrus's
// admindomains, an admin with virtual domains.
func (ns Namespace) adminDomains() bool { return ns.Admin && ns.VirtDomains != VirtDomainsOff }

func (ns Namespace) userPrefix() string   { return orDefault(ns.UserPrefix, DefaultUserPrefix) }
func (ns Namespace) sharedPrefix() string { return orDefault(ns.SharedPrefix, DefaultSharedPrefix) }
func (ns Namespace) altPrefix() string    { return orDefault(ns.AltPrefix, DefaultAltPrefix) }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// NamespaceEntry is one namespace of the NAMESPACE response (RFC 2342): the
// prefix (UTF-8; encode it with EncodeMUTF7 for the wire) and the separator.
type NamespaceEntry struct {
	Prefix    string
	Separator byte
}

// Namespaces returns the data of the NAMESPACE response (RFC 2342 5) as
// Cyrus 3.6 gives it, one entry per class, nil for NIL:
//
//	classic (and admins):  (("INBOX." ".")) (("user." ".")) (("" "."))
//	altnamespace:          (("" "/")) (("Other Users/" "/")) (("Shared Folders/" "/"))
//
// hasInbox says whether the user's INBOX exists: Cyrus answers NIL for the
// personal namespace when it does not (an admin without a mailbox sees
// "* NAMESPACE NIL (("user." ".")) (("" "."))"). The other-users and shared
// namespaces are NIL for non-admins when disable_user_namespace or
// disable_shared_namespace is set.
func (ns Namespace) Namespaces(hasInbox bool) (personal, other, shared []NamespaceEntry) {
	sep := ns.Separator()
	s := string(sep)
	var pp, up, sp string
	if ns.alt() {
		pp, up, sp = "", ns.userPrefix()+s, ns.sharedPrefix()+s
	} else {
		pp, up, sp = "INBOX"+s, "user"+s, ""
	}
	if hasInbox {
		personal = []NamespaceEntry{{Prefix: pp, Separator: sep}}
	}
	if ns.Admin || !ns.DisableUserNamespace {
		other = []NamespaceEntry{{Prefix: up, Separator: sep}}
	}
	if ns.Admin || !ns.DisableSharedNamespace {
		shared = []NamespaceEntry{{Prefix: sp, Separator: sep}}
	}
	return personal, other, shared
}
