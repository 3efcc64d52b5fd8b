package sieve

import (
	"slices"
	"strings"
)

// protectedFields may not be deleted (RFC 5293 6: "MUST NOT permit
// attempts to delete "Received" and "Auto-Submitted""), and are not
// added either, so that trace and loop-prevention fields stay truthful.
var protectedFields = []string{"received", "auto-submitted"}

func protected(name string) bool {
	return slices.Contains(protectedFields, strings.ToLower(name))
}

// addHeader is RFC 5293 4.
func (r *run) addHeader(c *Node) {
	name, value := r.str(c, 0), r.str(c, 1)
	if !validFieldName(name) {
		throwf(c.Line, "addheader: invalid header field name %q", name)
	}
	if protected(name) {
		// RFC 5293 6: a change that isn't permitted is silently ignored.
		r.note("addheader: adding %s is not permitted", name)
		return
	}
	if len(r.header) >= r.lim.MaxHeaderFields {
		throwf(c.Line, "addheader: too many header fields")
	}
	if len(value) > 8192 {
		value = truncateUTF8(value, 8192)
	}
	f := Field{Name: name, Value: value}
	if c.tag("last") {
		r.header = append(r.header, f)
	} else {
		r.header = append([]Field{f}, r.header...)
	}
	r.headerChanged()
}

// deleteHeader is RFC 5293 5.
func (r *run) deleteHeader(c *Node) {
	name := r.str(c, 0)
	if !validFieldName(name) {
		throwf(c.Line, "deleteheader: invalid header field name %q", name)
	}
	if protected(name) {
		r.note("deleteheader: deleting %s is not permitted", name)
		return
	}
	var m *matcher
	if len(c.Pos) > 1 && c.Pos[1].Kind != 0 {
		m = r.newMatcher(c, r.list(c, 1))
	}
	// Positions of the named fields, for :index.
	var idx []int
	for i, f := range r.header {
		if f.Name != "" && strings.EqualFold(f.Name, name) {
			idx = append(idx, i)
		}
	}
	if a, ok := c.Tags["index"]; ok {
		n := int(min(a.Num, uint64(len(idx)+1)))
		if n < 1 || n > len(idx) {
			return
		}
		if c.tag("last") {
			idx = []int{idx[len(idx)-n]}
		} else {
			idx = []int{idx[n-1]}
		}
	}
	drop := map[int]bool{}
	for _, i := range idx {
		if m == nil || m.any([]string{decodeValue(r.header[i].Value)}) {
			drop[i] = true
		}
	}
	if len(drop) == 0 {
		return
	}
	out := r.header[:0:0]
	for i, f := range r.header {
		if !drop[i] {
			out = append(out, f)
		}
	}
	r.header = out
	r.headerChanged()
}
