package mailbox

import (
	"errors"
	"testing"
	"time"
)

func TestOpenMaildrop(t *testing.T) {
	s := testStore(t, nil)
	mustCreate(t, s, "user.alice")
	mustCreate(t, s, "user.bob")
	if err := s.SetACL(admin, "user.alice", "alice", "lr"); err != nil {
		t.Fatal(err)
	}
	// Without popuseacl the owner gets every right, whatever the ACL.
	m, err := s.OpenMaildrop("alice", "user.alice", false)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, m, 3)
	m.Close()
	m, err = s.OpenMaildrop("alice", "user.alice", false)
	if err != nil {
		t.Fatal(err)
	}
	if m.Count() != 3 {
		t.Fatalf("count %d", m.Count())
	}
	got, err := m.ExpungeMessages([]uint32{1, 3, 99})
	if err != nil || len(got) != 2 {
		t.Fatalf("expunge: %v %v", got, err)
	}
	// Already expunged: skipped.
	if got, err := m.ExpungeMessages([]uint32{1}); err != nil || len(got) != 0 {
		t.Fatalf("second expunge: %v %v", got, err)
	}
	m.Close()

	// With popuseacl the ACL applies: lr opens, but t is needed to expunge.
	m, err = s.OpenMaildrop("alice", "user.alice", true)
	if err != nil {
		t.Fatal(err)
	}
	if m.Count() != 1 {
		t.Fatalf("count after expunge %d", m.Count())
	}
	if _, err := m.ExpungeMessages([]uint32{2}); !errors.Is(err, ErrNoPerm) {
		t.Fatalf("expunge without t: %v", err)
	}
	m.Close()

	// Never another user's mailbox.
	if _, err := s.OpenMaildrop("alice", "user.bob", false); !errors.Is(err, ErrNoPerm) {
		t.Fatalf("open bob's maildrop as alice: %v", err)
	}
	if _, err := s.OpenMaildrop("alice", "user.alice.Missing", false); !errors.Is(err, ErrNonexistent) {
		t.Fatalf("missing maildrop: %v", err)
	}
}

func TestPOP3LastLogin(t *testing.T) {
	s := testStore(t, nil)
	mustCreate(t, s, "user.alice")
	m, err := s.OpenMaildrop("alice", "user.alice", false)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if last, err := m.POP3LastLogin(); err != nil || !last.IsZero() {
		t.Fatalf("fresh mailbox: %v %v", last, err)
	}
	at := time.Unix(1700000000, 0)
	if err := m.SetPOP3LastLogin(at); err != nil {
		t.Fatal(err)
	}
	m2, err := s.OpenMaildrop("alice", "user.alice", false)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if last, err := m2.POP3LastLogin(); err != nil || !last.Equal(at) {
		t.Fatalf("after set: %v %v", last, err)
	}
}
