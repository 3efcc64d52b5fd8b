package mailbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
	"github.com/cyrusgo/cyrusgo/libcyrus/quota"
)

func testStore(t testing.TB, extra map[string]string) *Store {
	t.Helper()
	dir := t.TempDir()
	kv := map[string]string{
		"configdirectory":   dir + "/conf",
		"partition-default": dir + "/spool",
		"admins":            "cyrus",
		"delete_mode":       "immediate",
	}
	for k, v := range extra {
		kv[k] = strings.ReplaceAll(v, "@DIR@", dir)
	}
	cfg, err := config.FromMap(kv, "imap")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, cyrusdb.NewMemSet(), logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var admin = acl.Identity{UserID: "cyrus", Admin: true}

func user(name string) acl.Identity { return acl.Identity{UserID: name} }

func msg(i int, extra string) string {
	return fmt.Sprintf("From: a@example.com\r\nTo: b@example.com\r\nSubject: test %d\r\nMessage-ID: <%d@example.com>\r\n\r\nbody %d%s\r\n", i, i, i, extra)
}

func mustCreate(t testing.TB, s *Store, name string) {
	t.Helper()
	if _, err := s.Create(admin, name, CreateOptions{}); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

func appendN(t testing.TB, m *Mailbox, n int, flags ...string) []uint32 {
	t.Helper()
	var uids []uint32
	for i := 0; i < n; i++ {
		uid, err := m.AppendReader(strings.NewReader(msg(i, "")), flags, time.Time{}, 0)
		if err != nil {
			t.Fatalf("append: %v", err)
		}
		uids = append(uids, uid)
	}
	return uids
}

func TestCreateAppendRead(t *testing.T) {
	s := testStore(t, nil)
	mustCreate(t, s, "user.alice")
	m, err := s.Open(user("alice"), "user.alice", OpenOptions{ClaimRecent: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	uids := appendN(t, m, 3, `\Flagged`, "$Label1")
	if fmt.Sprint(uids) != "[1 2 3]" {
		t.Fatalf("uids %v", uids)
	}
	u, err := m.Sync(true)
	if err != nil || !u.Grew || u.Exists != 3 {
		t.Fatalf("sync %+v %v", u, err)
	}
	r, err := m.Record(2)
	if err != nil {
		t.Fatal(err)
	}
	if r.UID != 2 || r.Size != uint64(len(msg(1, ""))) {
		t.Fatalf("record %+v", r)
	}
	if got := strings.Join(m.Flags(&r), " "); got != `\Flagged $Label1 \Recent` {
		t.Fatalf("flags %q", got)
	}
	f, err := m.OpenMessage(&r)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, r.Size)
	f.ReadAt(b, 0)
	f.Close()
	if string(b) != msg(1, "") {
		t.Fatalf("message %q", b)
	}
	if c, err := m.CacheData(&r); err != nil || len(c) == 0 {
		t.Fatalf("cache %d %v", len(c), err)
	}
	st := m.Status()
	if st.Messages != 3 || st.Unseen != 3 || st.UIDNext != 4 || st.Recent != 3 {
		t.Fatalf("status %+v", st)
	}
	// Message files are named as in Cyrus.
	data, _, _ := s.Dirs(m.Entry())
	if _, err := os.Stat(filepath.Join(data, "3.")); err != nil {
		t.Fatal(err)
	}
}

func TestTwoSessions(t *testing.T) {
	s := testStore(t, nil)
	mustCreate(t, s, "user.alice")
	a, _ := s.Open(user("alice"), "user.alice", OpenOptions{ClaimRecent: true})
	b, _ := s.Open(user("alice"), "user.alice", OpenOptions{ClaimRecent: true})
	defer a.Close()
	defer b.Close()
	appendN(t, a, 4)
	u, _ := b.Sync(true)
	if !u.Grew || u.Exists != 4 {
		t.Fatalf("b did not see appends: %+v", u)
	}
	// \Recent belongs to exactly one session.
	a.Sync(true)
	if ra, rb := a.Status().Recent, b.Status().Recent; ra+rb != 4 {
		t.Fatalf("recent a=%d b=%d", ra, rb)
	}
	res, err := a.StoreFlags([]uint32{2, 3}, FlagsAdd, []string{`\Deleted`}, 0)
	if err != nil || len(res.Changed) != 2 {
		t.Fatalf("store %+v %v", res, err)
	}
	u, _ = b.Sync(false)
	if fmt.Sprint(u.Changed) != "[2 3]" {
		t.Fatalf("flag changes %+v", u)
	}
	exp, err := a.Expunge(nil)
	if err != nil || fmt.Sprint(exp) != "[2 3]" {
		t.Fatalf("expunge %v %v", exp, err)
	}
	// No EXPUNGE during FETCH/STORE/SEARCH: the view keeps its numbers.
	u, _ = b.Sync(false)
	if len(u.Expunged) != 0 || b.Count() != 4 {
		t.Fatalf("expunge leaked into a no-expunge sync: %+v", u)
	}
	u, _ = b.Sync(true)
	if fmt.Sprint(u.Expunged) != "[3 2]" || b.Count() != 2 {
		t.Fatalf("expunges %+v count %d", u, b.Count())
	}
	if fmt.Sprint(b.UIDs()) != "[1 4]" {
		t.Fatalf("uids %v", b.UIDs())
	}
	if u.HighestModseq == 0 {
		t.Fatal("highestmodseq 0")
	}
}

func TestUnchangedSince(t *testing.T) {
	s := testStore(t, nil)
	mustCreate(t, s, "user.alice")
	m, _ := s.Open(user("alice"), "user.alice", OpenOptions{})
	defer m.Close()
	appendN(t, m, 2)
	m.Sync(true)
	r2, _ := m.Record(2)
	res, _ := m.StoreFlags([]uint32{1}, FlagsAdd, []string{`\Seen`}, 0)
	res2, err := m.StoreFlags([]uint32{1, 2}, FlagsAdd, []string{`\Flagged`}, r2.Modseq)
	if err != nil || fmt.Sprint(res2.Modified) != "[1]" || fmt.Sprint(res2.Changed) != "[2]" {
		t.Fatalf("unchangedsince: %+v %v (after %+v)", res2, err, res)
	}
}

func TestQuotaAndTrashTrap(t *testing.T) {
	s := testStore(t, nil)
	mustCreate(t, s, "user.alice")
	mustCreate(t, s, "user.alice.Trash")
	s.Quota().SetLimits("user.alice", quota.Limits{Storage: 1, Message: quota.Unlimited})
	in, _ := s.Open(user("alice"), "user.alice", OpenOptions{})
	trash, _ := s.Open(user("alice"), "user.alice.Trash", OpenOptions{})
	defer in.Close()
	defer trash.Close()
	big := strings.Repeat("x", 700)
	if _, err := in.AppendReader(strings.NewReader(msg(1, big)), nil, time.Time{}, 0); err != nil {
		t.Fatal(err)
	}
	_, err := in.AppendReader(strings.NewReader(msg(2, big)), nil, time.Time{}, 0)
	if !errors.Is(err, ErrOverQuota) || CodeOf(err) != CodeOverQuota {
		t.Fatalf("second append over quota: %v", err)
	}
	in.Sync(true)
	// COPY grows usage: refused. MOVE within the root: allowed.
	if _, err := in.CopyTo(trash, []uint32{1}, false); CodeOf(err) != CodeOverQuota {
		t.Fatalf("copy over quota: %v", err)
	}
	res, err := in.CopyTo(trash, []uint32{1}, true)
	if err != nil || fmt.Sprint(res.DstUIDs) != "[1]" {
		t.Fatalf("move over quota: %+v %v", res, err)
	}
	u, _ := s.Quota().Usage("user.alice")
	if u.Messages != 1 || u.Bytes != int64(len(msg(1, big))) {
		t.Fatalf("usage after move %+v", u)
	}
	trash.Sync(true)
	trash.StoreFlags([]uint32{1}, FlagsAdd, []string{`\Deleted`}, 0)
	if _, err := trash.Expunge(nil); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.Quota().Usage("user.alice"); u != (quota.Usage{}) {
		t.Fatalf("usage after expunge %+v", u)
	}
}

func TestACLChecks(t *testing.T) {
	s := testStore(t, nil)
	mustCreate(t, s, "user.alice")
	mustCreate(t, s, "user.alice.Shared")
	if _, err := s.Open(user("bob"), "user.alice.Shared", OpenOptions{}); !errors.Is(err, ErrNonexistent) {
		t.Fatalf("bob opened alice's folder: %v", err)
	}
	if err := s.SetACL(user("bob"), "user.alice.Shared", "bob", "lrswi"); !errors.Is(err, ErrNonexistent) {
		t.Fatalf("bob set ACL: %v", err)
	}
	if err := s.SetACL(user("alice"), "user.alice.Shared", "bob", "lr"); err != nil {
		t.Fatal(err)
	}
	m, err := s.Open(user("bob"), "user.alice.Shared", OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !m.ReadOnly() {
		t.Fatal("lr gave a read-write session")
	}
	if _, err := m.AppendReader(strings.NewReader(msg(1, "")), nil, time.Time{}, 0); !errors.Is(err, ErrNoPerm) {
		t.Fatalf("append without i: %v", err)
	}
	if _, err := s.Create(user("bob"), "user.alice.Shared.sub", CreateOptions{}); !errors.Is(err, ErrNoPerm) {
		t.Fatalf("create without k: %v", err)
	}
	if err := s.Delete(user("bob"), "user.alice.Shared"); !errors.Is(err, ErrNoPerm) {
		t.Fatalf("delete without x: %v", err)
	}
	if _, err := s.Create(user("alice"), "user.bob", CreateOptions{}); !errors.Is(err, ErrNoPerm) {
		t.Fatalf("user created another user's INBOX: %v", err)
	}
}

func TestNonOwnerSeen(t *testing.T) {
	s := testStore(t, nil)
	mustCreate(t, s, "user.alice")
	s.SetACL(admin, "user.alice", "bob", "lrs")
	a, _ := s.Open(user("alice"), "user.alice", OpenOptions{})
	defer a.Close()
	appendN(t, a, 2)
	b, _ := s.Open(user("bob"), "user.alice", OpenOptions{})
	defer b.Close()
	if _, err := b.StoreFlags([]uint32{1}, FlagsAdd, []string{`\Seen`}, 0); err != nil {
		t.Fatal(err)
	}
	r, _ := b.Record(1)
	if r.Flags&FlagSeen == 0 {
		t.Fatal("bob's \\Seen not kept")
	}
	a.Sync(true)
	r, _ = a.Record(1)
	if r.Flags&FlagSeen != 0 {
		t.Fatal("bob's \\Seen leaked to the owner")
	}
	b2, _ := s.Open(user("bob"), "user.alice", OpenOptions{})
	defer b2.Close()
	if st := b2.Status(); st.Unseen != 1 {
		t.Fatalf("bob's unseen after reopen %d", st.Unseen)
	}
}

func TestDeleteAndReuse(t *testing.T) {
	for _, mode := range []string{"immediate", "delayed"} {
		t.Run(mode, func(t *testing.T) {
			s := testStore(t, map[string]string{"delete_mode": mode})
			mustCreate(t, s, "user.alice")
			mustCreate(t, s, "user.alice.a")
			mustCreate(t, s, "user.alice.a.b")
			if err := s.Delete(user("alice"), "user.alice.a"); CodeOf(err) != CodeHasChildren {
				t.Fatalf("delete with children: %v", err)
			}
			// Twice within one second: the name is free at once each time.
			for i := 0; i < 2; i++ {
				if err := s.Delete(user("alice"), "user.alice.a.b"); err != nil {
					t.Fatalf("delete %d: %v", i, err)
				}
				if _, err := s.Create(user("alice"), "user.alice.a.b", CreateOptions{}); err != nil {
					t.Fatalf("recreate %d: %v", i, err)
				}
			}
			if err := s.Delete(user("alice"), "user.alice"); !errors.Is(err, ErrNoPerm) {
				t.Fatalf("user deleted own INBOX: %v", err)
			}
			if err := s.Delete(admin, "user.alice"); err != nil {
				t.Fatalf("admin deletes user: %v", err)
			}
			n := 0
			s.List(admin, "user.", func(e *Entry, _ acl.Rights) error { n++; return nil })
			if n != 0 {
				t.Fatalf("%d mailboxes left", n)
			}
		})
	}
}

func TestRename(t *testing.T) {
	s := testStore(t, nil)
	mustCreate(t, s, "user.alice")
	mustCreate(t, s, "user.alice.old")
	mustCreate(t, s, "user.alice.old.child")
	m, _ := s.Open(user("alice"), "user.alice.old.child", OpenOptions{})
	appendN(t, m, 2)
	uv := m.Entry().UIDValidity
	m.Close()
	if err := s.Rename(user("alice"), "user.alice.old", "user.alice.new"); err != nil {
		t.Fatal(err)
	}
	m, err := s.Open(user("alice"), "user.alice.new.child", OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Count() != 2 || m.Entry().UIDValidity != uv {
		t.Fatalf("after rename: %d messages, uidvalidity %d (was %d)", m.Count(), m.Entry().UIDValidity, uv)
	}
	if _, err := s.Lookup("user.alice.old"); !errors.Is(err, ErrNonexistent) {
		t.Fatal("old name still there")
	}
	// RENAME INBOX moves the messages and leaves INBOX empty.
	in, _ := s.Open(user("alice"), "user.alice", OpenOptions{})
	appendN(t, in, 3)
	in.Close()
	if err := s.Rename(user("alice"), "user.alice", "user.alice.saved"); err != nil {
		t.Fatal(err)
	}
	in, _ = s.Open(user("alice"), "user.alice", OpenOptions{})
	sv, _ := s.Open(user("alice"), "user.alice.saved", OpenOptions{})
	defer in.Close()
	defer sv.Close()
	if in.Count() != 0 || sv.Count() != 3 {
		t.Fatalf("rename INBOX: inbox %d, saved %d", in.Count(), sv.Count())
	}
}

func TestHashedLayout(t *testing.T) {
	s := testStore(t, map[string]string{"hashimapspool": "yes"})
	e, err := s.Create(admin, "user.alice.Sent", CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, _, _ := s.Dirs(e)
	if !strings.HasSuffix(data, "/spool/a/user/alice/Sent") {
		t.Fatalf("hashed dir %s", data)
	}
	e, _ = s.Create(admin, "example.com!user.bob", CreateOptions{})
	data, _, _ = s.Dirs(e)
	if !strings.HasSuffix(data, "/spool/domain/e/example.com/b/user/bob") {
		t.Fatalf("domain dir %s", data)
	}
}

func TestMetapartition(t *testing.T) {
	s := testStore(t, map[string]string{
		"metapartition-default": "@DIR@/meta",
		"metapartition_files":   "header index cache",
	})
	e, _ := s.Create(admin, "user.alice", CreateOptions{})
	data, meta, _ := s.Dirs(e)
	if data == meta {
		t.Fatal("metapartition ignored")
	}
	if _, err := os.Stat(filepath.Join(meta, indexFileName)); err != nil {
		t.Fatal(err)
	}
	m, _ := s.Open(user("alice"), "user.alice", OpenOptions{})
	defer m.Close()
	appendN(t, m, 1)
	if _, err := os.Stat(filepath.Join(data, "1.")); err != nil {
		t.Fatal(err)
	}
}
