package fault

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/test/harness"
)

// ledger records what the LMTP side was told.
type ledger struct {
	mu    sync.Mutex
	acked map[string]map[string]bool // Message-ID -> users answered 250
	tried map[string]map[string]bool // Message-ID -> users sent DATA for
	n250  int
	n4xx  int
}

func newLedger() *ledger {
	return &ledger{acked: map[string]map[string]bool{}, tried: map[string]map[string]bool{}}
}

func (l *ledger) record(id string, rcpts []string, codes map[string]int) (bad []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tried[id] == nil {
		l.tried[id] = map[string]bool{}
		l.acked[id] = map[string]bool{}
	}
	for _, r := range rcpts {
		l.tried[id][r] = true
	}
	for r, c := range codes {
		switch {
		case c == 250:
			l.acked[id][r] = true
			l.n250++
		case c >= 400 && c < 500:
			l.n4xx++
		default:
			// A crash is a temporary condition: never 5xx.
			bad = append(bad, fmt.Sprintf("%s to %s: %d", id, r, c))
		}
	}
	return bad
}

// TestKillUnderLoad delivers over several LMTP connections and works the
// mailboxes over IMAP while service processes are SIGKILLed at random,
// and master itself twice (then restarted on the same files). Afterwards
// every delivery answered 250 is in its INBOX exactly once, no other
// more than once, reconstruct -n finds nothing to fix, quotas are exact,
// no process of a killed master remains, and the restarted master serves
// LMTP and IMAP.
func TestKillUnderLoad(t *testing.T) {
	t.Parallel()
	m := startMail(t, "")
	for _, u := range []string{"alice", "bob"} {
		ic := mustLogin(t, m, u)
		for _, mb := range []string{"INBOX.work", "INBOX.work2"} {
			if _, err := ic.ok("CREATE %s", mb); err != nil {
				t.Fatal(err)
			}
		}
		ic.ok("LOGOUT")
	}

	var (
		masterMu sync.Mutex // Kill/Restart against reading master's children
		stopped  atomic.Bool
		wg       sync.WaitGroup
		led      = newLedger()
		kills    atomic.Int32
		imapOps  atomic.Int32
	)
	lmtpAddr, imapAddr := harness.Addr(m.LMTP), harness.Addr(m.IMAP)

	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seq := 0
			for !stopped.Load() {
				lc, err := dialLMTP(lmtpAddr)
				if err != nil {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				for j := 0; j < 5 && !stopped.Load(); j++ {
					seq++
					id := fmt.Sprintf("<d%d-%d@fault.test>", g, seq)
					rcpts := []string{mailUsers[rand.IntN(3)]}
					if rand.IntN(2) == 0 {
						if o := mailUsers[rand.IntN(3)]; o != rcpts[0] {
							rcpts = append(rcpts, o)
						}
					}
					codes, err := lc.deliver("sender@example.com", rcpts, message(id, 200+rand.IntN(3000)))
					for _, b := range led.record(id, rcpts, codes) {
						t.Errorf("permanent failure for a temporary condition: %s", b)
					}
					if err != nil {
						break
					}
				}
				lc.Close()
			}
		}()
	}

	for _, u := range []string{"alice", "bob"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for !stopped.Load() {
				ic, err := loginIMAP(imapAddr, u, users[u])
				if err != nil {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				for !stopped.Load() && imapRound(ic, u, &n) == nil {
					imapOps.Add(1)
				}
				ic.Close()
			}
		}()
	}

	wg.Add(1)
	go func() {
		defer wg.Done()
		// At most one kill a second in all: five READY processes of one
		// service dying within ten seconds would disable it, as in Cyrus.
		svcs := []string{"lmtp", "imap"}
		for i := 0; !stopped.Load(); i++ {
			time.Sleep(time.Duration(1000+rand.IntN(800)) * time.Millisecond)
			masterMu.Lock()
			var kids []harness.Proc
			if !m.Exited() {
				kids = m.ServiceChildren(svcs[i%2])
			}
			masterMu.Unlock()
			if len(kids) > 0 {
				syscall.Kill(kids[rand.IntN(len(kids))].Pid, syscall.SIGKILL)
				kills.Add(1)
			}
		}
	}()

	phase := scaled(t, 15*time.Second)
	for range 2 {
		time.Sleep(phase / 3)
		masterMu.Lock()
		m.Kill()
		// The new master must bind the same ports and take the pidfile
		// lock while the old one's children may still be about.
		m.Restart(30 * time.Second)
		masterMu.Unlock()
	}
	time.Sleep(phase / 3)
	stopped.Store(true)
	wg.Wait()
	t.Logf("%d deliveries answered 250, %d answered 4xx, %d IMAP rounds, %d processes killed, master killed twice",
		led.n250, led.n4xx, imapOps.Load(), kills.Load())
	if led.n250 == 0 || imapOps.Load() == 0 {
		t.Fatal("no load got through")
	}
	if strings.Contains(m.Log(), "disabling") {
		t.Error("a restarted master disabled a service (could it not bind?)")
	}

	// Every client is gone: nothing of the killed masters may remain.
	deadline := time.Now().Add(15 * time.Second)
	for len(m.Orphans()) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if o := m.Orphans(); len(o) > 0 {
		t.Errorf("processes of a killed master still running with no client: %+v", o)
	}

	checkLedger(t, m, led)
	checkStoreAfterCrash(t, m)
	checkLedger(t, m, led)
	// The tools above opened the store, which sweeps the staging files
	// of killed processes.
	checkNoStage(t, m.Path("spool"))

	// The restarted master serves both protocols.
	lc, err := dialLMTP(lmtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := lc.deliver("sender@example.com", []string{"carol"}, message("<after@fault.test>", 100))
	lc.Close()
	if err != nil || codes["carol"] != 250 {
		t.Fatalf("delivery after the faults: %v %v", codes, err)
	}
	for _, f := range inventory(t, m, "carol")["INBOX"] {
		if f.messageID == "<after@fault.test>" {
			return
		}
	}
	t.Error("message delivered after the faults is not in carol's INBOX")
}

