package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

func recon(t *testing.T, args ...string) (code int, stdout, stderr string) {
	return tooltest.Run(run, args...)
}

func TestReconstructTool(t *testing.T) {
	conf, _ := setup(t, "")
	var data, meta string
	withStore(t, conf, func(s *mailbox.Store) {
		data, meta = populate(t, s, "user.alice", 3)
		populate(t, s, "user.alice.Sent", 1)
		populate(t, s, "user.bob", 1)
	})
	if code, out, errs := recon(t, "-C", conf, "-n"); code != 0 || out != "" {
		t.Fatalf("consistent store: exit %d out %q err %q", code, out, errs)
	}
	os.Remove(filepath.Join(meta, "cyrusgo.index"))
	os.WriteFile(filepath.Join(data, "9."), []byte("Subject: orphan\r\n\r\nx\r\n"), 0o600)
	code, out, _ := recon(t, "-C", conf, "-n", "user/alice")
	if code != 1 || !strings.Contains(out, "user.alice: cyrusgo.index is missing") {
		t.Fatalf("-n: exit %d out %q", code, out)
	}
	code, out, errs := recon(t, "-C", conf, "user.alice")
	if code != 0 || !strings.Contains(out, "user.alice: adopted orphan message 9.\n") {
		t.Fatalf("exit %d out %q err %q", code, out, errs)
	}
	if code, out, _ := recon(t, "-C", conf, "-n", "-r", "user.alice"); code != 0 || out != "" {
		t.Fatalf("after rebuild: exit %d out %q", code, out)
	}
	withStore(t, conf, func(s *mailbox.Store) {
		m, err := s.Open(acl.Identity{UserID: "alice"}, "user.alice", mailbox.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if got := m.UIDs(); len(got) != 4 || got[3] != 9 {
			t.Fatalf("uids %v", got)
		}
	})
}

func TestReconstructFind(t *testing.T) {
	conf, dir := setup(t, "")
	withStore(t, conf, func(s *mailbox.Store) { populate(t, s, "user.carol", 1) })
	lost := filepath.Join(dir, "spool", "user", "carol", "Lost")
	os.MkdirAll(lost, 0o750)
	os.WriteFile(filepath.Join(lost, "1."), []byte("Subject: a\r\n\r\nx\r\n"), 0o600)
	code, out, errs := recon(t, "-C", conf, "-f", "user.carol")
	if code != 0 || !strings.Contains(out, "user.carol.Lost: not in the mailbox list; added") || !strings.Contains(out, "user.carol.Lost: adopted Cyrus mailbox of 1 messages") {
		t.Fatalf("exit %d out %q err %q", code, out, errs)
	}
	if code, out, _ := recon(t, "-C", conf, "-n", "-r", "user.carol"); code != 0 || out != "" {
		t.Fatalf("after -f: exit %d out %q", code, out)
	}
}

func TestReconstructErrors(t *testing.T) {
	conf, _ := setup(t, "")
	if code, _, errs := recon(t, "-C", conf, "-r"); code != tool.ExitUsage || !strings.Contains(errs, "usage: reconstruct") {
		t.Fatalf("-r alone: exit %d %q", code, errs)
	}
	if code, _, errs := recon(t, "-C", conf, "user.nobody"); code != 1 || !strings.Contains(errs, "user.nobody: Mailbox does not exist") {
		t.Fatalf("missing mailbox: exit %d %q", code, errs)
	}
	if code, _, _ := recon(t, "-C", filepath.Join(t.TempDir(), "none.conf")); code != tool.ExitConfig {
		t.Fatalf("missing config: exit %d", code)
	}
	var l bytes.Buffer
	if code := run([]string{"-C", conf}, &l, &l, tool.Options{LogWriter: &l, Euid: func() int { return 0 }}); code != tool.ExitNoPerm {
		t.Fatalf("as root: exit %d", code)
	}
}
