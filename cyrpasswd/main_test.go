package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/auth"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
	"github.com/cyrusgo/cyrusgo/libcyrus/tool"
)

// setup writes an imapd.conf whose configdirectory is a short temporary
// directory (the database socket path must fit in 108 bytes).
func setup(t *testing.T, extra string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cyrpw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	conf := filepath.Join(dir, "imapd.conf")
	if err := os.WriteFile(conf, []byte("configdirectory: "+dir+"\n"+extra), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf
}

// cyrpasswd runs the tool in-process as an unprivileged user with stdin.
func cyrpasswd(t *testing.T, stdin string, euid int, args ...string) (code int, stdout, stderr, logs string) {
	t.Helper()
	var o, e, l bytes.Buffer
	code = run(args, ioSet{in: strings.NewReader(stdin), out: &o, err: &e},
		tool.Options{LogWriter: &l, Euid: func() int { return euid }})
	return code, o.String(), e.String(), l.String()
}

// check verifies a password the way the services do.
func check(t *testing.T, conf, user, password string) error {
	t.Helper()
	cfg, err := config.Load(conf, "imap", logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	h, err := cyrusdb.Open(cfg.String(config.ConfigDirectory), logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	db, err := h.DB(cyrusdb.Users)
	if err != nil {
		t.Fatal(err)
	}
	a := auth.NewAuthenticator(cfg, auth.NewChecker(cfg, db, logging.Discard()), logging.Discard(), "imap")
	_, err = a.Login(t.Context(), user, password, true)
	return err
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"add"}, {"list", "x"}, {"passwd", "a", "b"}, {"frob", "a"}, {"-q", "list"}} {
		code, _, stderr, _ := cyrpasswd(t, "", 1000, args...)
		if code != tool.ExitUsage || !strings.Contains(stderr, "usage: cyrpasswd") {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr)
		}
	}
}

func TestLifecycle(t *testing.T) {
	conf := setup(t, "")
	if code, _, stderr, _ := cyrpasswd(t, "first pw\n", 1000, "-C", conf, "add", "Alice"); code != 0 {
		t.Fatalf("add: %d %s", code, stderr)
	}
	// Stored under the canonical name a login looks up.
	if err := check(t, conf, "alice", "first pw"); err != nil {
		t.Errorf("login after add: %v", err)
	}
	if code, _, stderr, _ := cyrpasswd(t, "x\n", 1000, "-C", conf, "add", "alice"); code != 1 || !strings.Contains(stderr, "already exists") {
		t.Errorf("second add: %d %s", code, stderr)
	}
	if code, _, stderr, logs := cyrpasswd(t, "second pw", 1000, "--config", conf, "passwd", "alice"); code != 0 || !strings.Contains(logs, "changed password of alice") {
		t.Fatalf("passwd: %d %s %s", code, stderr, logs)
	}
	if err := check(t, conf, "alice", "second pw"); err != nil {
		t.Errorf("login after passwd: %v", err)
	}
	if err := check(t, conf, "alice", "first pw"); !errors.Is(err, auth.ErrBadPassword) {
		t.Errorf("old password: %v", err)
	}
	if code, _, stderr, _ := cyrpasswd(t, "pw\n", 1000, "-C", conf, "passwd", "bob"); code != 1 || !strings.Contains(stderr, "no user bob") {
		t.Errorf("passwd of a missing user: %d %s", code, stderr)
	}
	if code, _, _, _ := cyrpasswd(t, "pw\n", 1000, "-C", conf, "add", "bob"); code != 0 {
		t.Fatal("add bob")
	}
	code, stdout, stderr, _ := cyrpasswd(t, "", 1000, "-C", conf, "list")
	if code != 0 || stdout != "alice\nbob\n" {
		t.Errorf("list: %d %q %s", code, stdout, stderr)
	}
	if code, _, stderr, _ := cyrpasswd(t, "", 1000, "-C", conf, "delete", "bob"); code != 0 {
		t.Errorf("delete: %d %s", code, stderr)
	}
	if code, _, stderr, _ := cyrpasswd(t, "", 1000, "-C", conf, "delete", "bob"); code != 1 || !strings.Contains(stderr, "no such user") {
		t.Errorf("second delete: %d %s", code, stderr)
	}
	if err := check(t, conf, "bob", "pw"); !errors.Is(err, auth.ErrNoUser) {
		t.Errorf("login after delete: %v", err)
	}
}

func TestPasswordInput(t *testing.T) {
	conf := setup(t, "sasl_pwcheck_method: saslauthd\n")
	for _, in := range []string{"", "\n", "\r\n"} {
		if code, _, stderr, _ := cyrpasswd(t, in, 1000, "-C", conf, "add", "alice"); code != 1 || !strings.Contains(stderr, "empty password") {
			t.Errorf("stdin %q: %d %s", in, code, stderr)
		}
	}
	// Only the first line is the password; a CR LF ending is not part of it.
	code, _, stderr, _ := cyrpasswd(t, "pw with spaces \r\nsecond line\n", 1000, "-C", conf, "add", "alice")
	if code != 0 {
		t.Fatalf("add: %s", stderr)
	}
	if !strings.Contains(stderr, "logins do not use this store") {
		t.Errorf("no note about sasl_pwcheck_method: %s", stderr)
	}
	conf2 := strings.Replace(conf, "imapd.conf", "imapd2.conf", 1)
	dir := filepath.Dir(conf)
	if err := os.WriteFile(conf2, []byte("configdirectory: "+dir+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := check(t, conf2, "alice", "pw with spaces "); err != nil {
		t.Errorf("login: %v", err)
	}
	code, _, stderr, _ = cyrpasswd(t, "pa\U0001F600ss\n", 1000, "-C", conf2, "passwd", "alice")
	if code != 0 || !strings.Contains(stderr, "not SCRAM") {
		t.Errorf("unpreppable password: %d %s", code, stderr)
	}
}

func TestRefusesRoot(t *testing.T) {
	conf := setup(t, "")
	if code, _, stderr, _ := cyrpasswd(t, "pw\n", 0, "-C", conf, "add", "alice"); code != tool.ExitNoPerm || !strings.Contains(stderr, "root") {
		t.Errorf("as root: %d %s", code, stderr)
	}
	conf = setup(t, "cyrus_user: root\n")
	if code, _, stderr, _ := cyrpasswd(t, "pw\n", 0, "-C", conf, "add", "alice"); code != 0 {
		t.Errorf("as root with cyrus_user: root: %d %s", code, stderr)
	}
}
