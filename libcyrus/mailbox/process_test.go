package mailbox

// Tests that need other processes: crash safety (a child appending in a
// loop is killed with SIGKILL at random points) and two processes writing
// one mailbox at once. The children are this test binary run again with
// childEnv set; TestMain sends them to their loop instead of the tests.

import (
	"bufio"
	"context"
	"crypto/sha1"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
	"github.com/cyrusgo/cyrusgo/libcyrus/message"
	"github.com/cyrusgo/cyrusgo/libcyrus/quota"
)

const (
	childEnv    = "CYRUSGO_MAILBOX_TEST_CHILD" // "crash" or "concurrent"
	childDirEnv = "CYRUSGO_MAILBOX_TEST_DIR"   // the test's directory
	childIDEnv  = "CYRUSGO_MAILBOX_TEST_ID"    // which concurrent child
	childOpsEnv = "CYRUSGO_MAILBOX_TEST_OPS"   // how many operations
)

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "crash":
		crashChild(os.Getenv(childDirEnv))
		os.Exit(0)
	case "concurrent":
		n, _ := strconv.Atoi(os.Getenv(childOpsEnv))
		concurrentChild(os.Getenv(childDirEnv), os.Getenv(childIDEnv), n)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// processConfig is the imapd.conf of a process test's store under dir.
func processConfig(dir string, extra map[string]string) *config.Config {
	kv := map[string]string{
		"configdirectory":   dir + "/conf",
		"partition-default": dir + "/spool",
		"admins":            "cyrus",
	}
	for k, v := range extra {
		kv[k] = v
	}
	cfg, err := config.FromMap(kv, "")
	if err != nil {
		panic(err)
	}
	return cfg
}

func childFatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "child: "+format+"\n", args...)
	os.Exit(2)
}

// crashMailboxes are the two mailboxes of the crash test, under one quota
// root.
var crashMailboxes = [2]string{"user.crash", "user.crash.Other"}

// crashMessage is message i: sizes vary so usage sums mean something.
func crashMessage(i int, r *rand.Rand) string {
	return msg(i, strings.Repeat("y", r.IntN(3000)))
}

// crashChild appends, stores flags and expunges in a loop until killed,
// printing on stdout each UID after Append has returned ("A <mailbox>
// <uid>") and, before it starts expunging, the UIDs it is about to expunge
// ("E <mailbox> <uid>"), so the parent knows which messages must be there.
func crashChild(dir string) {
	mode := "delayed"
	if os.Getpid()%2 == 0 {
		mode = "immediate" // message files go at expunge too
	}
	cfg := processConfig(dir, map[string]string{"expunge_mode": mode})
	st, err := cyrusdb.OpenStore(dir + "/conf")
	if err != nil {
		childFatal("open databases: %v", err)
	}
	s, err := New(cfg, st, logging.Discard())
	if err != nil {
		childFatal("%v", err)
	}
	var boxes [2]*Mailbox
	for i, name := range crashMailboxes {
		// No ClaimRecent: the repairs a SELECT would do are left to the
		// writers (headerForWrite), which is what is under test.
		if boxes[i], err = s.Open(user("crash"), name, OpenOptions{}); err != nil {
			childFatal("open %s: %v", name, err)
		}
	}
	out := os.Stdout // unbuffered: a line is out before the next step
	fmt.Fprintln(out, "READY")
	r := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		b := i % 2
		m := boxes[b]
		uid, err := m.AppendReader(strings.NewReader(crashMessage(i, r)), nil, time.Time{}, 0)
		if err != nil {
			childFatal("append: %v", err)
		}
		fmt.Fprintf(out, "A %d %d\n", b, uid)
		if i%3 == 0 {
			if _, err := m.Sync(true); err != nil {
				childFatal("sync: %v", err)
			}
			uids := m.UIDs()
			pick := uids[r.IntN(len(uids))]
			if _, err := m.StoreFlags([]uint32{pick}, FlagsAdd, []string{`\Flagged`, "$Crash"}, 0); err != nil {
				childFatal("store: %v", err)
			}
		}
		if i%4 == 1 {
			if _, err := m.Sync(true); err != nil {
				childFatal("sync: %v", err)
			}
			uids := m.UIDs()
			victims := []uint32{uids[r.IntN(len(uids))], uids[r.IntN(len(uids))]}
			for _, v := range victims {
				fmt.Fprintf(out, "E %d %d\n", b, v)
			}
			if _, err := m.StoreFlags(victims, FlagsAdd, []string{`\Deleted`}, 0); err != nil {
				childFatal("store: %v", err)
			}
			if _, err := m.Expunge(victims); err != nil {
				childFatal("expunge: %v", err)
			}
		}
	}
}

