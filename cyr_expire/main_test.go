package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
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

func expire(t *testing.T, now time.Time, args ...string) (code int, stderr, logs string) {
	t.Helper()
	var e, l bytes.Buffer
	code = run(args, &e, tool.Options{LogWriter: &l, Euid: func() int { return 1000 }}, func() time.Time { return now })
	return code, e.String(), l.String()
}

func TestExpungeAndDelete(t *testing.T) {
	conf, _ := setup(t, "delete_mode: delayed\nexpunge_mode: delayed\n")
	var data string
	withStore(t, conf, func(s *mailbox.Store) {
		data, _ = populate(t, s, "user.alice", 3)
		populate(t, s, "user.alice.Old", 1)
		m, err := s.Open(acl.Identity{UserID: "alice"}, "user.alice", mailbox.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		m.StoreFlags([]uint32{1, 2}, mailbox.FlagsAdd, []string{`\Deleted`}, 0)
		if _, err := m.Expunge(nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(acl.Identity{UserID: "alice"}, "user.alice.Old"); err != nil {
			t.Fatal(err)
		}
	})
	// Too early: nothing goes.
	now := time.Now()
	code, stderr, _ := expire(t, now, "-C", conf, "-X", "1", "-D", "1d", "-v")
	if code != 0 || !strings.Contains(stderr, "expunged 0 messages from 2 mailboxes") || !strings.Contains(stderr, "Removed 0 deleted mailboxes") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(data, "1.")); err != nil {
		t.Fatal("message removed too early")
	}
	code, stderr, logs := expire(t, now.Add(49*time.Hour), "-C", conf, "-X", "2", "-D", "48h", "-v")
	if code != 0 || !strings.Contains(stderr, "user.alice: removed 2 expunged messages") || !strings.Contains(stderr, "Removed 1 deleted mailbox\n") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(logs, "notice: Removed 1 deleted mailboxes") || !strings.Contains(logs, "expunged 2 messages") {
		t.Fatalf("log %s", logs)
	}
	for _, f := range []string{"1.", "2."} {
		if _, err := os.Stat(filepath.Join(data, f)); !os.IsNotExist(err) {
			t.Fatalf("%s still there", f)
		}
	}
	withStore(t, conf, func(s *mailbox.Store) {
		n := 0
		s.ListDeleted(func(*mailbox.Entry) error { n++; return nil })
		if n != 0 {
			t.Fatalf("%d deleted mailboxes left", n)
		}
		rep, err := s.Reconstruct("user.alice", mailbox.ReconstructOptions{DryRun: true})
		if err != nil || !rep.Consistent() {
			t.Fatalf("after expire: %v %v", rep.Fixes, err)
		}
	})
}

func TestDuplicatePrune(t *testing.T) {
	conf, _ := setup(t, "")
	code, stderr, _ := expire(t, time.Now(), "-C", conf, "-E", "3")
	if code != 0 || strings.Contains(stderr, "not available") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

func TestUsageAndDurations(t *testing.T) {
	conf, _ := setup(t, "")
	for _, args := range [][]string{{}, {"-v"}, {"-X", "abc"}, {"-X", "-1"}, {"-X", "1", "extra"}} {
		if code, stderr, _ := expire(t, time.Now(), append([]string{"-C", conf}, args...)...); code != tool.ExitUsage || !strings.Contains(stderr, "usage: cyr_expire") {
			t.Errorf("%q: exit %d %q", args, code, stderr)
		}
	}
	for in, want := range map[string]time.Duration{"60": 60 * 24 * time.Hour, "1.5d": 36 * time.Hour, "36h": 36 * time.Hour, "30m": 30 * time.Minute, "10s": 10 * time.Second, "0": 0} {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
}
