package main

import (
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/quota"
	"github.com/cyrusgo/cyrusgo/libcyrus/tool"
	"github.com/cyrusgo/cyrusgo/libcyrus/tool/tooltest"
)

// The set-up every tool test shares lives in package tooltest.
var (
	admin     = tooltest.Admin
	setup     = tooltest.Setup
	withStore = tooltest.WithStore
	populate  = tooltest.Populate
)

func quotaRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	return tooltest.Run(run, args...)
}

func TestQuotaReportAndFix(t *testing.T) {
	conf, _ := setup(t, "")
	withStore(t, conf, func(s *mailbox.Store) {
		s.Quota().SetLimits("user.alice", quota.Limits{Storage: 100, Message: 10})
		s.Quota().SetLimits("user.bob", quota.Limits{Storage: quota.Unlimited, Message: 0})
		populate(t, s, "user.alice", 2)
		populate(t, s, "user.alice.Sent", 1)
		populate(t, s, "user.bob", 0)
		// Damage: a wrong entry and a stale one.
		s.Quota().SetMailboxUsage("user.alice", "user.alice.Sent", quota.Usage{Bytes: 99999, Messages: 7})
		s.Quota().SetMailboxUsage("user.alice", "user.alice.Gone", quota.Usage{Bytes: 5, Messages: 1})
	})
	code, out, errs := quotaRun(t, "-C", conf, "-f")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "user.alice: STORAGE usage was 100043, now 58\n") || !strings.Contains(errs, "user.alice: MESSAGE usage was 10, now 3\n") {
		t.Fatalf("stderr %q", errs)
	}
	want := `   Quota   % Used     Used             Resource Root
     100        0        0              STORAGE user/alice
      10       30        3              MESSAGE user/alice
                         0 X-ANNOTATION-STORAGE user/alice
                         2        X-NUM-FOLDERS user/alice
                         0              STORAGE user/bob
       0                 0              MESSAGE user/bob
                         0 X-ANNOTATION-STORAGE user/bob
                         1        X-NUM-FOLDERS user/bob
`
	if out != want {
		t.Fatalf("report:\n%s\nwant:\n%s", out, want)
	}
	// Fixed: a second -f finds nothing, -n changes nothing.
	if code, out, errs := quotaRun(t, "-C", conf, "-f", "-n", "-q"); code != 0 || out != "" || errs != "" {
		t.Fatalf("second run: %d %q %q", code, out, errs)
	}
	if _, out, _ := quotaRun(t, "-C", conf, "user.bob"); !strings.Contains(out, "user/bob") || strings.Contains(out, "alice") {
		t.Fatalf("prefix: %q", out)
	}
	if _, out, _ := quotaRun(t, "-C", conf, "-u", "alice"); !strings.Contains(out, "user/alice") || strings.Contains(out, "bob") {
		t.Fatalf("-u: %q", out)
	}
}

func TestQuotaUsage(t *testing.T) {
	conf, _ := setup(t, "")
	if code, _, errs := quotaRun(t, "-C", conf, "-n"); code != tool.ExitUsage || !strings.Contains(errs, "usage: quota") {
		t.Fatalf("-n alone: %d %q", code, errs)
	}
}