// TestCrashSafety kills an appending child with SIGKILL at random points,
// many times, and checks after each kill that every mailbox opens, every
// acknowledged message is there and readable, the index header agrees
// with its records and quota usage with the live messages.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process many times")
	}
	dir := t.TempDir()
	cfg := processConfig(dir, nil)
	func() {
		st, err := cyrusdb.OpenStore(dir + "/conf")
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		s, err := New(cfg, st, logging.Discard())
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range crashMailboxes {
			mustCreate(t, s, name)
		}
		s.Quota().SetLimits("user.crash", quota.Limits{Storage: 1 << 30, Message: quota.Unlimited})
	}()

	acked := [2]map[uint32]bool{{}, {}}
	expunging := [2]map[uint32]bool{{}, {}}
	const minKills, maxKills = 20, 30
	budget := time.Now().Add(20 * time.Second)
	kills, appends := 0, 0
	for kills < maxKills && (kills < minKills || time.Now().Before(budget)) {
		lines := runAndKill(t, dir, time.Duration(5+rand.IntN(196))*time.Millisecond)
		kills++
		for _, l := range lines {
			var kind string
			var b int
			var uid uint32
			if _, err := fmt.Sscanf(l, "%s %d %d", &kind, &b, &uid); err != nil {
				continue
			}
			switch kind {
			case "A":
				if acked[b][uid] {
					t.Fatalf("kill %d: UID %d of %s handed out twice", kills, uid, crashMailboxes[b])
				}
				acked[b][uid] = true
				appends++
			case "E":
				expunging[b][uid] = true
			}
		}
		verifyCrashStore(t, dir, cfg, kills, acked, expunging)
	}
	t.Logf("%d kills, %d acknowledged appends", kills, appends)
	if appends == 0 {
		t.Fatal("the child never appended")
	}
}

// runAndKill starts the crash child, lets it work for d after it is
// ready, kills it with SIGKILL and returns what it printed.
func runAndKill(t *testing.T, dir string, d time.Duration) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=crash", childDirEnv+"="+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	var lines []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "READY" {
				close(ready)
				continue
			}
			lines = append(lines, sc.Text())
		}
	}()
	select {
	case <-ready:
		time.Sleep(d)
	case <-done:
	case <-time.After(20 * time.Second):
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-done
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("child ended by itself (%v): %s", err, stderr.String())
	}
	return lines
}