// imapRound is one round of IMAP work for user: flags on the INBOX and
// copies out of it (never expunges there, so the INBOX holds exactly
// what LMTP delivered), and appends, moves and expunges in the work
// mailboxes. A NO is fine (the process serving a database may have just
// died); a broken connection ends the session.
func imapRound(ic *imapClient, user string, n *int) error {
	u, tagged, err := ic.cmd("SELECT INBOX")
	if err != nil {
		return err
	}
	if ex := exists(u); strings.HasPrefix(tagged, "OK") && ex > 0 {
		seq := 1 + rand.IntN(ex)
		flag := []string{`\Seen`, `\Flagged`, `$Work`}[rand.IntN(3)]
		op := []string{"+", "-"}[rand.IntN(2)]
		steps := []string{
			fmt.Sprintf("FETCH %d:* (UID FLAGS RFC822.SIZE)", seq),
			fmt.Sprintf("STORE %d %sFLAGS (%s)", seq, op, flag),
			fmt.Sprintf("FETCH %d BODY.PEEK[]", seq),
			fmt.Sprintf("COPY %d INBOX.work", seq),
		}
		for _, s := range steps {
			if _, _, err := ic.cmd("%s", s); err != nil {
				return err
			}
		}
	}
	*n++
	if _, _, err := ic.cmd("SELECT INBOX.work"); err != nil {
		return err
	}
	if _, err := ic.append("INBOX.work", message(fmt.Sprintf("<imap-%s-%d@fault.test>", user, *n), 300)); err != nil {
		return err
	}
	u, _, err = ic.cmd("NOOP")
	if err != nil {
		return err
	}
	for _, s := range []string{
		"STORE 1 +FLAGS (\\Deleted)",
		"EXPUNGE",
		"MOVE 1 INBOX.work2",
		"SELECT INBOX.work2",
	} {
		if u, _, err = ic.cmd("%s", s); err != nil {
			return err
		}
	}
	if exists(u) > 10 {
		for _, s := range []string{"STORE 1:5 +FLAGS.SILENT (\\Deleted)", "UID EXPUNGE 1:*", "COPY 1 INBOX.work"} {
			if _, _, err := ic.cmd("%s", s); err != nil {
				return err
			}
		}
	}
	_, _, err = ic.cmd("UNSELECT")
	return err
}

// checkLedger compares each user's INBOX with what LMTP was told: every
// message answered 250 there exactly once, every other one at most once,
// nothing else; and the quota with the mailboxes.
func checkLedger(t *testing.T, m *harness.Mail, led *ledger) {
	t.Helper()
	for _, u := range mailUsers {
		inv := inventory(t, m, u)
		seen := map[string]int{}
		for _, f := range inv["INBOX"] {
			seen[f.messageID]++
		}
		led.mu.Lock()
		for id, to := range led.tried {
			if !to[u] {
				if seen[id] > 0 {
					t.Errorf("%s's INBOX holds %s, never sent to %s", u, id, u)
				}
				continue
			}
			switch n := seen[id]; {
			case led.acked[id][u] && n != 1:
				t.Errorf("%s acknowledged for %s, found %d times", id, u, n)
			case n > 1:
				t.Errorf("%s (not acknowledged) found %d times in %s's INBOX", id, n, u)
			}
		}
		led.mu.Unlock()
		for id := range seen {
			if !strings.HasPrefix(id, "<d") {
				t.Errorf("%s's INBOX holds unexpected %q", u, id)
			}
		}
		checkQuota(t, m, u, inv)
	}
}

// crashFix is what reconstruct -n may report after SIGKILLs: a message
// file linked by an append that was killed before its commit (the store
// leaves it, and the next append to the mailbox overwrites it; a
// reconstruct adopts it, as Cyrus's does), and what adopting it changes.
var crashFix = regexp.MustCompile(`^user\.\w+(\.\w+)?: (adopted orphan message \d+\.|last UID \d+ is below message \d+; corrected|quota usage under \S+ was \d+ bytes in \d+ messages, now \d+ bytes in \d+)$`)

// checkStoreAfterCrash is checkStore where the only fixes allowed are
// the files of appends that never committed; reconstruct then adopts
// them and the store must be clean.
func checkStoreAfterCrash(t *testing.T, m *harness.Mail) {
	t.Helper()
	code, out, errs := m.Tool("reconstruct", "-n")
	orphans := 0
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		switch {
		case l == "":
		case crashFix.MatchString(l):
			if strings.Contains(l, "adopted orphan") {
				orphans++
			}
		default:
			t.Errorf("reconstruct -n (exit %d) finds more than an uncommitted append to fix: %q\n%s\n%s", code, l, out, errs)
		}
	}
	if orphans > 0 {
		t.Logf("message files of appends killed before their commit: %d\n%s", orphans, out)
		if code, out, errs := m.Tool("reconstruct"); code != 0 {
			t.Fatalf("reconstruct: exit %d\n%s\n%s", code, out, errs)
		}
	}
	checkStore(t, m)
}
