package mailbox

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/quota"
)

// reconFixture is a mailbox with three messages (2 flagged, 3 with a
// keyword) under a quota root.
type reconFixture struct {
	s          *Store
	name       string
	data, meta string
}

func newReconFixture(t *testing.T) *reconFixture {
	t.Helper()
	s := testStore(t, nil)
	mustCreate(t, s, "user.alice")
	s.Quota().SetLimits("user.alice", quota.Limits{Storage: quota.Unlimited, Message: 1000})
	m, err := s.Open(user("alice"), "user.alice", OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, m, 3)
	m.Sync(true)
	if _, err := m.StoreFlags([]uint32{2}, FlagsAdd, []string{`\Flagged`}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := m.StoreFlags([]uint32{3}, FlagsAdd, []string{`$Work`}, 0); err != nil {
		t.Fatal(err)
	}
	data, meta, _ := s.Dirs(m.Entry())
	m.Close()
	return &reconFixture{s: s, name: "user.alice", data: data, meta: meta}
}

func (f *reconFixture) reconstruct(t *testing.T, opts ReconstructOptions) Report {
	t.Helper()
	rep, err := f.s.Reconstruct(f.name, opts)
	if err != nil {
		t.Fatalf("reconstruct: %v", err)
	}
	t.Logf("report %v", rep.Fixes)
	return rep
}

// state opens the mailbox and returns "uid:flags" for every message, and
// checks each message is readable, its cache decodes and the header
// counters match the records.
func (f *reconFixture) state(t *testing.T) string {
	t.Helper()
	m, err := f.s.Open(user("alice"), f.name, OpenOptions{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer m.Close()
	var out []string
	for seq := uint32(1); seq <= uint32(m.Count()); seq++ {
		r, err := m.Record(seq)
		if err != nil {
			t.Fatalf("record %d: %v", seq, err)
		}
		checkMessage(t, m, &r)
		out = append(out, fmt.Sprintf("%d:%s", r.UID, strings.Join(m.Flags(&r), ",")))
	}
	checkCounters(t, m)
	return strings.Join(out, " ")
}

// checkMessage reads the message file and its cache entry.
func checkMessage(t testing.TB, m *Mailbox, r *Record) {
	t.Helper()
	fh, err := m.OpenMessage(r)
	if err != nil {
		t.Fatalf("message %d: %v", r.UID, err)
	}
	b, err := os.ReadFile(fh.Name())
	fh.Close()
	if err != nil || uint64(len(b)) != r.Size {
		t.Fatalf("message %d: %d bytes, record says %d (%v)", r.UID, len(b), r.Size, err)
	}
	if c, err := m.CacheData(r); err != nil || len(c) == 0 {
		t.Fatalf("message %d: cache %v", r.UID, err)
	}
}

// checkCounters compares the index header with a scan of the records,
// and the quota database with the header.
func checkCounters(t testing.TB, m *Mailbox) {
	t.Helper()
	h, err := m.fs.idx.readHeader()
	if err != nil {
		t.Fatal(err)
	}
	var exists uint32
	var used, maxModseq uint64
	var maxUID uint32
	err = m.fs.idx.scanRecords(0, h.NumRecords, func(_ uint32, r *Record) error {
		maxUID = max(maxUID, r.UID)
		maxModseq = max(maxModseq, r.Modseq)
		if !r.Expunged() {
			exists++
			used += r.Size
		}
		return nil
	})
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	if h.Exists != exists || h.QuotaUsed != used || h.LastUID < maxUID || h.HighestModseq < maxModseq {
		t.Fatalf("header %+v, records: exists %d used %d max uid %d max modseq %d", h, exists, used, maxUID, maxModseq)
	}
}

func TestReconstructConsistent(t *testing.T) {
	f := newReconFixture(t)
	before := f.state(t)
	for _, dry := range []bool{true, false} {
		if rep := f.reconstruct(t, ReconstructOptions{DryRun: dry}); !rep.Consistent() {
			t.Fatalf("dry=%v: fixes on a consistent mailbox: %v", dry, rep.Fixes)
		}
	}
	if after := f.state(t); after != before {
		t.Fatalf("state changed: %s -> %s", before, after)
	}
}

func TestReconstructMissingIndex(t *testing.T) {
	f := newReconFixture(t)
	os.Remove(filepath.Join(f.meta, indexFileName))
	if _, err := f.s.Open(user("alice"), f.name, OpenOptions{}); err == nil {
		t.Fatal("opened without an index")
	}
	rep := f.reconstruct(t, ReconstructOptions{})
	if !containsLine(rep.Fixes, "cyrusgo.index is missing") {
		t.Fatalf("fixes %v", rep.Fixes)
	}
	// The records are gone with the index: the messages come back
	// without flags.
	if got := f.state(t); got != "1: 2: 3:" {
		t.Fatalf("state %q", got)
	}
	if rep := f.reconstruct(t, ReconstructOptions{DryRun: true}); !rep.Consistent() {
		t.Fatalf("not consistent after rebuild: %v", rep.Fixes)
	}
	if u, _ := f.s.Quota().Usage("user.alice"); u.Messages != 3 {
		t.Fatalf("usage %+v", u)
	}
}

func TestReconstructOrphanAndMissingFile(t *testing.T) {
	f := newReconFixture(t)
	// An orphan beyond the last UID (an append that never committed) and
	// a lost message file.
	if err := os.WriteFile(filepath.Join(f.data, "7."), []byte(msg(7, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(f.data, "1."))
	dry := f.reconstruct(t, ReconstructOptions{DryRun: true})
	rep := f.reconstruct(t, ReconstructOptions{})
	if fmt.Sprint(dry.Fixes) != fmt.Sprint(rep.Fixes) {
		t.Fatalf("dry run said %v, the run did %v", dry.Fixes, rep.Fixes)
	}
	for _, want := range []string{"user.alice: adopted orphan message 7.", "user.alice: message 1: file is missing; expunged."} {
		if !containsLine(rep.Fixes, want) {
			t.Fatalf("no %q in %v", want, rep.Fixes)
		}
	}
	if got := f.state(t); got != `2:\Flagged 3:$Work 7:` {
		t.Fatalf("state %q", got)
	}
	u, _ := f.s.Quota().Usage("user.alice")
	if u.Messages != 3 || u.Bytes != int64(len(msg(1, ""))+len(msg(2, ""))+len(msg(7, ""))) {
		t.Fatalf("usage %+v", u)
	}
	// The next append goes above the adopted UID.
	m, _ := f.s.Open(user("alice"), f.name, OpenOptions{})
	defer m.Close()
	if uids := appendN(t, m, 1); uids[0] != 8 {
		t.Fatalf("next uid %v", uids)
	}
}

func TestReconstructTornIndex(t *testing.T) {
	t.Run("header", func(t *testing.T) {
		f := newReconFixture(t)
		p := filepath.Join(f.meta, indexFileName)
		b, _ := os.ReadFile(p)
		copy(b[0:headerSize], bytes.Repeat([]byte{0xAA}, headerSize))
		os.WriteFile(p, b, 0o600)
		rep := f.reconstruct(t, ReconstructOptions{})
		if !containsLine(rep.Fixes, "index header is invalid") {
			t.Fatalf("fixes %v", rep.Fixes)
		}
		// Records survive with their flags; keywords too (the header
		// file is intact).
		if got := f.state(t); got != `1: 2:\Flagged 3:$Work` {
			t.Fatalf("state %q", got)
		}
	})
	t.Run("record", func(t *testing.T) {
		f := newReconFixture(t)
		p := filepath.Join(f.meta, indexFileName)
		b, _ := os.ReadFile(p)
		b[recordOffset(1)+5] ^= 0xFF // inside record 2's flags
		os.WriteFile(p, b, 0o600)
		if _, err := f.s.Open(user("alice"), f.name, OpenOptions{}); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("open with a corrupt record: %v", err)
		}
		rep := f.reconstruct(t, ReconstructOptions{})
		if !containsLine(rep.Fixes, "index record 1 is corrupt") || !containsLine(rep.Fixes, "adopted orphan message 2.") {
			t.Fatalf("fixes %v", rep.Fixes)
		}
		if got := f.state(t); got != `1: 2: 3:$Work` {
			t.Fatalf("state %q", got)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		f := newReconFixture(t)
		p := filepath.Join(f.meta, indexFileName)
		os.Truncate(p, recordOffset(2)+10)
		rep := f.reconstruct(t, ReconstructOptions{})
		if !containsLine(rep.Fixes, "index holds 2 of its 3 records") {
			t.Fatalf("fixes %v", rep.Fixes)
		}
		if got := f.state(t); got != `1: 2:\Flagged 3:` {
			t.Fatalf("state %q", got)
		}
	})
	t.Run("counters", func(t *testing.T) {
		f := newReconFixture(t)
		xf, _ := os.OpenFile(filepath.Join(f.meta, indexFileName), os.O_RDWR, 0)
		x := indexFile{f: xf}
		h, _ := x.readHeader()
		h.Exists, h.QuotaUsed, h.LastUID = 9, 1, 1
		x.writeHeader(&h)
		xf.Close()
		rep := f.reconstruct(t, ReconstructOptions{})
		if len(rep.Fixes) != 3 {
			t.Fatalf("fixes %v", rep.Fixes)
		}
		f.state(t)
	})
}

func TestReconstructCacheAndHeader(t *testing.T) {
	t.Run("cache", func(t *testing.T) {
		f := newReconFixture(t)
		os.WriteFile(filepath.Join(f.meta, cacheFileName), []byte("garbage"), 0o600)
		rep := f.reconstruct(t, ReconstructOptions{})
		if !containsLine(rep.Fixes, "cyrusgo.cache is corrupt") {
			t.Fatalf("fixes %v", rep.Fixes)
		}
		if got := f.state(t); got != `1: 2:\Flagged 3:$Work` {
			t.Fatalf("state %q", got)
		}
	})
	t.Run("cache entry", func(t *testing.T) {
		f := newReconFixture(t)
		p := filepath.Join(f.meta, cacheFileName)
		b, _ := os.ReadFile(p)
		b[cacheHeaderLen+10] ^= 0xFF // first entry's data
		os.WriteFile(p, b, 0o600)
		rep := f.reconstruct(t, ReconstructOptions{})
		if !containsLine(rep.Fixes, "message 1: cache entry unreadable") {
			t.Fatalf("fixes %v", rep.Fixes)
		}
		f.state(t)
	})
	t.Run("header", func(t *testing.T) {
		f := newReconFixture(t)
		os.Remove(filepath.Join(f.meta, headerFileName))
		rep := f.reconstruct(t, ReconstructOptions{})
		if !containsLine(rep.Fixes, "cyrusgo.header is missing") || !containsLine(rep.Fixes, "keywords of the messages are lost") {
			t.Fatalf("fixes %v", rep.Fixes)
		}
		if got := f.state(t); got != `1: 2:\Flagged 3:` {
			t.Fatalf("state %q", got)
		}
		e, _ := f.s.Lookup(f.name)
		h, err := readMailboxHeader(f.meta)
		if err != nil || h.UniqueID != e.UniqueID || h.Name != f.name {
			t.Fatalf("header %+v %v", h, err)
		}
	})
}

func TestReconstructDryRunChangesNothing(t *testing.T) {
	f := newReconFixture(t)
	os.Remove(filepath.Join(f.data, "2."))
	os.WriteFile(filepath.Join(f.data, "9."), []byte(msg(9, "")), 0o600)
	snapshot := func() string {
		var b strings.Builder
		for _, d := range uniqueDirs(f.data, f.meta) {
			ents, _ := os.ReadDir(d)
			for _, e := range ents {
				c, _ := os.ReadFile(filepath.Join(d, e.Name()))
				fmt.Fprintf(&b, "%s %x\n", e.Name(), c)
			}
		}
		return b.String()
	}
	before := snapshot()
	rep := f.reconstruct(t, ReconstructOptions{DryRun: true})
	if rep.Consistent() {
		t.Fatal("dry run found nothing")
	}
	if snapshot() != before {
		t.Fatal("dry run changed files")
	}
}

func TestReconstructCyrusSpool(t *testing.T) {
	s := testStore(t, nil)
	// An entry as ctl_mboxlist -u leaves it from a Cyrus dump, over a
	// directory of Cyrus message files.
	e := &Entry{Name: "user.bob", UniqueID: "cyrus-uniqueid-1", Partition: "default", ACL: "bob\tlrswipkxtecdan\t", UIDValidity: 1234567890, Created: 1}
	if err := s.PutEntry(e); err != nil {
		t.Fatal(err)
	}
	data, _, _ := s.Dirs(e)
	os.MkdirAll(data, 0o750)
	for _, uid := range []int{3, 5} {
		os.WriteFile(filepath.Join(data, fmt.Sprintf("%d.", uid)), []byte(msg(uid, "")), 0o600)
	}
	os.WriteFile(filepath.Join(data, "cyrus.header"), []byte("\xa1\x02\x8b\x0dCyrus mailbox header\n"), 0o600)
	rep, err := s.Reconstruct("user.bob", ReconstructOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Fixes) != 1 || rep.Fixes[0] != "user.bob: adopted Cyrus mailbox of 2 messages; flags and keywords are lost" {
		t.Fatalf("fixes %v", rep.Fixes)
	}
	m, err := s.Open(user("bob"), "user.bob", OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	st := m.Status()
	if fmt.Sprint(m.UIDs()) != "[3 5]" || st.UIDNext != 6 || st.UIDValidity != 1234567890 {
		t.Fatalf("uids %v status %+v", m.UIDs(), st)
	}
	r, _ := m.Record(1)
	checkMessage(t, m, &r)
	if _, err := os.Stat(filepath.Join(data, "cyrus.header")); err != nil {
		t.Fatal("Cyrus's files must be left alone")
	}
}

func TestReconstructFindUnlisted(t *testing.T) {
	for _, hash := range []string{"no", "yes"} {
		t.Run("hash="+hash, func(t *testing.T) {
			s := testStore(t, map[string]string{"hashimapspool": hash})
			mustCreate(t, s, "user.carol")
			m, _ := s.Open(user("carol"), "user.carol", OpenOptions{})
			appendN(t, m, 2)
			m.Close()
			e, _ := s.Lookup("user.carol")
			uidv := e.UIDValidity
			// Lose the list entry; add a Cyrus directory nobody listed.
			s.RemoveEntry("user.carol")
			ghost := &Entry{Name: "user.carol.Old", Partition: "default"}
			gd, _, _ := s.Dirs(ghost)
			os.MkdirAll(gd, 0o750)
			os.WriteFile(filepath.Join(gd, "1."), []byte(msg(1, "")), 0o600)
			found, err := s.FindUnlisted("user.carol")
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(found) != "[{user.carol default} {user.carol.Old default}]" {
				t.Fatalf("found %v", found)
			}
			for _, u := range found {
				if _, err := s.Reconstruct(u.Name, ReconstructOptions{}); !errors.Is(err, ErrNonexistent) {
					t.Fatalf("reconstruct without Adopt: %v", err)
				}
				rep, err := s.Reconstruct(u.Name, ReconstructOptions{Adopt: true, Partition: u.Partition})
				if err != nil || !containsLine(rep.Fixes, "not in the mailbox list; added") {
					t.Fatalf("adopt %s: %v %v", u.Name, rep.Fixes, err)
				}
			}
			m, err = s.Open(user("carol"), "user.carol", OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			// The identity comes back from cyrusgo.header.
			if m.Count() != 2 || m.Entry().UIDValidity != uidv {
				t.Fatalf("count %d uidvalidity %d want %d", m.Count(), m.Entry().UIDValidity, uidv)
			}
			o, err := s.Open(user("carol"), "user.carol.Old", OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			o.Close()
			if found, _ := s.FindUnlisted(""); len(found) != 0 {
				t.Fatalf("still unlisted: %v", found)
			}
		})
	}
}

// TestReconstructLiveSession: a session that holds the mailbox open
// while reconstruct replaces the index follows the new one, and what it
// appends afterwards lands in the new index, not the unlinked old one.
func TestReconstructLiveSession(t *testing.T) {
	f := newReconFixture(t)
	m, err := f.s.Open(user("alice"), f.name, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	os.WriteFile(filepath.Join(f.data, "5."), []byte(msg(5, "")), 0o600)
	os.Remove(filepath.Join(f.data, "1."))
	f.reconstruct(t, ReconstructOptions{})
	u, err := m.Sync(true)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(u.ExpungedUIDs) != "[1]" || !u.Grew || fmt.Sprint(m.UIDs()) != "[2 3 5]" {
		t.Fatalf("update %+v uids %v", u, m.UIDs())
	}
	// A STORE by a session that has not synced since the replacement
	// still hits the right message.
	other, _ := f.s.Open(user("alice"), f.name, OpenOptions{})
	defer other.Close()
	os.Remove(filepath.Join(f.data, "2."))
	f.reconstruct(t, ReconstructOptions{})
	if _, err := other.StoreFlags([]uint32{3}, FlagsAdd, []string{`\Answered`}, 0); err != nil {
		t.Fatal(err)
	}
	appendN(t, other, 1)
	if got := f.state(t); got != `3:\Answered,$Work 5: 6:` {
		t.Fatalf("state %q", got)
	}
}

func TestExpireExpunged(t *testing.T) {
	f := newReconFixture(t)
	s := f.s
	clock := time.Now()
	s.now = func() time.Time { return clock }
	m, _ := s.Open(user("alice"), f.name, OpenOptions{})
	defer m.Close()
	// A session that does not sync across the repack.
	other, _ := s.Open(user("alice"), f.name, OpenOptions{})
	defer other.Close()
	m.StoreFlags([]uint32{1, 2}, FlagsAdd, []string{`\Deleted`}, 0)
	if _, err := m.Expunge(nil); err != nil {
		t.Fatal(err)
	}
	h0, _ := m.fs.idx.readHeader()
	// Not yet old enough.
	if n, err := s.ExpireExpunged(f.name, clock.Add(-time.Hour)); n != 0 || err != nil {
		t.Fatalf("expired %d %v", n, err)
	}
	n, err := s.ExpireExpunged(f.name, clock.Add(time.Second))
	if n != 2 || err != nil {
		t.Fatalf("expired %d %v", n, err)
	}
	for _, uid := range []string{"1.", "2."} {
		if _, err := os.Stat(filepath.Join(f.data, uid)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("file %s still there", uid)
		}
	}
	u, err := m.Sync(true)
	if err != nil || fmt.Sprint(u.ExpungedUIDs) != "[2 1]" {
		t.Fatalf("sync %+v %v", u, err)
	}
	h, _ := m.fs.idx.readHeader()
	if h.NumRecords != 1 || h.Generation != h0.Generation+1 || h.DeletedModseq != h0.HighestModseq || h.HighestModseq != h0.HighestModseq {
		t.Fatalf("header before %+v after %+v", h0, h)
	}
	if got := f.state(t); got != `3:$Work` {
		t.Fatalf("state %q", got)
	}
	// Message 3 moved from slot 2 to slot 0: the other session's STORE
	// must still reach it, and its view must report the expunges.
	if _, err := other.StoreFlags([]uint32{3}, FlagsAdd, []string{`\Seen`}, 0); err != nil {
		t.Fatal(err)
	}
	if r, err := other.Record(3); err != nil || r.UID != 3 || r.Flags&FlagSeen == 0 {
		t.Fatalf("record %+v %v", r, err)
	}
	if r, err := other.Record(1); !errors.Is(err, ErrExpunged) {
		t.Fatalf("record 1 after repack: %+v %v", r, err)
	}
	if u, err := other.Sync(true); err != nil || fmt.Sprint(u.ExpungedUIDs) != "[2 1]" || other.Count() != 1 {
		t.Fatalf("other sync %+v %v", u, err)
	}
	if got := f.state(t); got != `3:\Seen,$Work` {
		t.Fatalf("state %q", got)
	}
	if rep := f.reconstruct(t, ReconstructOptions{DryRun: true}); !rep.Consistent() {
		t.Fatalf("repacked mailbox not consistent: %v", rep.Fixes)
	}
}

// TestDirtyHeaderRepair: a STORE that died after writing a record but
// before its header leaves the record's modseq above HIGHESTMODSEQ; the
// next writer, even one that never loaded the whole mailbox, must not
// hand that modseq out again, and counters of a half-done expunge are
// recomputed.
func TestDirtyHeaderRepair(t *testing.T) {
	f := newReconFixture(t)
	m, _ := f.s.Open(user("alice"), f.name, OpenOptions{})
	l, _ := m.fs.lock(true)
	h, _ := m.fs.idx.readHeader()
	if err := m.markDirty(&h); err != nil {
		t.Fatal(err)
	}
	r, _ := m.fs.idx.readRecord(0)
	r.Flags |= FlagExpunged
	r.Modseq = h.HighestModseq + 5
	m.fs.idx.writeRecord(0, &r)
	l.Unlock()
	m.Close() // the writer "dies" here

	d, err := f.s.OpenForDelivery(f.name)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	uids := appendN(t, d, 1)
	d.Sync(true)
	nr, _ := d.Record(d.SeqOf(uids[0]))
	if nr.Modseq <= r.Modseq {
		t.Fatalf("append got modseq %d, a record already has %d", nr.Modseq, r.Modseq)
	}
	checkCounters(t, d)
	if u, _ := f.s.Quota().Usage("user.alice"); u.Messages != 3 {
		t.Fatalf("usage %+v", u)
	}
}

func TestMailboxUsageAndEntries(t *testing.T) {
	f := newReconFixture(t)
	u, err := f.s.MailboxUsage(f.name)
	if err != nil || u.Messages != 3 {
		t.Fatalf("usage %+v %v", u, err)
	}
	var names []string
	f.s.Entries("", func(e *Entry) error { names = append(names, e.Name); return nil })
	if fmt.Sprint(names) != "[user.alice]" {
		t.Fatalf("entries %v", names)
	}
	if err := f.s.PutEntry(&Entry{Name: "user.x", Partition: "nowhere"}); CodeOf(err) != CodeBadName {
		t.Fatalf("bad partition accepted: %v", err)
	}
}

func containsLine(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}
