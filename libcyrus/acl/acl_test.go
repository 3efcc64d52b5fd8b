package acl

import (
	"errors"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
)

func TestParseRights(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"lrswipkxtean", "lrswipkxtecdan"},
		// The reference transcripts: GETACL/MYRIGHTS of an INBOX owner.
		{"lrswipkxtecdan", "lrswipkxtecdan"},
		{"nadcetxkpiwsrl", "lrswipkxtecdan"},
		{"lllrrr", "lr"},
		{"0123456789", "0123456789"},
		{"9l0", "l09"},
		// RFC 4314 2.1.1 as Cyrus 3.6: c is k and x, d is t and e, unless
		// the string names a member, and they show whenever a member is
		// held.
		{"c", "kxc"},
		{"d", "ted"},
		{"lrc", "lrkxc"},
		{"kc", "kc"},
		{"xc", "xc"},
		{"k", "kc"},
		{"x", "xc"},
		{"t", "td"},
		{"e", "ed"},
		{"dt", "td"},
		{"cd", "kxtecd"},
		{"lrs", "lrs"},
		{"lkxan", "lkxcan"},
		{"a", "a"},
	}
	for _, tt := range tests {
		r, err := ParseRights(tt.in)
		if err != nil {
			t.Errorf("ParseRights(%q): %v", tt.in, err)
			continue
		}
		if got := r.String(); got != tt.want {
			t.Errorf("ParseRights(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
		again, err := ParseRights(r.String())
		if err != nil || again != r {
			t.Errorf("ParseRights(%q) = %v, %v; want %v", r.String(), again, err, r)
		}
	}
	if r, _ := ParseRights("lrswipkxtecdan"); r != All {
		t.Errorf("lrswipkxtecdan = %#x, want All %#x", r, All)
	}
	if r, _ := ParseRights("lkxan"); r != DefaultImplicitOwner {
		t.Errorf("lkxan = %#x", r)
	}
	for _, in := range []string{"lrq", "b", "lr ", "+l", "-l", "L", "lä", "\x00"} {
		_, err := ParseRights(in)
		var re *RightsError
		if !errors.As(err, &re) || re.Rights != in {
			t.Errorf("ParseRights(%q): %v, want a *RightsError", in, err)
		}
	}
	_, err := ParseRights("lrq")
	if got, want := err.Error(), "The q right is not supported"; got != want {
		t.Errorf("error %q, want Cyrus's %q", got, want)
	}
}

func TestRightsBits(t *testing.T) {
	// Cyrus's lib/acl.h values.
	for r, want := range map[Rights]uint32{Lookup: 0x1, Admin: 0x400, Annotate: 0x800, User1: 0x1000, User9: 0x100000, User0: 0x200000} {
		if uint32(r) != want {
			t.Errorf("%s = %#x, want %#x", r, uint32(r), want)
		}
	}
	if !All.Has(Lookup|Read) || All.Has(User0) || !Full.Has(User0|User9) || !Read.HasAny(Read|Write) || Read.HasAny(Write) {
		t.Error("Has/HasAny")
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in, out string
		n       int
	}{
		{"", "", 0},
		{"alice\tlrswipkxtecdan\t", "alice\tlrswipkxtecdan\t", 1},
		{"alice\tlrswipkxtean\t", "alice\tlrswipkxtecdan\t", 1},
		{"alice\tlrswipkxtecdan\tanyone\tlrs\t-bob\tw\t", "alice\tlrswipkxtecdan\tanyone\tlrs\t-bob\tw\t", 3},
		{"group:staff\tlr\tbob@example.com\tlrc\t", "group:staff\tlr\tbob@example.com\tlrkxc\t", 2},
		{"bob\t\t", "bob\t\t", 1},
		{"Jürgen\tl\t", "Jürgen\tl\t", 1},
	}
	for _, tt := range tests {
		a, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := a.String(); got != tt.out {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.out)
		}
		if n := len(a.Entries()); n != tt.n {
			t.Errorf("Parse(%q) has %d entries, want %d", tt.in, n, tt.n)
		}
	}
	bad := []struct{ in, reason string }{
		{"alice\tlr", "tab"},
		{"alice\t", "without rights"},
		{"alice\tlr\tbob\t", "without rights"},
		{"\tlr\t", "empty"},
		{"-\tlr\t", "empty"},
		{"alice\tlq\t", "q right"},
		{"alice\tl\talice\tr\t", "twice"},
		{"al\nice\tl\t", "control"},
		{"al\xffice\tl\t", "UTF-8"},
	}
	for _, tt := range bad {
		_, err := Parse(tt.in)
		var pe *ParseError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("Parse(%q): %v, want a *ParseError saying %q", tt.in, err, tt.reason)
		}
	}
}

