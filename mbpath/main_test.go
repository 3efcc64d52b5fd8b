package main

import (
	"os"
	"strings"
	"testing"

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

func mbpath(t *testing.T, args ...string) (code int, stdout, stderr string) {
	return tooltest.Run(run, args...)
}

func TestMbpath(t *testing.T) {
	conf, dir := setup(t, "metapartition-default: @META@\nmetapartition_files: header index cache\n")
	os.WriteFile(conf, []byte(strings.ReplaceAll(mustRead(t, conf), "@META@", dir+"/meta")), 0o644)
	withStore(t, conf, func(s *mailbox.Store) {
		populate(t, s, "user.alice", 0)
		populate(t, s, "user.alice.Sent", 0)
	})
	code, out, errs := mbpath(t, "-C", conf, "user.alice", "user/alice/Sent")
	if code != 0 || out != dir+"/spool/user/alice\n"+dir+"/spool/user/alice/Sent\n" {
		t.Fatalf("exit %d out %q err %q", code, out, errs)
	}
	if _, out, _ := mbpath(t, "-C", conf, "-m", "user.alice"); out != dir+"/meta/user/alice\n" {
		t.Fatalf("-m: %q", out)
	}
	if _, out, _ := mbpath(t, "-C", conf, "-u", "alice"); out != dir+"/spool/user/alice\n" {
		t.Fatalf("-u: %q", out)
	}
	code, out, errs = mbpath(t, "-C", conf, "user.nobody", "user.alice")
	if code != 1 || out != dir+"/spool/user/alice\n" || !strings.Contains(errs, "Invalid mailbox name: user.nobody") {
		t.Fatalf("missing: exit %d out %q err %q", code, out, errs)
	}
	if code, out, errs := mbpath(t, "-C", conf, "-q", "-s", "user.nobody", "user.alice"); code != 1 || out != "" || errs != "" {
		t.Fatalf("-q -s: exit %d out %q err %q", code, out, errs)
	}
	if code, _, errs := mbpath(t, "-C", conf); code != tool.ExitUsage || !strings.Contains(errs, "usage: mbpath") {
		t.Fatalf("no args: %d %q", code, errs)
	}
}

func mustRead(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
