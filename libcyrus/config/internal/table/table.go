// Package table holds the declarative description of every imapd.conf
// option: its name, kind, default, unit, allowed values, whether it is a
// deprecated alias, whether cyrusgo acts on it, and a one-line meaning.
//
// It is the single source of truth: package config parses and validates
// values from it, and the generator in ../gen writes the typed key
// constants (keys_gen.go) and docs/options.md from it. The data is never
// modified after package initialisation; callers get copies.
package table

import (
	"slices"
	"strings"
)

// Kind is the type of an option's value.
type Kind uint8

// The kinds of option values. The zero Kind is invalid so a row that forgets
// its kind fails the table tests.
const (
	// String is free text, taken as written (after trimming).
	String Kind = iota + 1
	// Bool accepts 1/0, yes/no, on/off, t/f, true/false.
	Bool
	// Int is a decimal (or 0x hex, 0 octal, as C strtol) 32-bit integer.
	Int
	// Duration is a number with d/h/m/s units, summed ("1h30m"); a bare
	// number is in the option's Unit.
	Duration
	// Size is a byte count with an optional K/M/G suffix (powers of 1024);
	// a bare number is in the option's Unit (B or K).
	Size
	// Enum is one word out of Values.
	Enum
	// List is a whitespace-separated list of words; when Values is set,
	// every word must be one of them.
	List
)

// String returns the name used in docs and error messages.
func (k Kind) String() string {
	switch k {
	case String:
		return "string"
	case Bool:
		return "bool"
	case Int:
		return "int"
	case Duration:
		return "duration"
	case Size:
		return "size"
	case Enum:
		return "enum"
	case List:
		return "list"
	}
	return "invalid"
}

// Origin says where an option comes from.
type Origin uint8

const (
	// Cyrus options are Cyrus IMAP 3.6 imapd.conf options.
	Cyrus Origin = iota
	// SASL options are read by libsasl; Cyrus passes every sasl_* key to it.
	SASL
	// Cyrusgo options exist only in cyrusgo.
	Cyrusgo
)

// Option describes one imapd.conf option.
type Option struct {
	// Name is the key as written in imapd.conf, in lower case.
	Name string
	// Go is the name of the exported key constant in package config. It
	// is empty for deprecated names, which code must not read.
	Go string
	// Kind is the type of the value.
	Kind Kind
	// Default is the value used when the option is absent, written in
	// imapd.conf syntax. Empty means unset (Cyrus's NULL) or empty.
	Default string
	// Unit is, for Duration, the unit of a bare number ("s", "m", "h",
	// "d"); for Size, the unit of a bare number ("B" or "K"); for Int, a
	// free-text unit shown in the docs ("KiB", "percent"...).
	Unit string
	// Values lists the allowed words of an Enum or a validated List. An
	// entry "a=b=c" makes b and c deprecated spellings of a.
	Values []string
	// ReplacedBy names the option this deprecated name is an alias of.
	ReplacedBy string
	// Deprecated marks names Cyrus 3.6 documents as deprecated.
	Deprecated bool
	// Used is true when cyrusgo acts on the option; other options are
	// accepted, validated and ignored.
	Used bool
	// Repeat allows the option several times; every value is kept.
	Repeat bool
	// Origin says whether this is a Cyrus, SASL or cyrusgo option.
	Origin Origin
	// Doc is a one-line meaning.
	Doc string
}

// Canonical returns the allowed words of o (the first spelling of each
// Values entry) and a map from every accepted spelling, lower-cased, to its
// canonical word. Matching is case-insensitive; Cyrus's own comparison is
// case-sensitive, so every value Cyrus accepts is accepted here.
func (o *Option) Canonical() (words []string, spell map[string]string) {
	spell = make(map[string]string)
	for _, v := range o.Values {
		parts := strings.Split(v, "=")
		words = append(words, parts[0])
		for _, p := range parts {
			spell[strings.ToLower(p)] = parts[0]
		}
	}
	return words, spell
}

// Family describes a set of keys with a variable part, such as
// partition-<name>.
type Family struct {
	// Pattern is the documented form, e.g. "partition-<name>".
	Pattern string
	// Prefix, Infix or Suffix is the fixed part of the key; exactly one is
	// set. The variable part must not be empty.
	Prefix, Infix, Suffix string
	// Used is true when cyrusgo acts on keys of this family.
	Used bool
	// Origin says whether this is a Cyrus or SASL family.
	Origin Origin
	// Doc is a one-line meaning.
	Doc string
}

// Match reports whether key belongs to f.
func (f *Family) Match(key string) bool {
	switch {
	case f.Prefix != "":
		return len(key) > len(f.Prefix) && strings.HasPrefix(key, f.Prefix)
	case f.Suffix != "":
		return len(key) > len(f.Suffix) && strings.HasSuffix(key, f.Suffix)
	case f.Infix != "":
		i := strings.Index(key, f.Infix)
		return i >= 0 && len(key) > i+len(f.Infix)
	}
	return false
}

// families are checked in order; the first match wins.
var families = [...]Family{
	{Pattern: "partition-<name>", Prefix: "partition-", Used: true,
		Doc: "Directory of the spool partition <name>; at least one is required."},
	{Pattern: "metapartition-<name>", Prefix: "metapartition-", Used: true,
		Doc: "Directory holding the metapartition_files of mailboxes on partition <name>."},
	{Pattern: "archivepartition-<name>", Prefix: "archivepartition-",
		Doc: "Directory holding archived messages of mailboxes on partition <name>."},
	{Pattern: "backuppartition-<name>", Prefix: "backuppartition-",
		Doc: "Directory of the backup partition <name>."},
	{Pattern: "<tier>searchpartition-<name>", Infix: "searchpartition-",
		Doc: "Directory of the search index of tier <tier> for mailboxes on partition <name>."},
	{Pattern: "xlist-<flag>", Prefix: "xlist-", Used: true,
		Doc: "Folder that gets the special-use flag <flag> when autocreated (xlist-junk: Spam marks Spam \\Junk)."},
	{Pattern: "sasl_<option>", Prefix: "sasl_", Origin: SASL,
		Doc: "Any other SASL library option."},
	{Pattern: "<host>_mechs", Suffix: "_mechs",
		Doc: "SASL mechanisms to use when authenticating to backend <host> (Murder)."},
	{Pattern: "<host>_password", Suffix: "_password",
		Doc: "Password to use when authenticating to backend <host> (Murder)."},
}

// Options returns a copy of the option table, sorted by name.
func Options() []Option {
	out := make([]Option, len(options))
	for i, o := range options {
		o.Values = slices.Clone(o.Values)
		out[i] = o
	}
	return out
}

// Families returns a copy of the key families, in matching order.
func Families() []Family {
	return slices.Clone(families[:])
}

// words splits a space-separated list; it keeps the rows of options.go
// short.
func words(s string) []string {
	return strings.Fields(s)
}
