package duplicate

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
)

func guidOf(s string) [20]byte {
	var g [20]byte
	copy(g[:], s)
	return g
}

// procs fakes a set of processes and which of them still run.
type procs struct {
	mu   sync.Mutex
	dead map[int]bool
}

func (p *procs) alive(pr Process) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.dead[pr.PID]
}

func (p *procs) kill(pid int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dead[pid] = true
}

func newPair(t *testing.T, db cyrusdb.DB, o Options) (*Suppressor, *Suppressor, *procs) {
	t.Helper()
	ps := &procs{dead: map[int]bool{}}
	o.Alive = ps.alive
	if o.Wait == 0 {
		o.Wait = 5 * time.Second
	}
	o.Poll = time.Millisecond
	a, b := o, o
	a.Self = Process{Boot: "b", PID: 101, Start: 1}
	b.Self = Process{Boot: "b", PID: 202, Start: 1}
	return New(db, a), New(db, b), ps
}

func TestKey(t *testing.T) {
	k := Key{ID: "<a@b>", To: "u1", Date: "Mon, 01 Jan 2024 00:00:00 +0000"}
	if got := string(k.Bytes()); got != "<a@b>\x00u1\x00Mon, 01 Jan 2024 00:00:00 +0000\x00" {
		t.Fatalf("Bytes = %q", got)
	}
	back, ok := ParseKey(k.Bytes())
	if !ok || back != k {
		t.Fatalf("ParseKey = %+v %v", back, ok)
	}
	for _, bad := range []string{"", "a\x00b", "a\x00b\x00", "a\x00b\x00c\x00d\x00"} {
		if _, ok := ParseKey([]byte(bad)); ok {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
	if (Key{ID: "x\x00y", To: "u"}).Valid() || (Key{To: "u"}).Valid() {
		t.Error("invalid keys reported valid")
	}
}

func TestClaimCommitDuplicate(t *testing.T) {
	db := cyrusdb.NewMem()
	a, b, _ := newPair(t, db, Options{})
	k := Key{ID: "<1@x>", To: "mbox1", Date: "d"}
	ctx := context.Background()

	c, err := a.Claim(ctx, k, guidOf("m1"))
	if err != nil || c.Duplicate || c.Orphan != nil {
		t.Fatalf("first claim: %+v %v", c, err)
	}
	if dup, _ := a.Check(k); dup {
		t.Fatal("a pending claim counts as a delivery")
	}
	if err := c.Commit(7); err != nil {
		t.Fatal(err)
	}
	if dup, err := b.Check(k); !dup || err != nil {
		t.Fatalf("Check after commit = %v %v", dup, err)
	}
	c2, err := b.Claim(ctx, k, guidOf("m2"))
	if err != nil || !c2.Duplicate || c2.UID != 7 {
		t.Fatalf("second claim: %+v %v", c2, err)
	}
	// Another mailbox is another delivery.
	c3, err := b.Claim(ctx, Key{ID: "<1@x>", To: "mbox2", Date: "d"}, guidOf("m2"))
	if err != nil || c3.Duplicate {
		t.Fatalf("other mailbox: %+v %v", c3, err)
	}
}

func TestClaimRelease(t *testing.T) {
	db := cyrusdb.NewMem()
	a, b, _ := newPair(t, db, Options{})
	k := Key{ID: "<r@x>", To: "m", Date: "d"}
	c, err := a.Claim(context.Background(), k, guidOf("1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Release(); err != nil {
		t.Fatal(err)
	}
	c2, err := b.Claim(context.Background(), k, guidOf("2"))
	if err != nil || c2.Duplicate || c2.Orphan != nil {
		t.Fatalf("claim after release: %+v %v", c2, err)
	}
}

// TestClaimRace is two processes storing one message to one mailbox at
// once: exactly one stores, the other waits and sees a duplicate.
func TestClaimRace(t *testing.T) {
	for round := 0; round < 20; round++ {
		db := cyrusdb.NewMem()
		a, b, _ := newPair(t, db, Options{})
		k := Key{ID: "<race@x>", To: "m", Date: "d"}
		var stored, dups int
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i, s := range []*Suppressor{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := s.Claim(context.Background(), k, guidOf("g"))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if c.Duplicate {
					dups++
					return
				}
				stored++
				time.Sleep(time.Millisecond) // the append
				c.Commit(uint32(i + 1))
			}()
		}
		wg.Wait()
		if stored != 1 || dups != 1 {
			t.Fatalf("round %d: stored %d, duplicates %d", round, stored, dups)
		}
	}
}

func TestClaimBusy(t *testing.T) {
	db := cyrusdb.NewMem()
	a, b, _ := newPair(t, db, Options{Wait: 30 * time.Millisecond})
	k := Key{ID: "<busy@x>", To: "m", Date: "d"}
	if _, err := a.Claim(context.Background(), k, guidOf("1")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Claim(context.Background(), k, guidOf("1")); !errors.Is(err, ErrBusy) {
		t.Fatalf("claim held by a live process: %v, want ErrBusy", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b2 := New(db, Options{Self: Process{PID: 303}, Alive: func(Process) bool { return true }, Wait: time.Minute})
	if _, err := b2.Claim(ctx, k, guidOf("1")); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
}

// TestClaimOrphan is a process killed while storing: the next delivery
// takes its claim over and learns which message it was storing.
func TestClaimOrphan(t *testing.T) {
	db := cyrusdb.NewMem()
	a, b, ps := newPair(t, db, Options{})
	k := Key{ID: "<orphan@x>", To: "m", Date: "d"}
	if _, err := a.Claim(context.Background(), k, guidOf("first")); err != nil {
		t.Fatal(err)
	}
	ps.kill(101)
	c, err := b.Claim(context.Background(), k, guidOf("second"))
	if err != nil || c.Duplicate || c.Orphan == nil {
		t.Fatalf("takeover: %+v %v", c, err)
	}
	if c.Orphan.GUID != guidOf("first") || c.Orphan.Process.PID != 101 {
		t.Fatalf("orphan = %+v", c.Orphan)
	}
	if err := c.Commit(3); err != nil {
		t.Fatal(err)
	}
	if dup, _ := a.Check(k); !dup {
		t.Fatal("not marked after the takeover committed")
	}
}

func TestClaimStaleAndBroken(t *testing.T) {
	db := cyrusdb.NewMem()
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	a, b, _ := newPair(t, db, Options{Now: clock, StaleAfter: time.Minute})
	k := Key{ID: "<stale@x>", To: "m", Date: "d"}
	if _, err := a.Claim(context.Background(), k, guidOf("1")); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Minute)
	c, err := b.Claim(context.Background(), k, guidOf("2"))
	if err != nil || c.Orphan == nil {
		t.Fatalf("stale claim not taken over: %+v %v", c, err)
	}

	k2 := Key{ID: "<broken@x>", To: "m", Date: "d"}
	db.Put(k2.Bytes(), []byte("garbage"))
	c, err = b.Claim(context.Background(), k2, guidOf("2"))
	if err != nil || c.Duplicate || c.Orphan != nil {
		t.Fatalf("broken record: %+v %v", c, err)
	}
}

func TestPruneAndDump(t *testing.T) {
	db := cyrusdb.NewMem()
	s := New(db, Options{Self: Process{PID: 1}, Alive: func(Process) bool { return true }})
	day := 24 * time.Hour
	now := time.Unix(1_796_009_662, 0)
	s.Mark(Key{ID: "<old@example.com>", To: "yvoamfhl8e7o98t1l85moveg", Date: "d1"}, now.Add(-10*day), 4)
	s.Mark(Key{ID: "<new@example.com>", To: "kce1d2fl649g6uorhsmv9fkb", Date: "d2"}, now.Add(-day), 1)
	s.Mark(Key{ID: "bin\x01ary", To: "x", Date: "d3"}, now.Add(-day), 2)
	db.Put([]byte("no-fields"), []byte("D 1 1"))

	var out bytes.Buffer
	n, err := Dump(db, &out)
	if err != nil || n != 4 {
		t.Fatalf("Dump = %d, %v", n, err)
	}
	want := "id: <new@example.com>                       \tto: kce1d2fl649g6uorhsmv9fkb\tat: 1795923262\tuid: 1\n" +
		"id: <old@example.com>                       \tto: yvoamfhl8e7o98t1l85moveg\tat: 1795145662\tuid: 4\n" +
		"id: 62696E01617279                          \tto: x                   \tat: 1795923262\tuid: 2\n"
	if out.String() != want {
		t.Fatalf("dump:\n%s\nwant:\n%s", out.String(), want)
	}

	var logs bytes.Buffer
	logger := logging.New(logging.Options{Ident: "ctl_deliver", Writer: &logs, Stderr: true})
	purged, total, err := Expire(db, 3*day, now, logger)
	if err != nil || purged != 2 || total != 4 {
		t.Fatalf("Expire = %d of %d, %v", purged, total, err)
	}
	for _, line := range []string{"duplicate_prune: pruning back 3.00 days", "duplicate_prune: purged 2 out of 4 entries"} {
		if !strings.Contains(logs.String(), line) {
			t.Errorf("log lacks %q:\n%s", line, logs.String())
		}
	}
	if n, _ := Dump(db, &bytes.Buffer{}); n != 2 {
		t.Fatalf("%d records left, want 2", n)
	}
	if n, err := Prune(db, now.Add(day)); n != 2 || err != nil {
		t.Fatalf("Prune everything = %d, %v", n, err)
	}
}

func TestAlive(t *testing.T) {
	self := CurrentProcess()
	if !Alive(self) {
		t.Fatalf("this process %+v is not alive", self)
	}
	if self.Start != 0 && Alive(Process{Boot: self.Boot, PID: self.PID, Start: self.Start + 1}) {
		t.Error("a reused pid passes for its dead owner")
	}
	if self.Boot != "" && Alive(Process{Boot: "another-boot", PID: self.PID}) {
		t.Error("a process of another boot is alive")
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	p := Process{PID: cmd.Process.Pid}
	if !Alive(p) {
		t.Fatal("running child not alive")
	}
	cmd.Process.Kill()
	// Not reaped yet: a zombie, dead for our purpose.
	deadline := time.Now().Add(5 * time.Second)
	for Alive(p) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if Alive(p) {
		t.Error("killed child (zombie) still alive")
	}
	cmd.Wait()
	if Alive(p) {
		t.Error("reaped child still alive")
	}
}
