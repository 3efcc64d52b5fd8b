package mailbox

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"testing"
)

// Records answers exactly what Record answers, for runs of consecutive
// slots and for gaps left by expunges the view has not applied yet.
func TestRecordsMatchesRecord(t *testing.T) {
	s := testStore(t, nil)
	mustCreate(t, s, "user.alice")
	a, _ := s.Open(user("alice"), "user.alice", OpenOptions{})
	b, _ := s.Open(user("alice"), "user.alice", OpenOptions{})
	defer a.Close()
	defer b.Close()
	appendN(t, a, 10)
	b.Sync(true)
	if _, err := a.StoreFlags([]uint32{3, 4, 8}, FlagsAdd, []string{`\Deleted`}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Expunge(nil); err != nil {
		t.Fatal(err)
	}
	b.Sync(false) // b still shows 10 messages
	for _, seqs := range [][]uint32{
		{1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
		{2, 5, 6, 7, 10},
		{10},
		{},
	} {
		var got, want []string
		err := b.Records(seqs, func(seq uint32, r *Record) {
			got = append(got, fmt.Sprintf("%d:%d:%d", seq, r.UID, r.Flags))
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, seq := range seqs {
			if r, err := b.Record(seq); err == nil {
				want = append(want, fmt.Sprintf("%d:%d:%d", seq, r.UID, r.Flags))
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Records(%v) = %v, Record gives %v", seqs, got, want)
		}
	}
	if err := b.Records([]uint32{11}, func(uint32, *Record) {}); err == nil {
		t.Error("out-of-range sequence number accepted")
	}
}

// A header written before ChangedModseq existed reads as changed up to
// its HIGHESTMODSEQ, so sessions still scan for what may have changed.
func TestHeaderChangedModseq(t *testing.T) {
	for _, tc := range []struct {
		name    string
		old     bool
		changed uint64
		want    uint64
	}{
		{"current", false, 7, 7},
		{"current, appends only", false, 0, 0},
		{"before the field", true, 7, 42},
	} {
		h := Header{HighestModseq: 42, ChangedModseq: tc.changed}
		var b [slotSize]byte
		h.marshal(b[:])
		if tc.old {
			clear(b[108:120])
			// The checksum as the older writer would have computed it.
			binary.LittleEndian.PutUint32(b[slotSize-4:], crc32.ChecksumIEEE(b[:slotSize-4]))
			var h2 Header
			if !h2.unmarshal(b[:]) {
				t.Fatalf("%s: unmarshal failed", tc.name)
			}
			h = h2
		} else if !h.unmarshal(b[:]) {
			t.Fatalf("%s: unmarshal failed", tc.name)
		}
		if h.ChangedModseq != tc.want {
			t.Errorf("%s: ChangedModseq %d, want %d", tc.name, h.ChangedModseq, tc.want)
		}
	}
}

// Flag changes by one session still reach another after appends moved
// HIGHESTMODSEQ, and appends alone report no flag changes.
func TestSyncChangedAfterAppends(t *testing.T) {
	s := testStore(t, nil)
	mustCreate(t, s, "user.alice")
	a, _ := s.Open(user("alice"), "user.alice", OpenOptions{})
	b, _ := s.Open(user("alice"), "user.alice", OpenOptions{})
	defer a.Close()
	defer b.Close()
	appendN(t, a, 3)
	b.Sync(true)
	appendN(t, a, 2)
	if u, _ := b.Sync(true); len(u.Changed) != 0 || !u.Grew {
		t.Fatalf("appends: %+v", u)
	}
	a.Sync(true)
	if _, err := a.StoreFlags([]uint32{2}, FlagsAdd, []string{`\Flagged`}, 0); err != nil {
		t.Fatal(err)
	}
	appendN(t, a, 1)
	if u, _ := b.Sync(true); fmt.Sprint(u.Changed) != "[2]" {
		t.Fatalf("flag change lost: %+v", u)
	}
}
