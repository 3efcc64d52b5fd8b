package mboxname

import (
	"testing"
	"unicode/utf8"
)

// FuzzNames feeds arbitrary wire names and userids through modified UTF-7
// and every namespace. Besides not panicking:
//   - a string that decodes re-encodes to itself (the decoder only accepts
//     the shortest form), and any UTF-8 string survives encode+decode;
//   - every error is a *NameError;
//   - a name ToInternal accepts parses as an internal name, has an external
//     form for the same user, and that form leads back to it;
//   - a name Validate accepts parses.
func FuzzNames(f *testing.F) {
	f.Add("INBOX.Sent", "alice")
	f.Add("Other Users/bob/&AOQ-", "carol@example.com")
	f.Fuzz(func(t *testing.T, wire, userid string) {
		name := wire
		dec, err := DecodeMUTF7(wire)
		if err != nil {
			if !isNameError(err) {
				t.Fatalf("DecodeMUTF7(%q): %v is not a *NameError", wire, err)
			}
		} else {
			if enc := EncodeMUTF7(dec); enc != wire {
				t.Fatalf("DecodeMUTF7(%q) = %q, which encodes as %q", wire, dec, enc)
			}
			name = dec
		}
		if utf8.ValidString(wire) {
			if got, err := DecodeMUTF7(EncodeMUTF7(wire)); err != nil || got != wire {
				t.Fatalf("encode+decode of %q gave %q, %v", wire, got, err)
			}
		}
		if err := Validate(name); err == nil {
			if _, err := parseInternal(name); err != nil {
				t.Fatalf("Validate accepts %q, which does not parse: %v", name, err)
			}
		} else if !isNameError(err) {
			t.Fatalf("Validate(%q): %v is not a *NameError", name, err)
		}
		for _, base := range allNamespaces() {
			for _, admin := range []bool{false, true} {
				ns := base
				ns.Admin = admin
				in, err := ns.ToInternal(name, userid)
				if err != nil {
					if !isNameError(err) {
						t.Fatalf("%s: ToInternal(%q, %q): %v is not a *NameError", nsName(ns), name, userid, err)
					}
					continue
				}
				if _, err := parseInternal(in); err != nil {
					t.Fatalf("%s: ToInternal(%q, %q) = %q, which does not parse: %v", nsName(ns), name, userid, in, err)
				}
				ext, err := ns.ToExternal(in, userid)
				if err != nil {
					t.Fatalf("%s: %q -> %q has no external name for %q: %v", nsName(ns), name, in, userid, err)
				}
				back, err := ns.ToInternal(ext, userid)
				if err != nil || back != in {
					t.Fatalf("%s user %q: %q -> %q -> %q -> %q, %v", nsName(ns), userid, name, in, ext, back, err)
				}
			}
		}
	})
}
