// Package fault is the fault-injection suite: the real master and its
// services under SIGKILL (of children and of master itself), a full
// partition, and clients that vanish mid-command. After each fault the
// store must be whole: every acknowledged message there exactly once,
// reconstruct -n clean, quotas exact, no process or lock left behind.
//
// The tests scale down with -short or CYRUSGO_FAULT_SCALE (a factor on
// the load phases, e.g. 0.5); each runs on its own master, in parallel.
package fault

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/test/harness"
)

// users are the accounts of every test; cyrus is the admin.
var users = map[string]string{"cyrus": "secret", "alice": "apass", "bob": "bpass", "carol": "cpass"}

var mailUsers = []string{"alice", "bob", "carol"}

// faultConf gives every user a quota root (so usage is tracked) large
// enough never to be reached.
const faultConf = "autocreate_quota: 1000000\n"

// scale is the factor on load-phase durations.
func scale(t *testing.T) float64 {
	f := 1.0
	if testing.Short() {
		f = 0.4
	}
	if v := os.Getenv("CYRUSGO_FAULT_SCALE"); v != "" {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || x <= 0 {
			t.Fatalf("CYRUSGO_FAULT_SCALE=%q: want a positive number", v)
		}
		f = x
	}
	return f
}

func scaled(t *testing.T, d time.Duration) time.Duration {
	return time.Duration(float64(d) * scale(t))
}

// startMail starts master with every service and logs each user in once,
// which creates the INBOXes (and the quota roots).
func startMail(t *testing.T, conf string) *harness.Mail {
	t.Helper()
	m := harness.StartMail(t, harness.MailOptions{Users: users, ImapdConf: faultConf + conf})
	for _, u := range mailUsers {
		ic, err := loginIMAP(harness.Addr(m.IMAP), u, users[u])
		if err != nil {
			t.Fatalf("first login of %s: %v", u, err)
		}
		ic.ok("LOGOUT")
		ic.Close()
	}
	return m
}

// mustLogin logs in or fails the test.
func mustLogin(t *testing.T, m *harness.Mail, user string) *imapClient {
	t.Helper()
	ic, err := loginIMAP(harness.Addr(m.IMAP), user, users[user])
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	t.Cleanup(func() { ic.Close() })
	return ic
}

// inventory lists every message of user's mailboxes, by mailbox name.
func inventory(t *testing.T, m *harness.Mail, user string) map[string][]fetched {
	t.Helper()
	ic := mustLogin(t, m, user)
	defer ic.ok("LOGOUT")
	u, err := ic.ok(`LIST "" "*"`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]fetched{}
	for _, l := range u {
		if !strings.HasPrefix(l, "* LIST ") {
			continue
		}
		name := l[strings.LastIndexByte(l, ' ')+1:]
		msgs, err := ic.fetchAll(name)
		if err != nil {
			t.Fatalf("%s: %s: %v", user, name, err)
		}
		out[strings.Trim(name, `"`)] = msgs
	}
	return out
}

// checkStore runs reconstruct -n over every mailbox (nothing may need
// fixing) and quota -f -n (no usage may be off).
func checkStore(t *testing.T, m *harness.Mail) {
	t.Helper()
	code, out, errs := m.Tool("reconstruct", "-n")
	if code != 0 || strings.TrimSpace(out) != "" {
		t.Errorf("reconstruct -n: exit %d, something to fix:\n%s\n%s", code, out, errs)
	}
	code, out, errs = m.Tool("quota", "-f", "-n")
	if code != 0 || strings.Contains(errs, "usage was") {
		t.Errorf("quota -f -n: exit %d, usage off:\n%s\n%s", code, out, errs)
	}
}

// checkQuota compares the quota report of user's root with the messages
// IMAP shows in all of the user's mailboxes.
func checkQuota(t *testing.T, m *harness.Mail, user string, inv map[string][]fetched) {
	t.Helper()
	var count, bytes int
	for _, msgs := range inv {
		for _, f := range msgs {
			count++
			bytes += f.size
		}
	}
	code, out, errs := m.Tool("quota", "user."+user)
	if code != 0 {
		t.Fatalf("quota: exit %d\n%s\n%s", code, out, errs)
	}
	got := map[string]int{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && f[len(f)-1] == "user."+user {
			got[f[len(f)-2]], _ = strconv.Atoi(f[len(f)-3])
		}
	}
	if got["MESSAGE"] != count || got["STORAGE"] != bytes/1024 {
		t.Errorf("quota of %s: %d messages, %d KiB; the mailboxes hold %d messages, %d bytes (%d KiB)\n%s",
			user, got["MESSAGE"], got["STORAGE"], count, bytes, bytes/1024, out)
	}
}
