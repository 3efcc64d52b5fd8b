package imapserver

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
)

func TestListPattern(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"*", "INBOX.a.b", true},
		{"%", "INBOX", true},
		{"%", "INBOX.a", false},
		{"INBOX.%", "INBOX.a", true},
		{"INBOX.%", "INBOX.a.b", false},
		{"INBOX.*", "INBOX.a.b", true},
		{"INBOX.*", "INBOX", false},
		{"*b", "INBOX.a.b", true},
		{"%b", "INBOX.a.b", false},
		{"%.%.b", "INBOX.a.b", true},
		{"I%X", "INBOX", true},
		{"user.%", "user.bob", true},
		{"a.b", "a.b", true},
		{"a.b", "aXb", false},    // the separator is no wildcard
		{"a(b)+", "a(b)+", true}, // nor are regexp specials
		{"*a*a*a*a*a*a*a*b", strings.Repeat("a", 400), false},
	} {
		re, err := compileListPattern(tc.pattern, '.')
		if err != nil {
			t.Fatalf("%q: %v", tc.pattern, err)
		}
		if got := re.MatchString(tc.name); got != tc.want {
			t.Errorf("%q matching %q: %v", tc.pattern, tc.name, got)
		}
	}
	for _, tc := range [][2]string{{"inbox", "INBOX"}, {"Inbox.Sent", "INBOX.Sent"}, {"inbox*", "INBOX*"}, {"inboxes", "inboxes"}, {"in", "in"}} {
		if got := normalizeInbox(tc[0], '.'); got != tc[1] {
			t.Errorf("normalizeInbox(%q) = %q, want %q", tc[0], got, tc[1])
		}
	}
}

// TestListManyMailboxes: one store scan answers any pattern, in Cyrus's
// order, with the right children attributes, however many mailboxes.
func TestListManyMailboxes(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.create("user.alice")
	const n = 100
	for i := 0; i < n; i++ {
		e.create(fmt.Sprintf("user.alice.f%03d", i))
		if i%10 == 0 {
			e.create(fmt.Sprintf("user.alice.f%03d.sub", i))
		}
	}
	e.create("user.bob")
	if err := e.store.SetACL(testAdmin, "user.bob", "alice", "lr"); err != nil {
		t.Fatal(err)
	}
	c := e.dial()
	c.mustOK("L", "LOGIN alice x")
	all := c.mustOK("A", `LIST "" *`)
	if len(all) != 1+n+n/10+1+1 {
		t.Fatalf("LIST * gave %d lines", len(all))
	}
	if all[0] != `* LIST (\HasChildren) "." INBOX` || all[1] != `* LIST (\HasChildren) "." INBOX.f000` ||
		all[2] != `* LIST (\HasNoChildren) "." INBOX.f000.sub` || all[len(all)-2] != `* LIST (\HasNoChildren) "." user.bob` {
		t.Errorf("order: %q", all[:3])
	}
	top := c.mustOK("P", `LIST "" %`)
	expectLines(t, top, `* LIST (\HasChildren) "." INBOX`, `* LIST (\Noselect \HasChildren) "." user`)
	if len(top) != 3 {
		t.Errorf("LIST %%: %q", top)
	}
	one := c.mustOK("O", `LIST "" INBOX.f09%`)
	if len(one) != 11 {
		t.Errorf("LIST INBOX.f29%%: %q", one)
	}
}

// BenchmarkList lists a user with many mailboxes.
func BenchmarkList(b *testing.B) {
	e := newTestEnv(b, nil)
	e.create("user.alice")
	for i := 0; i < 1000; i++ {
		if _, err := e.store.Create(testAdmin, fmt.Sprintf("user.alice.f%04d", i), mailbox.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	c := e.dial()
	c.mustOK("L", "LOGIN alice x")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.mustOK("A", `LIST "" *`)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/mailbox")
}

// TestListAltNamespace: under altnamespace a user's folders are INBOX's
// siblings, so INBOX has no children of its own, and the other users'
// and shared roots are \Noselect parents (RFC 3348, RFC 3501 6.3.8).
func TestListAltNamespace(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, map[string]string{"altnamespace": "yes", "unixhierarchysep": "yes"})
	e.create("user.alice")
	e.create("user.alice.Sent")
	e.create("user.alice.a^b")
	e.create("user.bob")
	e.create("user.bob.x")
	e.create("shared")
	if err := e.store.SetACL(testAdmin, "user.bob.x", "alice", "lr"); err != nil {
		t.Fatal(err)
	}
	c := e.dial()
	c.mustOK("L", "LOGIN alice x")
	expectLines(t, c.mustOK("N", "NAMESPACE"), `* NAMESPACE (("" "/")) (("Other Users/" "/")) (("Shared Folders/" "/"))`)
	out := c.mustOK("A", `LIST "" %`)
	want := []string{
		`* LIST (\HasNoChildren) "/" INBOX`,
		`* LIST (\HasNoChildren) "/" Sent`,
		`* LIST (\HasNoChildren) "/" a.b`,
		`* LIST (\Noselect \HasChildren) "/" "Other Users"`,
		`* LIST (\Noselect \HasChildren) "/" "Shared Folders"`,
	}
	if strings.Join(out[:len(out)-1], "\n") != strings.Join(want, "\n") {
		t.Errorf("LIST %%:\n%s", strings.Join(out, "\n"))
	}
	c.mustOK("C", "CREATE Work/Deep/er")
	expectLines(t, c.mustOK("R", "RENAME Work Play"), "* OK rename Work Play", "* OK rename Work/Deep/er Play/Deep/er")
	expectLines(t, c.mustOK("P", `LIST "" Play/%`), `* LIST (\HasChildren) "/" Play/Deep`)
	expectLines(t, c.mustOK("O", `LIST "" "Other Users/*"`), `* LIST (\HasNoChildren) "/" "Other Users/bob/x"`)
}
