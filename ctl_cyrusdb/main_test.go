package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/tool"
)

// setup writes an imapd.conf whose configdirectory is a short temporary
// directory (the socket path must fit in 108 bytes).
func setup(t *testing.T, extra string) (conf, configDir string) {
	t.Helper()
	configDir, err := os.MkdirTemp("", "ctl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(configDir) })
	conf = filepath.Join(configDir, "imapd.conf")
	text := "configdirectory: " + configDir + "\nsyslog_prefix: cyrus-anchor\n" + extra
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf, configDir
}

// ctl runs the command in-process as an unprivileged user.
func ctl(t *testing.T, args ...string) (code int, logs, stderr string) {
	t.Helper()
	var l, e bytes.Buffer
	code = run(args, &e, tool.Options{LogWriter: &l, Euid: func() int { return 1000 }})
	return code, l.String(), e.String()
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-r", "-c"},
		{"-x"},
		{"-c", "-x"},
		{"-r", "extra"},
		{"-q"},
	} {
		code, _, stderr := ctl(t, args...)
		if code != tool.ExitUsage || !strings.Contains(stderr, "usage: ctl_cyrusdb") {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr)
		}
	}
}

// TestRecoverDirect: master is down, so -r opens the files itself, and
// logs what Cyrus logs.
func TestRecoverDirect(t *testing.T) {
	conf, dir := setup(t, "")
	for _, args := range [][]string{{"-C", conf, "-r"}, {"-C", conf, "-r", "-x"}, {"--config", conf, "--recover"}} {
		code, logs, stderr := ctl(t, args...)
		if code != 0 {
			t.Fatalf("%q: exit %d\n%s%s", args, code, logs, stderr)
		}
		if !strings.Contains(logs, "cyrus-anchor/ctl_cyrusdb[") ||
			!strings.Contains(logs, "notice: recovering cyrus databases\n") ||
			!strings.Contains(logs, "notice: done recovering cyrus databases\n") {
			t.Fatalf("log:\n%s", logs)
		}
	}
	for _, name := range cyrusdb.Names() {
		if _, err := os.Stat(filepath.Join(cyrusdb.DBDir(dir), name, "CURRENT")); err != nil {
			t.Errorf("database %s not created: %v", name, err)
		}
	}
}

// TestThroughMaster: master serves the databases (it holds their locks);
// -r and -c go through its socket.
func TestThroughMaster(t *testing.T) {
	conf, dir := setup(t, "")
	st, err := cyrusdb.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db, _ := st.DB(cyrusdb.Mailboxes)
	db.Put([]byte("user.alice"), []byte("x"))
	srv, err := cyrusdb.Serve(context.Background(), st, cyrusdb.SocketPath(dir), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, op := range []string{"-r", "-c"} {
		code, logs, _ := ctl(t, "-C", conf, op)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", op, code, logs)
		}
	}
	code, logs, _ := ctl(t, "-C", conf, "-c")
	if code != 0 || !strings.Contains(logs, "notice: checkpointing cyrus databases\n") || !strings.Contains(logs, "notice: done checkpointing cyrus databases\n") {
		t.Fatalf("exit %d, log:\n%s", code, logs)
	}
}

// TestLockedNoSocket: the files are held but nothing answers: exit 1 and
// say why, without the "done" line.
func TestLockedNoSocket(t *testing.T) {
	conf, dir := setup(t, "")
	st, err := cyrusdb.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	code, logs, _ := ctl(t, "-C", conf, "-r")
	if code != 1 || !strings.Contains(logs, "DBERROR: ") || !strings.Contains(logs, "is master running?") || strings.Contains(logs, "done recovering") {
		t.Fatalf("exit %d, log:\n%s", code, logs)
	}
}

func TestConfigErrors(t *testing.T) {
	code, _, _ := ctl(t, "-C", filepath.Join(t.TempDir(), "missing.conf"), "-r")
	if code != tool.ExitConfig {
		t.Fatalf("missing config: exit %d", code)
	}
	conf, _ := setup(t, "")
	var l, e bytes.Buffer
	code = run([]string{"-C", conf, "-r"}, &e, tool.Options{LogWriter: &l, Euid: func() int { return 0 }})
	if code != tool.ExitNoPerm || !strings.Contains(l.String(), "must not run as root") {
		t.Fatalf("as root: exit %d, log %s", code, l.String())
	}
}

// TestBinary runs the built command as cron or master would.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "ctl_cyrusdb")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	// cyrus_user: root lets it run when the tests run as root.
	conf, _ := setup(t, "cyrus_user: root\n")
	cmd := exec.Command(bin, "-C", conf, "-r")
	cmd.Env = append(os.Environ(), "CYRUSGO_LOG_STDERR=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "done recovering cyrus databases") {
		t.Fatalf("%v\n%s", err, out)
	}
	cmd = exec.Command(bin, "-C", conf)
	if err := cmd.Run(); cmd.ProcessState.ExitCode() != tool.ExitUsage {
		t.Fatalf("no op: %v", err)
	}
}
