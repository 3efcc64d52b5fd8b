package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/tool"
)

var admin = acl.Identity{UserID: "cyrus", Admin: true}

// setup writes an imapd.conf under a temporary directory and returns its
// path and the directory.
func setup(t *testing.T, extra string) (conf, dir string) {
	t.Helper()
	dir = t.TempDir()
	conf = filepath.Join(dir, "imapd.conf")
	text := "configdirectory: " + dir + "/conf\npartition-default: " + dir + "/spool\nadmins: cyrus\n" + extra
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf, dir
}

// withStore opens the databases directly (no master) for fn and closes
// them, so the tool can open them afterwards.
func withStore(t *testing.T, conf string, fn func(s *mailbox.Store)) {
	t.Helper()
	cfg, err := config.Load(conf, "", logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	st, err := cyrusdb.OpenStore(cfg.String(config.ConfigDirectory))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := mailbox.New(cfg, st, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	fn(s)
}

func populate(t *testing.T, s *mailbox.Store, name string, n int) (data, meta string) {
	t.Helper()
	if _, err := s.Create(admin, name, mailbox.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	m, err := s.OpenForDelivery(name)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for i := 0; i < n; i++ {
		msg := "Subject: " + strings.Repeat("x", i) + "\r\n\r\nbody\r\n"
		if _, err := m.AppendReader(strings.NewReader(msg), nil, time.Time{}, 0); err != nil {
			t.Fatal(err)
		}
	}
	data, meta, _ = s.Dirs(m.Entry())
	return data, meta
}

func mbpath(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e, l bytes.Buffer
	code = run(args, &o, &e, tool.Options{LogWriter: &l, Euid: func() int { return 1000 }})
	return code, o.String(), e.String() + l.String()
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
