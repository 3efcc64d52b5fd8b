package sieve

import (
	"slices"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
)

// Extensions is a set of Sieve capability strings (RFC 5228 section 6):
// what "require" may name.
type Extensions struct {
	set map[string]bool
}

// capabilityOrder is the order of the SIEVE capability line, Cyrus 3.6's
// (managesieve_session.txt) for the capabilities both implement, then
// the ones only cyrusgo has. "imapflags" is accepted but, as in Cyrus,
// not advertised: it is the draft that imap4flags replaced.
var capabilityOrder = []string{
	"encoded-character", "comparator-i;ascii-numeric", "fileinto", "reject",
	"ereject", "vacation", "vacation-seconds", "enotify", "include",
	"editheader", "envelope", "environment", "body", "imap4flags", "date",
	"ihave", "mailbox", "mboxmetadata", "servermetadata", "duplicate",
	"relational", "regex", "subaddress", "copy", "index", "variables",
	"redirect-deliverby", "redirect-dsn", "special-use", "fcc", "mailboxid",
	"spamtest", "virustest", "mime", "foreverypart", "extracttext",
}

// alwaysOn are the capabilities every script may require: the two
// comparators RFC 5228 2.7.3 makes mandatory, i;ascii-numeric (Cyrus
// offers it whatever sieve_extensions says) and encoded-character (RFC
// 5228 2.4.2.4, part of the base language).
var alwaysOn = []string{
	"comparator-i;octet", "comparator-i;ascii-casemap",
	"comparator-i;ascii-numeric", "encoded-character",
}

// configWords maps the words of Cyrus's sieve_extensions option to the
// capabilities they enable. Words for extensions cyrusgo does not
// implement (extlists, vnd.cyrus.*, snooze) enable nothing.
var configWords = map[string][]string{
	"fileinto":           {"fileinto"},
	"reject":             {"reject", "ereject"},
	"vacation":           {"vacation"},
	"vacation-seconds":   {"vacation-seconds"},
	"notify":             {"enotify"},
	"include":            {"include"},
	"envelope":           {"envelope"},
	"environment":        {"environment"},
	"body":               {"body"},
	"relational":         {"relational"},
	"regex":              {"regex"},
	"subaddress":         {"subaddress"},
	"copy":               {"copy"},
	"date":               {"date"},
	"index":              {"index"},
	"imap4flags":         {"imap4flags", "imapflags"},
	"imapflags":          {"imapflags"},
	"mailbox":            {"mailbox"},
	"mboxmetadata":       {"mboxmetadata"},
	"servermetadata":     {"servermetadata"},
	"variables":          {"variables"},
	"editheader":         {"editheader"},
	"duplicate":          {"duplicate"},
	"ihave":              {"ihave"},
	"fcc":                {"fcc"},
	"special-use":        {"special-use"},
	"redirect-dsn":       {"redirect-dsn"},
	"redirect-deliverby": {"redirect-deliverby"},
	"mailboxid":          {"mailboxid"},
}

// beyondCyrus are the extensions cyrusgo implements that Cyrus 3.6 does
// not; sieve_extensions cannot name them (its values are Cyrus's), so they
// are on when the option is left at its default and off when an
// administrator lists the extensions explicitly.
var beyondCyrus = []string{"spamtest", "virustest", "mime", "foreverypart", "extracttext"}

// NewExtensions returns the set of the named capabilities plus the
// always-available ones. Names are matched case-insensitively; unknown
// names are ignored.
func NewExtensions(names ...string) *Extensions {
	e := &Extensions{set: map[string]bool{}}
	for _, n := range alwaysOn {
		e.set[n] = true
	}
	for _, n := range names {
		n = strings.ToLower(n)
		if slices.Contains(capabilityOrder, n) || n == "imapflags" {
			e.set[n] = true
		}
	}
	return e
}

// DefaultExtensions is what Cyrus 3.6 accepts with the default
// sieve_extensions, that cyrusgo implements, plus spamtest, virustest,
// mime, foreverypart and extracttext.
func DefaultExtensions() *Extensions {
	names := slices.Clone(beyondCyrus)
	for _, caps := range configWords {
		names = append(names, caps...)
	}
	return NewExtensions(names...)
}

// ExtensionsFromConfig is the set sieve_extensions allows. The option
// restricts: an extension it does not list cannot be required.
func ExtensionsFromConfig(cfg *config.Config) *Extensions {
	if cfg == nil || !cfg.IsSet(string(config.SieveExtensions)) {
		return DefaultExtensions()
	}
	var names []string
	for _, w := range cfg.List(config.SieveExtensions) {
		names = append(names, configWords[strings.ToLower(w)]...)
	}
	return NewExtensions(names...)
}

// Has reports whether the capability is in the set.
func (e *Extensions) Has(name string) bool {
	if e == nil {
		return false
	}
	return e.set[strings.ToLower(name)]
}

// Capability is the ManageSieve SIEVE capability value: the capabilities,
// space-separated, in Cyrus's order (RFC 5804 1.7).
func (e *Extensions) Capability() string {
	var out []string
	for _, n := range capabilityOrder {
		if e.Has(n) {
			out = append(out, n)
		}
	}
	return strings.Join(out, " ")
}

// NotifyMethods is the ManageSieve NOTIFY capability value: the URI
// schemes enotify can use (RFC 5804 1.7), empty without enotify.
func (e *Extensions) NotifyMethods() string {
	if e.Has("enotify") {
		return "mailto"
	}
	return ""
}
