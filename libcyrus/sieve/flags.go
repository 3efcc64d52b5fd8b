package sieve

import (
	"slices"
	"strings"
)

// imap4flags (RFC 5232) and the imapflags draft it replaced (mark,
// unmark): the internal flags variable, or a named variable holding a
// space-separated flag list.

// systemFlags are the IMAP system flags a script may set (RFC 3501 2.3.2;
// \Recent cannot be set).
var systemFlags = []string{`\seen`, `\answered`, `\flagged`, `\deleted`, `\draft`}

// validFlag: a system flag, or a keyword (an IMAP atom). Anything else is
// silently ignored (RFC 5232 3: "implementations MUST ignore ... invalid").
func validFlag(f string) bool {
	if strings.HasPrefix(f, `\`) {
		return slices.Contains(systemFlags, strings.ToLower(f))
	}
	if f == "" || len(f) > 255 {
		return false
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\]`, c) >= 0 {
			return false
		}
	}
	return true
}

// normalizeFlags splits lists of flags, drops invalid ones and
// duplicates (case-insensitively, keeping the first spelling), and
// spells system flags canonically.
func normalizeFlags(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		for _, f := range strings.Fields(s) {
			if !validFlag(f) {
				continue
			}
			l := strings.ToLower(f)
			if seen[l] {
				continue
			}
			seen[l] = true
			if strings.HasPrefix(f, `\`) {
				f = `\` + strings.ToUpper(l[1:2]) + l[2:]
			}
			out = append(out, f)
		}
	}
	return out
}

// removeFlags drops from have the flags in drop, case-insensitively.
func removeFlags(have, drop []string) []string {
	gone := map[string]bool{}
	for _, f := range normalizeFlags(drop) {
		gone[strings.ToLower(f)] = true
	}
	var out []string
	for _, f := range normalizeFlags(have) {
		if !gone[strings.ToLower(f)] {
			out = append(out, f)
		}
	}
	return out
}

// flagCommand runs setflag, addflag, removeflag, mark and unmark.
func (r *run) flagCommand(c *Node) {
	var list []string
	varName := ""
	switch c.Name {
	case "mark", "unmark":
		list = []string{`\Flagged`}
	default:
		list = r.list(c, 1)
		if c.Pos[0].Kind != 0 {
			varName = c.Pos[0].Strs[0]
		}
	}
	var cur []string
	if varName != "" {
		cur = strings.Fields(r.lookup(varName))
	} else {
		cur = r.flags
	}
	switch c.Name {
	case "setflag":
		cur = normalizeFlags(list)
	case "addflag", "mark":
		cur = normalizeFlags(append(slices.Clone(cur), list...))
	case "removeflag", "unmark":
		cur = removeFlags(cur, list)
	}
	if len(cur) > 256 {
		throwf(c.Line, "%s: too many flags", c.Name)
	}
	if varName != "" {
		r.setVar(c.Line, varName, strings.Join(cur, " "))
	} else {
		r.flags = cur
	}
}

// actionFlags are the flags keep or fileinto store: :flags when given,
// the internal variable otherwise (RFC 5232 5).
func (r *run) actionFlags(c *Node) []string {
	if a, ok := c.Tags["flags"]; ok {
		return normalizeFlags(r.expandAll(a.Strs))
	}
	return normalizeFlags(r.flags)
}