// verifyCrashStore opens the store the killed child left and checks it.
func verifyCrashStore(t *testing.T, dir string, cfg *config.Config, kill int, acked, expunging [2]map[uint32]bool) {
	t.Helper()
	st, err := cyrusdb.OpenStore(dir + "/conf")
	if err != nil {
		t.Fatalf("kill %d: open databases: %v", kill, err)
	}
	defer st.Close()
	s, err := New(cfg, st, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	var live uint64
	for b, name := range crashMailboxes {
		// As a SELECT opens it: repairs left for the next opener happen.
		m, err := s.Open(user("crash"), name, OpenOptions{ClaimRecent: true})
		if err != nil {
			t.Fatalf("kill %d: open %s: %v", kill, name, err)
		}
		present := map[uint32]bool{}
		for seq := uint32(1); seq <= uint32(m.Count()); seq++ {
			r, err := m.Record(seq)
			if err != nil {
				t.Fatalf("kill %d: %s record %d: %v", kill, name, seq, err)
			}
			present[r.UID] = true
			live += r.Size
			checkStoredMessage(t, m, &r)
		}
		for uid := range acked[b] {
			if !present[uid] && !expunging[b][uid] {
				t.Fatalf("kill %d: acknowledged message %d of %s is gone", kill, uid, name)
			}
		}
		checkCounters(t, m)
		h, _ := m.fs.idx.readHeader()
		m.Close()
		// What reconstruct would still find: only orphan files of
		// appends that never committed, above the last UID.
		rep, err := s.Reconstruct(name, ReconstructOptions{DryRun: true})
		if err != nil {
			t.Fatalf("kill %d: reconstruct -n %s: %v", kill, name, err)
		}
		orphans := 0
		for _, l := range rep.Fixes {
			var uid uint32
			if _, err := fmt.Sscanf(l, name+": adopted orphan message %d.", &uid); err == nil {
				if uid <= h.LastUID {
					t.Fatalf("kill %d: message %d below the last UID %d is missing from the index: %v", kill, uid, h.LastUID, rep.Fixes)
				}
				orphans++
			}
		}
		for _, l := range rep.Fixes {
			// Adopting them moves the last UID and the usage too.
			ok := strings.Contains(l, "adopted orphan message") || strings.Contains(l, "last UID") || strings.Contains(l, "quota usage")
			if !ok || orphans == 0 {
				t.Fatalf("kill %d: inconsistent after opening: %v", kill, rep.Fixes)
			}
		}
	}
	u, err := s.Quota().Usage("user.crash")
	if err != nil || u.Bytes != int64(live) {
		t.Fatalf("kill %d: quota usage %+v, live messages hold %d bytes (%v)", kill, u, live, err)
	}
}

// checkStoredMessage reads a message whole and checks its GUID, and that
// its cache entry decodes.
func checkStoredMessage(t testing.TB, m *Mailbox, r *Record) {
	t.Helper()
	f, err := m.OpenMessage(r)
	if err != nil {
		t.Fatalf("message %d: %v", r.UID, err)
	}
	defer f.Close()
	h := sha1.New()
	n, err := io.Copy(h, f)
	if err != nil || uint64(n) != r.Size || string(h.Sum(nil)) != string(r.GUID[:]) {
		t.Fatalf("message %d: %d bytes (record %d), GUID ok %v, %v", r.UID, n, r.Size, string(h.Sum(nil)) == string(r.GUID[:]), err)
	}
	c, err := m.CacheData(r)
	if err != nil {
		t.Fatalf("message %d: cache: %v", r.UID, err)
	}
	if _, err := message.Unmarshal(c); err != nil {
		t.Fatalf("message %d: cache entry: %v", r.UID, err)
	}
}

// clientDBs serves a store's databases from master's socket, as in a
// child of master.
type clientDBs struct{ c *cyrusdb.Client }

func (d clientDBs) DB(name string) (cyrusdb.DB, error) { return d.c.DB(name), nil }

const sharedMailbox = "user.shared"

// concurrentChild appends, stores flags and expunges on the shared
// mailbox through the database server, touching only its own messages
// so the modseq each write got can be read back unchanged. It prints "A
// <uid>" per append, "X <uid>" per expunge and "M <modseq>" after each of
// its writes.
func concurrentChild(dir, id string, ops int) {
	cfg := processConfig(dir, nil)
	c, err := cyrusdb.Dial(cyrusdb.SocketPath(dir + "/conf"))
	if err != nil {
		childFatal("dial: %v", err)
	}
	s, err := New(cfg, clientDBs{c}, logging.Discard())
	if err != nil {
		childFatal("%v", err)
	}
	m, err := s.Open(user("shared"), sharedMailbox, OpenOptions{})
	if err != nil {
		childFatal("open: %v", err)
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	var mine []uint32
	r := rand.New(rand.NewPCG(uint64(os.Getpid()), 1))
	for i := 0; i < ops; i++ {
		uid, err := m.AppendReader(strings.NewReader(msg(i, " from "+id)), nil, time.Time{}, 0)
		if err != nil {
			childFatal("append: %v", err)
		}
		mine = append(mine, uid)
		fmt.Fprintf(w, "A %d\nM %d\n", uid, ownModseq(m, uid))
		if _, err := m.Sync(true); err != nil {
			childFatal("sync: %v", err)
		}
		if i%2 == 0 {
			pick := mine[r.IntN(len(mine))]
			op := FlagsAdd
			if r.IntN(2) == 0 {
				op = FlagsRemove
			}
			res, err := m.StoreFlags([]uint32{pick}, op, []string{`\Flagged`}, 0)
			if err != nil {
				childFatal("store: %v", err)
			}
			if len(res.Changed) == 1 {
				fmt.Fprintf(w, "M %d\n", res.HighestModseq)
			}
		}
		if i%3 == 2 {
			k := r.IntN(len(mine))
			victim := mine[k]
			mine = append(mine[:k], mine[k+1:]...)
			res, err := m.StoreFlags([]uint32{victim}, FlagsAdd, []string{`\Deleted`}, 0)
			if err != nil {
				childFatal("store: %v", err)
			}
			if len(res.Changed) == 1 {
				fmt.Fprintf(w, "M %d\n", res.HighestModseq)
			}
			done, err := m.Expunge([]uint32{victim})
			if err != nil || len(done) != 1 {
				childFatal("expunge %d: %v %v", victim, done, err)
			}
			fmt.Fprintf(w, "X %d\nM %d\n", victim, ownModseq(m, victim))
		}
	}
}

// ownModseq reads the modseq of the record of uid under the shared lock.
// Only this process changes that record, so it is the modseq of this
// process's last write to it.
func ownModseq(m *Mailbox, uid uint32) uint64 {
	l, err := m.fs.lock(false)
	if err != nil {
		childFatal("lock: %v", err)
	}
	defer l.Unlock()
	h, err := m.fs.idx.readHeader()
	if err != nil {
		childFatal("header: %v", err)
	}
	var modseq uint64
	err = m.fs.idx.scanRecords(0, h.NumRecords, func(_ uint32, r *Record) error {
		if r.UID == uid {
			modseq = r.Modseq
		}
		return nil
	})
	if err != nil || modseq == 0 {
		childFatal("record %d: %v", uid, err)
	}
	return modseq
}

// TestConcurrentProcesses runs two processes that append, expunge and
// store flags on one mailbox at once, sharing the databases through an
// in-process database server as master's children do. No update may be
// lost, and every write must get its own modseq, increasing within each
// process.
func TestConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	dir := t.TempDir()
	cfg := processConfig(dir, nil)
	st, err := cyrusdb.OpenStore(dir + "/conf")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := New(cfg, st, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, sharedMailbox)
	s.Quota().SetLimits(sharedMailbox, quota.Limits{Storage: 1 << 30, Message: quota.Unlimited})
	srv, err := cyrusdb.Serve(context.Background(), st, cyrusdb.SocketPath(dir+"/conf"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	const ops = 60
	ids := []string{"a", "b"}
	outs := make([]string, len(ids))
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"=concurrent", childDirEnv+"="+dir, childIDEnv+"="+id, childOpsEnv+"="+strconv.Itoa(ops))
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				errs <- fmt.Errorf("child %s: %v: %s", id, err, stderr.String())
			}
			outs[i] = string(out)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	appended, expunged := 0, 0
	uids := map[uint32]string{}
	modseqs := map[uint64]string{}
	var maxModseq uint64
	for i, out := range outs {
		var last uint64
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Fields(l)
			if len(f) != 2 {
				t.Fatalf("child %s printed %q", ids[i], l)
			}
			v, _ := strconv.ParseUint(f[1], 10, 64)
			switch f[0] {
			case "A":
				appended++
				if other, dup := uids[uint32(v)]; dup {
					t.Fatalf("UID %d given to %s and %s", v, other, ids[i])
				}
				uids[uint32(v)] = ids[i]
			case "X":
				expunged++
			case "M":
				if v <= last {
					t.Fatalf("child %s: modseq %d after %d", ids[i], v, last)
				}
				if other, dup := modseqs[v]; dup {
					t.Fatalf("modseq %d given to a write of %s and of %s", v, other, ids[i])
				}
				modseqs[v], last = ids[i], v
				maxModseq = max(maxModseq, v)
			}
		}
	}
	m, err := s.Open(user("shared"), sharedMailbox, OpenOptions{ClaimRecent: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if appended != 2*ops || appended != m.Count()+expunged {
		t.Fatalf("appended %d, now %d messages and %d expunged", appended, m.Count(), expunged)
	}
	checkCounters(t, m)
	st2 := m.Status()
	if st2.HighestModseq < maxModseq {
		t.Fatalf("HIGHESTMODSEQ %d below a write's %d", st2.HighestModseq, maxModseq)
	}
	if u, _ := s.Quota().Usage(sharedMailbox); u.Messages != int64(m.Count()) || uint64(u.Bytes) != st2.Size {
		t.Fatalf("usage %+v, mailbox %d messages %d bytes", u, m.Count(), st2.Size)
	}
	var sorted []int
	for u := range uids {
		sorted = append(sorted, int(u))
	}
	sort.Ints(sorted)
	if sorted[0] != 1 || sorted[len(sorted)-1] != len(sorted) {
		t.Fatalf("UIDs not dense: first %d last %d of %d", sorted[0], sorted[len(sorted)-1], len(sorted))
	}
	t.Logf("%d appends, %d expunges, %d writes with distinct modseqs", appended, expunged, len(modseqs))
}
