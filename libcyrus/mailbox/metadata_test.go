package mailbox

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
)

// metaString renders an answer as "entry=value" pairs, NIL for none.
func metaPairs(vals []MetaValue) string {
	var out []string
	for _, v := range vals {
		if v.Value == nil {
			out = append(out, v.Entry+"=NIL")
		} else {
			out = append(out, v.Entry+"="+string(v.Value))
		}
	}
	return strings.Join(out, " ")
}

func metaFixture(t *testing.T, extra map[string]string) *Store {
	t.Helper()
	s := testStore(t, extra)
	for _, n := range []string{"user.alice", "user.alice.Sent", "user.alice.Work", "user.alice.Work.Sub", "user.bob", "shared"} {
		mustCreate(t, s, n)
	}
	if err := s.SetACL(admin, "shared", "alice", "lr"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetACL(admin, "user.alice.Work", "bob", "l"); err != nil {
		t.Fatal(err)
	}
	return s
}

func set(s *Store, id acl.Identity, mbox string, kv ...string) error {
	var ch []MetaChange
	for i := 0; i+1 < len(kv); i += 2 {
		c := MetaChange{Entry: kv[i]}
		if kv[i+1] != "NIL" {
			c.Value = []byte(kv[i+1])
		}
		ch = append(ch, c)
	}
	return s.SetMetadata(id, mbox, ch)
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	var me *MetadataError
	if errors.As(err, &me) && me.Code != "" {
		return fmt.Sprintf("[%s] %s", me.Code, me.Msg)
	}
	return err.Error()
}

func TestSetMetadataRules(t *testing.T) {
	long := strings.Repeat("x", MetadataMaxSize+1)
	tests := []struct {
		name  string
		id    acl.Identity
		mbox  string
		kv    []string
		allow bool // annotation_allow_undefined
		want  string
	}{
		{"owner shared comment", user("alice"), "user.alice", []string{"/shared/comment", "hi"}, false, "ok"},
		{"owner private comment", user("alice"), "user.alice", []string{"/private/comment", "mine"}, false, "ok"},
		{"case-insensitive names", user("alice"), "user.alice", []string{"/SHARED/Comment", "hi"}, false, "ok"},
		{"undefined entry", user("alice"), "user.alice", []string{"/shared/vendor/x/y", "v"}, false, "Permission denied"},
		{"undefined allowed", user("alice"), "user.alice", []string{"/shared/vendor/x/y", "v"}, true, "ok"},
		{"cyrus tree never invented", user("alice"), "user.alice", []string{"/shared/vendor/cmu/cyrus-imapd/new", "v"}, true, "Permission denied"},
		{"read-only entry", user("alice"), "user.alice", []string{"/shared/vendor/cmu/cyrus-imapd/uniqueid", "v"}, false, "Permission denied"},
		{"shared specialuse", user("alice"), "user.alice.Sent", []string{"/shared/specialuse", `\Sent`}, false, "Permission denied"},
		{"bad boolean", user("alice"), "user.alice", []string{"/shared/check", "maybe"}, false, "Invalid annotation value"},
		{"bad number", user("alice"), "user.alice", []string{"/shared/checkperiod", "-1"}, false, "Invalid annotation value"},
		{"too big", user("alice"), "user.alice", []string{"/shared/comment", long}, false, "[MAXSIZE] Annotation value too large"},
		{"not prefixed", user("alice"), "user.alice", []string{"/comment", "x"}, false, "Invalid annotation entry"},
		{"other user's mailbox", user("alice"), "user.bob", []string{"/shared/comment", "x"}, false, "Mailbox does not exist"},
		{"lookup and read only: no shared", user("alice"), "shared", []string{"/shared/comment", "x"}, false, "Permission denied"},
		{"lookup only: private allowed", user("bob"), "user.alice.Work", []string{"/private/comment", "x"}, false, "ok"},
		{"server shared needs admin", user("alice"), "", []string{"/shared/comment", "x"}, false, "Permission denied"},
		{"server private", user("alice"), "", []string{"/private/comment", "x"}, false, "ok"},
		{"server shared by admin", admin, "", []string{"/shared/comment", "x", "/shared/admin", "mailto:a@b"}, false, "ok"},
		{"nonexistent", user("alice"), "user.alice.Nope", []string{"/shared/comment", "x"}, false, "Mailbox does not exist"},
		{"specialuse by owner", user("alice"), "user.alice.Work", []string{"/private/specialuse", "drafts"}, false, "ok"},
		{"specialuse bogus", user("alice"), "user.alice.Work", []string{"/private/specialuse", `\Bogus`}, false, "Invalid annotation entry"},
		{"specialuse by another user", user("bob"), "user.alice.Work", []string{"/private/specialuse", `\Trash`}, false, "Permission denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			extra := map[string]string{}
			if tc.allow {
				extra["annotation_allow_undefined"] = "yes"
			}
			s := metaFixture(t, extra)
			if got := errText(set(s, tc.id, tc.mbox, tc.kv...)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSetMetadataAtomic(t *testing.T) {
	s := metaFixture(t, nil)
	err := set(s, user("alice"), "user.alice", "/shared/comment", "first", "/shared/check", "maybe")
	if !errors.Is(err, ErrMetaBadValue) {
		t.Fatalf("err %v", err)
	}
	vals, _ := s.GetMetadata(user("alice"), "user.alice", []string{"/shared/comment"}, 0)
	if got := metaPairs(vals); got != "/shared/comment=NIL" {
		t.Errorf("a refused command changed something: %s", got)
	}
}

func TestMetadataTooMany(t *testing.T) {
	s := metaFixture(t, map[string]string{"annotation_allow_undefined": "yes"})
	var kv []string
	for i := 0; i < MetadataMaxEntries; i++ {
		kv = append(kv, fmt.Sprintf("/private/vendor/x/e%d", i), "v")
	}
	if err := set(s, user("alice"), "user.alice", kv...); err != nil {
		t.Fatal(err)
	}
	// Replacing and removing never count against the limit.
	if err := set(s, user("alice"), "user.alice", "/private/vendor/x/e0", "w", "/private/vendor/x/e1", "NIL"); err != nil {
		t.Fatal(err)
	}
	if err := set(s, user("alice"), "user.alice", "/private/vendor/x/new", "v", "/private/vendor/x/new2", "v"); !errors.Is(err, ErrMetaTooMany) {
		t.Fatalf("err %v", err)
	}
	// Another owner (the shared half) has its own count.
	if err := set(s, user("alice"), "user.alice", "/shared/vendor/x/new", "v"); err != nil {
		t.Fatal(err)
	}
}

func TestGetMetadata(t *testing.T) {
	s := metaFixture(t, map[string]string{"annotation_allow_undefined": "yes"})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(set(s, user("alice"), "user.alice", "/shared/comment", "shared", "/private/comment", "alice's",
		"/shared/vendor/x/a", "1", "/shared/vendor/x/a/b", "2", "/shared/vendor/y", "3"))
	must(set(s, user("alice"), "user.alice.Work", "/private/specialuse", `\Archive`))
	must(set(s, user("bob"), "user.alice.Work", "/private/comment", "bob's"))
	must(set(s, admin, "", "/shared/comment", "server"))
	uid := func(name string) string {
		e, err := s.Lookup(name)
		must(err)
		return e.UniqueID
	}
	tests := []struct {
		name    string
		id      acl.Identity
		mbox    string
		entries []string
		depth   int
		want    string
	}{
		{"named, with NIL", user("alice"), "user.alice", []string{"/shared/comment", "/private/comment", "/shared/sort"}, 0,
			"/shared/comment=shared /private/comment=alice's /shared/sort=NIL"},
		{"another user's private value is theirs", user("alice"), "user.alice.Work", []string{"/private/comment"}, 0, "/private/comment=NIL"},
		{"depth 1", user("alice"), "user.alice", []string{"/shared/vendor/x"}, 1, "/shared/vendor/x=NIL /shared/vendor/x/a=1"},
		{"depth infinity", user("alice"), "user.alice", []string{"/shared/vendor"}, -1,
			"/shared/vendor=NIL /shared/vendor/cmu/cyrus-imapd/partition=default /shared/vendor/cmu/cyrus-imapd/size=0 /shared/vendor/cmu/cyrus-imapd/uniqueid=" + uid("user.alice") +
				" /shared/vendor/x/a=1 /shared/vendor/x/a/b=2 /shared/vendor/y=3"},
		{"pattern star", user("alice"), "user.alice", []string{"/private/*"}, 0, "/private/comment=alice's"},
		{"pattern percent", user("alice"), "user.alice", []string{"/shared/vendor/%"}, 0, "/shared/vendor/y=3"},
		{"specialuse", user("alice"), "user.alice.Work", []string{"/private/specialuse"}, 0, `/private/specialuse=\Archive`},
		{"uniqueid", user("alice"), "user.alice.Work", []string{"/shared/vendor/cmu/cyrus-imapd/uniqueid"}, 0,
			"/shared/vendor/cmu/cyrus-imapd/uniqueid=" + uid("user.alice.Work")},
		{"lookup only reads nothing", user("bob"), "user.alice.Work", []string{"/private/comment"}, 0, ""},
		{"server", user("bob"), "", []string{"/shared/comment", "/private/comment"}, 0, "/shared/comment=server /private/comment=NIL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vals, err := s.GetMetadata(tc.id, tc.mbox, tc.entries, tc.depth)
			if err != nil {
				t.Fatal(err)
			}
			if got := metaPairs(vals); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	if _, err := s.GetMetadata(user("alice"), "user.bob", []string{"/shared/comment"}, 0); !errors.Is(err, ErrNonexistent) {
		t.Errorf("invisible mailbox: %v", err)
	}
	if v, ok, err := s.ReadMetadata(user("alice"), "user.alice", "/shared/comment"); err != nil || !ok || v != "shared" {
		t.Errorf("ReadMetadata = %q %v %v", v, ok, err)
	}
	if _, ok, err := s.ReadMetadata(user("bob"), "", "/private/comment"); err != nil || ok {
		t.Errorf("ReadMetadata of nothing = %v %v", ok, err)
	}
}

// TestMetadataFollowsMailbox: DELETE drops annotations, RENAME keeps them
// on the new names (children too), RENAME INBOX copies them, and deleting
// a user drops their private values everywhere.
func TestMetadataFollowsMailbox(t *testing.T) {
	get := func(s *Store, id acl.Identity, mbox string, entries ...string) string {
		t.Helper()
		vals, err := s.GetMetadata(id, mbox, entries, 0)
		if err != nil {
			return errText(err)
		}
		return metaPairs(vals)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Run("rename with children", func(t *testing.T) {
		s := metaFixture(t, nil)
		must(set(s, user("alice"), "user.alice.Work", "/shared/comment", "w"))
		must(set(s, user("alice"), "user.alice.Work.Sub", "/private/comment", "s"))
		must(s.Rename(user("alice"), "user.alice.Work", "user.alice.Play"))
		if got := get(s, user("alice"), "user.alice.Play", "/shared/comment"); got != "/shared/comment=w" {
			t.Errorf("renamed: %s", got)
		}
		if got := get(s, user("alice"), "user.alice.Play.Sub", "/private/comment"); got != "/private/comment=s" {
			t.Errorf("renamed child: %s", got)
		}
		mustCreate(t, s, "user.alice.Work")
		if got := get(s, user("alice"), "user.alice.Work", "/shared/comment"); got != "/shared/comment=NIL" {
			t.Errorf("new mailbox at the old name: %s", got)
		}
	})
	t.Run("delete then create", func(t *testing.T) {
		s := metaFixture(t, nil)
		must(set(s, user("alice"), "user.alice.Sent", "/shared/comment", "x", "/private/comment", "y"))
		must(s.Delete(user("alice"), "user.alice.Sent"))
		mustCreate(t, s, "user.alice.Sent")
		if got := get(s, user("alice"), "user.alice.Sent", "/shared/comment", "/private/comment"); got != "/shared/comment=NIL /private/comment=NIL" {
			t.Errorf("after delete: %s", got)
		}
	})
	t.Run("rename INBOX copies", func(t *testing.T) {
		s := metaFixture(t, nil)
		must(set(s, user("alice"), "user.alice", "/shared/comment", "inbox"))
		must(s.Rename(user("alice"), "user.alice", "user.alice.Old"))
		for _, m := range []string{"user.alice", "user.alice.Old"} {
			if got := get(s, user("alice"), m, "/shared/comment"); got != "/shared/comment=inbox" {
				t.Errorf("%s: %s", m, got)
			}
		}
	})
	t.Run("rename user", func(t *testing.T) {
		s := metaFixture(t, nil)
		must(set(s, user("alice"), "user.alice.Work", "/private/comment", "mine"))
		must(s.Rename(admin, "user.alice", "user.carol"))
		// The ACL moves as it was (alice's); carol needs reading rights.
		must(s.SetACL(admin, "user.carol.Work", "carol", "lr"))
		if got := get(s, user("carol"), "user.carol.Work", "/private/comment"); got != "/private/comment=mine" {
			t.Errorf("renamed user's value: %s", got)
		}
	})
	t.Run("delete user", func(t *testing.T) {
		s := metaFixture(t, nil)
		must(set(s, user("alice"), "", "/private/comment", "srv"))
		must(set(s, user("alice"), "shared", "/private/comment", "sh"))
		must(set(s, user("bob"), "", "/private/comment", "bob"))
		must(s.Delete(admin, "user.alice"))
		for _, tc := range []struct{ id, mbox, want string }{
			{"alice", "", "/private/comment=NIL"},
			{"alice", "shared", "/private/comment=NIL"},
			{"bob", "", "/private/comment=bob"},
		} {
			s.SetACL(admin, "shared", tc.id, "lr")
			if got := get(s, user(tc.id), tc.mbox, "/private/comment"); got != tc.want {
				t.Errorf("%s on %q: %s, want %s", tc.id, tc.mbox, got, tc.want)
			}
		}
	})
}

func TestMetaGlob(t *testing.T) {
	for _, tc := range []struct {
		p, n string
		want bool
	}{
		{"*", "/a/b", true},
		{"%", "/a", false},
		{"/%", "/a", true},
		{"/%", "/a/b", false},
		{"/a/*", "/a/b/c", true},
		{"/a/%/c", "/a/b/c", true},
		{"/a*c", "/abbbc", true},
		{"/a*c", "/abbbd", false},
		{"", "", true},
		{strings.Repeat("*", 200) + "x", strings.Repeat("a", 500), false},
	} {
		if got := metaGlob(tc.p, tc.n); got != tc.want {
			t.Errorf("metaGlob(%q, %q) = %v", tc.p, tc.n, got)
		}
	}
}
