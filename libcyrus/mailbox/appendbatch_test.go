package mailbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAppendBatchMatchesAppend loads the same messages with Append and
// with AppendBatch and wants the same records, cache and files, and a
// mailbox reconstruct finds nothing wrong with.
func TestAppendBatchMatchesAppend(t *testing.T) {
	s := testStore(t, nil)
	mustCreate(t, s, "user.alice")
	mustCreate(t, s, "user.bob")
	date := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	one, err := s.OpenForDelivery("user.alice")
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	batch, err := s.OpenForDelivery("user.bob")
	if err != nil {
		t.Fatal(err)
	}
	defer batch.Close()
	var msgs []BatchMessage
	for i := range 5 {
		flags := []string{`\Seen`}
		if i%2 == 0 {
			flags = append(flags, "$Label1")
		}
		if _, err := one.AppendReader(strings.NewReader(msg(i, "")), flags, date, 0); err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, BatchMessage{Data: []byte(msg(i, "")), Flags: flags, InternalDate: date})
	}
	// Two batches: the second continues the UIDs of the first.
	if uids, err := batch.AppendBatch(msgs[:2]); err != nil || fmt.Sprint(uids) != "[1 2]" {
		t.Fatalf("first batch: %v %v", uids, err)
	}
	if uids, err := batch.AppendBatch(msgs[2:]); err != nil || fmt.Sprint(uids) != "[3 4 5]" {
		t.Fatalf("second batch: %v %v", uids, err)
	}
	if _, err := one.Sync(true); err != nil {
		t.Fatal(err)
	}
	if _, err := batch.Sync(true); err != nil {
		t.Fatal(err)
	}
	if one.Count() != 5 || batch.Count() != 5 {
		t.Fatalf("counts %d %d", one.Count(), batch.Count())
	}
	for seq := uint32(1); seq <= 5; seq++ {
		a, err := one.Record(seq)
		if err != nil {
			t.Fatal(err)
		}
		b, err := batch.Record(seq)
		if err != nil {
			t.Fatal(err)
		}
		if a.UID != b.UID || a.Size != b.Size || a.GUID != b.GUID || a.Flags != b.Flags ||
			a.UserFlags != b.UserFlags || !a.InternalDate.Equal(b.InternalDate) || a.Modseq != b.Modseq {
			t.Errorf("seq %d: append %+v, batch %+v", seq, a, b)
		}
		ca, _ := one.CacheData(&a)
		cb, _ := batch.CacheData(&b)
		if string(ca) != string(cb) {
			t.Errorf("seq %d: cache differs", seq)
		}
		f, err := batch.OpenMessage(&b)
		if err != nil {
			t.Fatal(err)
		}
		data := make([]byte, b.Size)
		f.ReadAt(data, 0)
		f.Close()
		if string(data) != msg(int(seq-1), "") {
			t.Errorf("seq %d: file %q", seq, data)
		}
	}
	rep, err := s.Reconstruct("user.bob", ReconstructOptions{DryRun: true})
	if err != nil || !rep.Consistent() {
		t.Fatalf("reconstruct: %v %v", rep.Fixes, err)
	}
	u, err := s.MailboxUsage("user.bob")
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for _, m := range msgs {
		want += int64(len(m.Data))
	}
	if u.Bytes != want || u.Messages != 5 {
		t.Fatalf("usage %+v, want %d bytes in 5", u, want)
	}
}

// TestAppendBatchLeftover: a file left at the next UID by a batch that
// never committed is replaced, not an error.
func TestAppendBatchLeftover(t *testing.T) {
	s := testStore(t, nil)
	mustCreate(t, s, "user.alice")
	m, err := s.OpenForDelivery("user.alice")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	data, _, _ := s.Dirs(m.Entry())
	if err := os.WriteFile(filepath.Join(data, "1."), []byte("torn"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := m.AppendBatch([]BatchMessage{{Data: []byte(msg(1, ""))}}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(data, "1."))
	if string(got) != msg(1, "") {
		t.Fatalf("file %q", got)
	}
}

// TestAppendBatchRefused: no insert right, nothing written.
func TestAppendBatchRefused(t *testing.T) {
	s := testStore(t, nil)
	mustCreate(t, s, "user.alice")
	if err := s.SetACL(admin, "user.alice", "alice", "lr"); err != nil {
		t.Fatal(err)
	}
	m2, err := s.Open(user("alice"), "user.alice", OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if _, err := m2.AppendBatch([]BatchMessage{{Data: []byte(msg(1, ""))}}); err != ErrNoPerm {
		t.Fatalf("err %v, want ErrNoPerm", err)
	}
}