func TestSet(t *testing.T) {
	const start = "alice\tlrswipkxtecdan\tanyone\tlrs\t"
	tests := []struct {
		name, identifier, mod, want string
	}{
		{"replace", "anyone", "lr", "alice\tlrswipkxtecdan\tanyone\tlr\t"},
		{"replace keeps order", "alice", "lr", "alice\tlr\tanyone\tlrs\t"},
		{"add", "anyone", "+wi", "alice\tlrswipkxtecdan\tanyone\tlrswi\t"},
		{"remove", "anyone", "-s", "alice\tlrswipkxtecdan\tanyone\tlr\t"},
		{"remove all", "anyone", "-lrs", "alice\tlrswipkxtecdan\t"},
		{"remove more than held", "anyone", "-lrswi", "alice\tlrswipkxtecdan\t"},
		{"empty removes", "anyone", "", "alice\tlrswipkxtecdan\t"},
		{"empty unknown", "bob", "", start},
		{"remove unknown", "bob", "-l", start},
		{"add unknown appends", "bob", "+l", start + "bob\tl\t"},
		{"new appends", "bob", "lr", start + "bob\tlr\t"},
		{"negative", "-bob", "w", start + "-bob\tw\t"},
		{"add nothing", "anyone", "+", start},
		{"remove nothing", "anyone", "-", start},
		{"legacy c", "bob", "lrc", start + "bob\tlrkxc\t"},
		{"legacy d", "bob", "+d", start + "bob\tted\t"},
		{"remove legacy c", "alice", "-c", "alice\tlrswiptedan\tanyone\tlrs\t"},
		{"remove legacy d", "alice", "-d", "alice\tlrswipkxcan\tanyone\tlrs\t"},
		{"remove d but t named", "alice", "-dt", "alice\tlrswipkxecdan\tanyone\tlrs\t"},
		{"digits", "bob", "l0", start + "bob\tl0\t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Parse(start)
			if err != nil {
				t.Fatal(err)
			}
			orig := a
			if err := a.Set(tt.identifier, tt.mod); err != nil {
				t.Fatalf("Set(%q, %q): %v", tt.identifier, tt.mod, err)
			}
			if got := a.String(); got != tt.want {
				t.Errorf("Set(%q, %q) gave %q, want %q", tt.identifier, tt.mod, got, tt.want)
			}
			if orig.String() != start {
				t.Errorf("Set changed a copy: %q", orig.String())
			}
		})
	}
	var a ACL
	for _, tt := range []struct{ id, mod string }{{"bob", "lrq"}, {"bob", "+q"}, {"bob", "-q"}, {"bob", "=l"}} {
		var re *RightsError
		if err := a.Set(tt.id, tt.mod); !errors.As(err, &re) {
			t.Errorf("Set(%q, %q): %v, want a *RightsError", tt.id, tt.mod, err)
		}
	}
	for _, id := range []string{"", "-", "a\tb", "a\x00b"} {
		var ie *IdentifierError
		if err := a.Set(id, "l"); !errors.As(err, &ie) {
			t.Errorf("Set(%q): %v, want an *IdentifierError", id, err)
		}
	}
	if a.String() != "" {
		t.Errorf("failed Sets changed the ACL: %q", a.String())
	}
}

