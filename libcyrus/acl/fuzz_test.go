package acl

import (
	"errors"
	"testing"
)

// FuzzParse feeds arbitrary stored ACLs to Parse. Besides not panicking:
// errors are *ParseError; a parsed ACL formats to a string that parses to
// the same ACL and formats identically (the stored form is canonical after
// one pass); every rights string in it parses back to the same set; and a
// SETACL edit keeps it parseable.
func FuzzParse(f *testing.F) {
	f.Add("alice\tlrswipkxtecdan\tanyone\tlrs\t-bob\tw\t", "bob", "+c")
	f.Fuzz(func(t *testing.T, s, identifier, mod string) {
		a, err := Parse(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q): %v is not a *ParseError", s, err)
			}
			return
		}
		out := a.String()
		b, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) formats as %q, which does not parse: %v", s, out, err)
		}
		if b.String() != out {
			t.Fatalf("%q -> %q -> %q", s, out, b.String())
		}
		for _, e := range a.Entries() {
			r, err := ParseRights(e.Rights.String())
			if err != nil || r != e.Rights {
				t.Fatalf("rights %#x format as %q, which parse as %#x, %v", uint32(e.Rights), e.Rights.String(), uint32(r), err)
			}
			if e.Rights&^Full != 0 {
				t.Fatalf("unknown bits %#x", uint32(e.Rights))
			}
		}
		before := a.String()
		c := a
		if err := c.SetOwned(identifier, mod, "owner", DefaultImplicitOwner); err != nil {
			if c.String() != before {
				t.Fatalf("failed Set changed the ACL")
			}
			return
		}
		if a.String() != before {
			t.Fatalf("Set on a copy changed the original")
		}
		d, err := Parse(c.String())
		if err != nil || d.String() != c.String() {
			t.Fatalf("after Set(%q, %q): %q does not round-trip: %v", identifier, mod, c.String(), err)
		}
		if mod == "" && identifier != "owner" {
			if _, ok := c.Get(identifier); ok {
				t.Fatalf("empty SETACL kept %q", identifier)
			}
		}
		if r, ok := c.Get("owner"); identifier == "owner" && (!ok || !r.Has(DefaultImplicitOwner)) {
			t.Fatalf("owner lost implicit rights: %s", r)
		}
		_ = c.RightsFor(Identity{UserID: identifier}, "owner", DefaultImplicitOwner)
	})
}
