package fault

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/test/harness"
)

// mountTmpfs mounts a tmpfs of size (mount's -o size=) on a new directory
// and unmounts it when the test ends (after master has stopped); the test
// is skipped where mounting is not permitted.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root or CAP_SYS_ADMIN): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

func remount(t *testing.T, dir, size string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,size="+size, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s: %v %s", dir, err, out)
	}
}

// TestFullPartition fills a 4 MB partition by delivery. Past the point it
// is full, LMTP answers 4xx (never 250 for a message not on disk, never
// 5xx) and APPEND answers NO; every message answered 250 is whole and
// readable, reconstruct -n finds nothing to fix, no staging file is left;
// once there is room again both work.
func TestFullPartition(t *testing.T) {
	t.Parallel()
	spool := mountTmpfs(t, "4m")
	m := startMail(t, "partition-default: "+spool+"\n")
	lmtpAddr := harness.Addr(m.LMTP)
	ballastPath := filepath.Join(spool, "ballast")
	ballast := int64(128 << 10)
	if err := os.WriteFile(ballastPath, make([]byte, ballast), 0o644); err != nil {
		t.Fatal(err)
	}

	var acked []string
	full := 0
	deliver := func(id string, size int) {
		t.Helper()
		lc, err := dialLMTP(lmtpAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer lc.Close()
		codes, err := lc.deliver("sender@example.com", []string{"alice", "bob"}, message(id, size))
		if err != nil && err != errNoRecipient {
			t.Fatalf("%s: %v", id, err)
		}
		for r, c := range codes {
			switch {
			case c == 250:
				acked = append(acked, r+" "+id)
			case c == 451 || c == 452:
				full++
			default:
				t.Errorf("%s to %s: %d on a full disk, want 250, 451 or 452", id, r, c)
			}
		}
	}
	for i := 0; full == 0 && i < 100; i++ {
		deliver(fmt.Sprintf("<full-%d@fault.test>", i), 150_000)
	}
	if full == 0 {
		t.Fatal("the partition never filled")
	}
	t.Logf("%d deliveries answered 250 before the partition filled", len(acked))
	// Then the edge: a ballast written before the deliveries gives back
	// two pages at a time, and small deliveries and APPENDs take them, so
	// the disk fills at every step of storing a message: staging,
	// linking, the cache, the index.
	ic := mustLogin(t, m, "carol")
	if _, err := ic.ok("SELECT INBOX"); err != nil {
		t.Fatal(err)
	}
	appended := 0
	for round := 0; ballast > 0; round++ {
		ballast = max(0, ballast-8192)
		if err := os.Truncate(ballastPath, ballast); err != nil {
			t.Fatal(err)
		}
		before := full
		for j := 0; full == before && j < 20; j++ {
			deliver(fmt.Sprintf("<edge-%d-%d@fault.test>", round, j), 300+j*200)
		}
		for j := 0; j < 20; j++ {
			id := fmt.Sprintf("<append-%d-%d@fault.test>", round, j)
			tagged, err := ic.append("INBOX", message(id, 300+j*200))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(tagged, "OK") {
				if !strings.HasPrefix(tagged, "NO") {
					t.Errorf("APPEND on a full partition: %q, want NO", tagged)
				}
				break
			}
			appended++
			acked = append(acked, "carol "+id)
		}
	}
	t.Logf("%d deliveries answered 250 in all, %d 4xx; %d APPENDs succeeded", len(acked), full, appended)

	checkFull := func() {
		t.Helper()
		checkAcked(t, m, acked)
		checkStore(t, m)
		checkNoStage(t, spool)
	}
	checkFull()

	remount(t, spool, "16m")
	lc, err := dialLMTP(lmtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := lc.deliver("sender@example.com", []string{"alice"}, message("<after-full@fault.test>", 150_000))
	lc.Close()
	if err != nil || codes["alice"] != 250 {
		t.Fatalf("delivery after making room: %v %v", codes, err)
	}
	acked = append(acked, "alice <after-full@fault.test>")
	if tagged, err := ic.append("INBOX", message("<append-after@fault.test>", 150_000)); err != nil || !strings.HasPrefix(tagged, "OK") {
		t.Errorf("APPEND after making room: %q %v, want OK", tagged, err)
	}
	acked = append(acked, "carol <append-after@fault.test>")
	checkFull()
	for _, u := range mailUsers {
		checkQuota(t, m, u, inventory(t, m, u))
	}
}

// checkAcked reads every acknowledged message ("user <id>") back in full.
func checkAcked(t *testing.T, m *harness.Mail, acked []string) {
	t.Helper()
	want := map[string]map[string]bool{}
	for _, a := range acked {
		u, id, _ := strings.Cut(a, " ")
		if want[u] == nil {
			want[u] = map[string]bool{}
		}
		want[u][id] = true
	}
	for u, ids := range want {
		ic := mustLogin(t, m, u)
		msgs, err := ic.fetchAll("INBOX")
		if err != nil {
			t.Fatal(err)
		}
		found := map[string]int{}
		for _, f := range msgs {
			found[f.messageID]++
			u2, _, err := ic.cmd("UID FETCH %d BODY.PEEK[]", f.uid)
			if err != nil || len(u2) == 0 || !strings.Contains(u2[0], f.messageID) || len(u2[0]) < f.size {
				t.Errorf("%s: message %s (uid %d) cannot be read back whole: %v", u, f.messageID, f.uid, err)
			}
		}
		for id := range ids {
			if found[id] != 1 {
				t.Errorf("%s: %s answered 250, found %d times", u, id, found[id])
			}
		}
		for id, n := range found {
			if !ids[id] {
				t.Errorf("%s: %s is there (%d times) but was never answered 250", u, id, n)
			}
		}
		ic.ok("LOGOUT")
	}
}

// checkNoStage fails if a staging file is left in a partition's stage
// directory.
func checkNoStage(t *testing.T, partition string) {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(partition, "stage."))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("staging file left behind: %s", e.Name())
	}
}