func TestSetOwned(t *testing.T) {
	implicit := DefaultImplicitOwner
	tests := []struct {
		name, identifier, mod, want string
	}{
		{"owner replace keeps implicit", "alice", "r", "alice\tlrkxcan\tbob\tlr\t"},
		{"owner remove keeps implicit", "alice", "", "alice\tlkxcan\tbob\tlr\t"},
		{"owner minus keeps implicit", "alice", "-lrswipkxtecdan", "alice\tlkxcan\tbob\tlr\t"},
		{"negative owner cannot take implicit", "-alice", "lrwa", "alice\tlrswipkxtecdan\tbob\tlr\t-alice\trw\t"},
		{"negative owner only implicit", "-alice", "la", "alice\tlrswipkxtecdan\tbob\tlr\t"},
		{"other identifiers plain", "bob", "", "alice\tlrswipkxtecdan\t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Parse("alice\tlrswipkxtecdan\tbob\tlr\t")
			if err != nil {
				t.Fatal(err)
			}
			if err := a.SetOwned(tt.identifier, tt.mod, "alice", implicit); err != nil {
				t.Fatal(err)
			}
			if got := a.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	a, _ := Parse("alice\tl\tbob\tr\t-bob\tw\t")
	b := a
	if !a.Delete("bob") || a.Delete("carol") || a.Delete("bob") {
		t.Fatal("Delete results")
	}
	if got := a.String(); got != "alice\tl\t-bob\tw\t" {
		t.Errorf("got %q", got)
	}
	if b.String() != "alice\tl\tbob\tr\t-bob\tw\t" {
		t.Errorf("Delete changed a copy: %q", b.String())
	}
	if r, ok := a.Get("-bob"); !ok || r != Write {
		t.Errorf("Get(-bob) = %v, %v", r, ok)
	}
	if _, ok := a.Get("bob"); ok {
		t.Error("Get(bob) after Delete")
	}
	es := a.Entries()
	es[0].Rights = 0
	if r, _ := a.Get("alice"); r != Lookup {
		t.Error("Entries aliases the ACL")
	}
	if !es[1].Negative() || es[0].Negative() {
		t.Error("Negative")
	}
}

func TestRightsFor(t *testing.T) {
	const aclText = "alice\tlrswipkxtecdan\tanyone\tl\tanonymous\tr\tbob\tlrswi\t-bob\tw\tgroup:staff\tlrs\t-group:interns\ts\t-anyone\tp\tcarol\tlrsa\t"
	a, err := Parse(aclText)
	if err != nil {
		t.Fatal(err)
	}
	implicit := DefaultImplicitOwner
	tests := []struct {
		name  string
		id    Identity
		owner string
		want  string
	}{
		{"owner entry", Identity{UserID: "alice"}, "alice", "lrswikxtecdan"},
		{"bob minus negative", Identity{UserID: "bob"}, "alice", "lrsi"},
		{"anyone only", Identity{UserID: "dave"}, "alice", "l"},
		{"anonymous", Identity{Anonymous: true}, "alice", "lr"},
		{"anonymous named like a user", Identity{UserID: "alice", Anonymous: true}, "alice", "lr"},
		{"anonymous entry needs anonymous login", Identity{UserID: "anonymous"}, "", "l"},
		{"group", Identity{UserID: "erin", Groups: []string{"staff"}}, "alice", "lrs"},
		{"negative group", Identity{UserID: "erin", Groups: []string{"staff", "interns"}}, "alice", "lr"},
		{"group prefix is literal", Identity{UserID: "erin", Groups: []string{"group:staff"}}, "alice", "l"},
		{"implicit owner rights", Identity{UserID: "dave"}, "dave", "lkxcan"},
		{"implicit after negatives", Identity{UserID: "bob"}, "bob", "lrsikxcan"},
		{"no implicit for shared", Identity{UserID: "dave"}, "", "l"},
		{"admin gets nothing extra", Identity{UserID: "cyrus", Admin: true}, "alice", "l"},
		{"empty userid matches no user", Identity{}, "", "l"},
	}
	for _, tt := range tests {
		got := a.RightsFor(tt.id, tt.owner, implicit).String()
		if got != tt.want {
			t.Errorf("%s: RightsFor(%+v) = %q, want %q", tt.name, tt.id, got, tt.want)
		}
	}
	// A negative entry can take an owner's explicit rights but not the
	// implicit ones.
	b, _ := Parse("alice\tlrswipkxtecdan\t-alice\tlrwa\t")
	if got := b.RightsFor(Identity{UserID: "alice"}, "alice", implicit).String(); got != "lsipkxtecdan" {
		t.Errorf("owner with negative entry: %q", got)
	}
	// implicit_owner_rights may be empty.
	if got := b.RightsFor(Identity{UserID: "alice"}, "alice", None).String(); got != "sipkxtecdn" {
		t.Errorf("owner without implicit rights: %q", got)
	}
	// acl_admin_implies_write: a through the ACL adds the write rights
	// before negative entries apply.
	p := Policy{AdminImpliesWrite: true}
	c, _ := Parse("carol\tla\t-carol\tt\t")
	if got := c.Evaluate(Identity{UserID: "carol"}, "", p).String(); got != "lswiedan" {
		t.Errorf("admin implies write: %q", got)
	}
	if got := c.Evaluate(Identity{UserID: "dave"}, "", p).String(); got != "" {
		t.Errorf("admin implies write for others: %q", got)
	}
}

func TestDefaults(t *testing.T) {
	// The reference transcripts: "* ACL INBOX alice lrswipkxtecdan".
	if got := DefaultForUser("alice").String(); got != "alice\tlrswipkxtecdan\t" {
		t.Errorf("DefaultForUser = %q", got)
	}
	if got := DefaultForUser("bob@example.com").String(); got != "bob@example.com\tlrswipkxtecdan\t" {
		t.Errorf("DefaultForUser = %q", got)
	}
	p := DefaultPolicy()
	if p.ImplicitOwner.String() != "lkxcan" || p.AdminImpliesWrite {
		t.Errorf("DefaultPolicy = %+v", p)
	}
	s := p.NewSharedACL()
	if got := s.String(); got != "anyone\tlrs\t" {
		t.Errorf("NewSharedACL = %q", got)
	}
	if err := s.Set("bob", "l"); err != nil {
		t.Fatal(err)
	}
	if got := p.NewSharedACL().String(); got != "anyone\tlrs\t" {
		t.Errorf("NewSharedACL shares storage: %q", got)
	}

	cfg, err := config.FromMap(map[string]string{"configdirectory": "/x"}, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := PolicyFromConfig(cfg)
	if err != nil || got.ImplicitOwner != p.ImplicitOwner || got.AdminImpliesWrite || got.DefaultACL.String() != p.DefaultACL.String() {
		t.Errorf("PolicyFromConfig(defaults) = %+v, %v; want %+v", got, err, p)
	}
	cfg, err = config.FromMap(map[string]string{
		"configdirectory":         "/x",
		"implicit_owner_rights":   "lka",
		"acl_admin_implies_write": "yes",
		"defaultacl":              "  anyone   lr  group:staff lrswi\tbob c ",
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err = PolicyFromConfig(cfg)
	if err != nil || got.ImplicitOwner.String() != "lkca" || !got.AdminImpliesWrite ||
		got.DefaultACL.String() != "anyone\tlr\tgroup:staff\tlrswi\tbob\tkxc\t" {
		t.Errorf("PolicyFromConfig = %+v (%q), %v", got, got.DefaultACL.String(), err)
	}
	for k, v := range map[string]string{"implicit_owner_rights": "lkq", "defaultacl": "anyone"} {
		cfg, err := config.FromMap(map[string]string{"configdirectory": "/x", k: v}, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := PolicyFromConfig(cfg); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s %q: %v", k, v, err)
		}
	}
	for _, s := range []string{"anyone +lrs", "anyone -l", "anyone lrq", "anyone lr bob"} {
		if _, err := ParseDefaultACL(s); err == nil {
			t.Errorf("ParseDefaultACL(%q) accepted", s)
		}
	}
	if a, err := ParseDefaultACL(""); err != nil || a.String() != "" {
		t.Errorf("ParseDefaultACL(\"\") = %q, %v", a.String(), err)
	}
}
