package mboxname

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	valid := []string{
		"user.alice",
		"user.alice.Sent",
		"user.alice.Sent Items",
		"shared.folder",
		"shared",
		"example.com!user.bob.Sent",
		"example.com!shared",
		"user.alice.Entwürfe",
		"user.alice.台北",
		"user.john^doe",
		"user.alice.a^b^c",
		"user.alice.^^^",
		"user.alice.a&b",
		"user.alice.*",
		"user.alice.#x",
		"user.alice.x~",
		"user.alice.[x]",
		"user.u$er",
		strings.Repeat("x", MaxNameLen),
	}
	for _, name := range valid {
		if err := Validate(name); err != nil {
			t.Errorf("Validate(%q): %v", name, err)
		}
	}
	invalid := []struct{ name, reason string }{
		{"", "empty name"},
		{strings.Repeat("x", MaxNameLen+1), "longer than"},
		{"user.alice." + strings.Repeat("ä", 200), "modified UTF-7"},
		{".user", "starts with the separator"},
		{"user.", "ends with the separator"},
		{"user..x", "empty component"},
		{"user.alice..", "ends with"},
		{"/etc", "starts with /"},
		{"user.a/b", "'/'"},
		{"~x", "starts with"},
		{"$RACL", "starts with"},
		{"user.a\x00b", "control"},
		{"user.a\tb", "control"},
		{"user.a\rb", "control"},
		{"user.a\nb", "control"},
		{"user.a\x7fb", "control"},
		{"user.a\u0085b", "control"},
		{"user.\xff", "UTF-8"},
		{"user.alice.^", `"."`},
		{"user.alice.^^", `".."`},
		{"user", "user hierarchy"},
		{"example.com!user", "user hierarchy"},
		{"user.anyone", "reserved"},
		{"user.anonymous", "reserved"},
		{"user.%x", "%"},
		{"user.a%b", "'%'"},
		{"user.a;b", "';'"},
		{"user.a\"b", "'\"'"},
		{"user.a\\b", "'\\\\'"},
		{"user.a|b", "'|'"},
		{"user.a{b}", "'{'"},
		{"user.a<b>", "'<'"},
		{"user.a`b", "'`'"},
		{"example.com!user.a!b", "'!'"},
		{"x!y!z", "'!'"},
		{"!user.x", "empty domain"},
		{"example.com!", "empty name after the domain"},
		{"exa mple!user.x", "domain"},
		{"a..b!user.x", "empty label"},
		{".a!user.x", "empty label"},
	}
	for _, tt := range invalid {
		err := Validate(tt.name)
		if err == nil {
			t.Errorf("Validate(%q) accepted", tt.name)
			continue
		}
		var ne *NameError
		if !errors.As(err, &ne) || ne.Name != tt.name {
			t.Errorf("Validate(%q): %v is not a *NameError for the name", tt.name, err)
		}
		if !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("Validate(%q) = %q, want it to say %q", tt.name, err, tt.reason)
		}
	}
}

func TestHelpers(t *testing.T) {
	inbox := map[string]string{
		"bob":             "user.bob",
		"bob@example.com": "example.com!user.bob",
		"john.doe":        "user.john^doe",
		"john.doe@ex.org": "ex.org!user.john^doe",
	}
	for u, want := range inbox {
		if got := UserInbox(u); got != want {
			t.Errorf("UserInbox(%q) = %q, want %q", u, got, want)
		}
		if owner, ok := Owner(want); !ok || owner != u {
			t.Errorf("Owner(%q) = %q, %v; want %q", want, owner, ok, u)
		}
		if !IsUserInbox(want) {
			t.Errorf("IsUserInbox(%q) = false", want)
		}
	}
	owners := []struct {
		name, owner string
		ok, inbox   bool
	}{
		{"user.bob.Sent", "bob", true, false},
		{"example.com!user.bob.a.b", "bob@example.com", true, false},
		{"user.john^doe.x", "john.doe", true, false},
		{"shared.folder", "", false, false},
		{"user", "", false, false},
		{"example.com!user", "", false, false},
		{"", "", false, false},
		{"user..x", "", false, false},
	}
	for _, tt := range owners {
		owner, ok := Owner(tt.name)
		if owner != tt.owner || ok != tt.ok {
			t.Errorf("Owner(%q) = %q, %v; want %q, %v", tt.name, owner, ok, tt.owner, tt.ok)
		}
		if IsUserInbox(tt.name) != tt.inbox {
			t.Errorf("IsUserInbox(%q) = %v", tt.name, !tt.inbox)
		}
	}
	parents := []struct {
		name, parent string
		ok           bool
	}{
		{"user.bob.Sent.2024", "user.bob.Sent", true},
		{"user.bob.Sent", "user.bob", true},
		{"user.bob", "user", true},
		{"user", "", false},
		{"shared", "", false},
		{"example.com!user.bob.Sent", "example.com!user.bob", true},
		{"example.com!user.bob", "example.com!user", true},
		{"example.com!shared", "", false},
		{"user.a^b.c", "user.a^b", true},
	}
	for _, tt := range parents {
		p, ok := Parent(tt.name)
		if p != tt.parent || ok != tt.ok {
			t.Errorf("Parent(%q) = %q, %v; want %q, %v", tt.name, p, ok, tt.parent, tt.ok)
		}
	}
	splits := []struct{ name, domain, rest string }{
		{"example.com!user.bob", "example.com", "user.bob"},
		{"user.bob", "", "user.bob"},
		{"a!b!c", "a", "b!c"},
	}
	for _, tt := range splits {
		if d, r := SplitDomain(tt.name); d != tt.domain || r != tt.rest {
			t.Errorf("SplitDomain(%q) = %q, %q", tt.name, d, r)
		}
	}
}

func TestNameErrorText(t *testing.T) {
	err := Validate("user..x")
	if got, want := err.Error(), `invalid mailbox name "user..x": empty component`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