// fillUp writes a ballast file in dir until the file system is full.
func fillUp(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "ballast")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	for {
		if _, err := f.Write(chunk[:512]); err != nil {
			return path
		}
	}
}

// TestFullConfigDirectory fills the file system of configdirectory,
// where master keeps the databases (mailbox list, quotas, duplicate
// records): deliveries get 4xx or 250 (and then the message is there),
// APPEND gets NO or OK, and once there is room again everything works
// and is consistent.
func TestFullConfigDirectory(t *testing.T) {
	t.Parallel()
	confDir := mountTmpfs(t, "8m")
	m := startMail(t, "configdirectory: "+confDir+"\n")
	lmtpAddr := harness.Addr(m.LMTP)
	ballast := fillUp(t, confDir)

	var acked []string
	deliver := func(id string) int {
		t.Helper()
		lc, err := dialLMTP(lmtpAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer lc.Close()
		codes, err := lc.deliver("sender@example.com", []string{"alice"}, message(id, 2000))
		if err != nil && err != errNoRecipient {
			t.Fatalf("%s: %v", id, err)
		}
		c := codes["alice"]
		switch {
		case c == 250:
			acked = append(acked, "alice "+id)
		case c >= 400 && c < 500:
		default:
			t.Errorf("%s: %d with the configuration directory full, want 250 or 4xx", id, c)
		}
		return c
	}
	ic := mustLogin(t, m, "bob")
	refused := 0
	for i := range 10 {
		if deliver(fmt.Sprintf("<conffull-%d@fault.test>", i)) != 250 {
			refused++
		}
		id := fmt.Sprintf("<conffull-append-%d@fault.test>", i)
		tagged, err := ic.append("INBOX", message(id, 2000))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(tagged, "OK") {
			acked = append(acked, "bob "+id)
		} else if !strings.HasPrefix(tagged, "NO") {
			t.Errorf("APPEND with the configuration directory full: %q", tagged)
		}
	}
	t.Logf("%d of 10 deliveries refused with the configuration directory full", refused)

	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	if c := deliver("<conffull-after@fault.test>"); c != 250 {
		t.Fatalf("delivery once there is room: %d", c)
	}
	if tagged, err := ic.append("INBOX", message("<conffull-append-after@fault.test>", 2000)); err != nil || !strings.HasPrefix(tagged, "OK") {
		t.Fatalf("APPEND once there is room: %q %v", tagged, err)
	}
	acked = append(acked, "bob <conffull-append-after@fault.test>")
	checkAcked(t, m, acked)
	checkStore(t, m)
	for _, u := range mailUsers {
		checkQuota(t, m, u, inventory(t, m, u))
	}
}
