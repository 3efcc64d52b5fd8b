package master_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
	"github.com/cyrusgo/cyrusgo/libcyrus/masterconf"
	"github.com/cyrusgo/cyrusgo/test/harness"
)

func TestLogFileAndPidfileLock(t *testing.T) {
	t.Parallel()
	p := harness.FreePort(t)
	srv := harness.Start(t, harness.Config{
		ExtraFlags: []string{"-L", "@ROOT@/run/master.log"},
		CyrusConf:  servicesConf(fmt.Sprintf(`svc cmd="LEMMING" listen="127.0.0.1:%d"`, p)),
	})
	pid, err := os.ReadFile(srv.Path("run/master.pid"))
	if err != nil || strings.TrimSpace(string(pid)) != fmt.Sprint(srv.Pid()) {
		t.Fatalf("pidfile %q %v, master pid %d", pid, err, srv.Pid())
	}
	// A second master on the same pidfile refuses to start.
	out, err := exec.Command(filepath.Join(srv.Bin, "master"), "-D",
		"-C", srv.Path("imapd.conf"), "-M", srv.Path("cyrus.conf"), "-p", srv.Path("run/master.pid")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "another master is running") {
		t.Fatalf("second master: %v %s", err, out)
	}
	dialLemming(t, "tcp", harness.Addr(p)).quit()
	if err := srv.Stop(wait); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(srv.Path("run/master.log"))
	for _, want := range []string{"master[", "process started", "svc[", "All children have exited"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("-L log lacks %q:\n%s", want, b)
		}
	}
	if _, err := os.Stat(srv.Path("run/master.pid")); err == nil {
		t.Error("pidfile left behind")
	}
}

func TestDaemonMode(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	p := harness.FreePort(t)
	imapd := strings.ReplaceAll(harness.BaseImapdConf, "@ROOT@", root)
	cyrus := strings.ReplaceAll(servicesConf(fmt.Sprintf(`svc cmd="LEMMING" listen="127.0.0.1:%d"`, p)), "@ROOT@", root)
	os.MkdirAll(filepath.Join(root, "run"), 0o755)
	os.WriteFile(filepath.Join(root, "imapd.conf"), []byte(imapd), 0o644)
	os.WriteFile(filepath.Join(root, "cyrus.conf"), []byte(cyrus), 0o644)
	pidfile := filepath.Join(root, "run/master.pid")
	cmd := exec.Command(filepath.Join(harness.Bin(t), "master"), "-d", "-C", filepath.Join(root, "imapd.conf"),
		"-M", filepath.Join(root, "cyrus.conf"), "-p", pidfile)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("master -d: %v %s", err, out)
	}
	var pid int
	deadline := time.Now().Add(wait)
	for {
		b, err := os.ReadFile(pidfile)
		if err == nil && len(b) > 0 {
			fmt.Sscan(string(b), &pid)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("daemonized master wrote no pidfile")
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer syscall.Kill(pid, syscall.SIGKILL)
	dialLemming(t, "tcp", harness.Addr(p)).quit()
	syscall.Kill(pid, syscall.SIGTERM)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline.Add(wait)) {
			t.Fatal("daemonized master did not stop")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBadReloadKeepsRunning(t *testing.T) {
	t.Parallel()
	p := harness.FreePort(t)
	srv := harness.Start(t, harness.Config{CyrusConf: servicesConf(fmt.Sprintf(`svc cmd="LEMMING" listen="127.0.0.1:%d"`, p))})
	srv.WriteFile("cyrus.conf", "SERVICES {\n  svc cmd=\"lemming\" prefork=x\n")
	srv.Signal(syscall.SIGHUP)
	srv.WaitLog(wait, "reload failed, keeping the running configuration", 1)
	dialLemming(t, "tcp", harness.Addr(p)).quit()
}

// The sample and demo configurations shipped in conf/ must load.
func TestShippedConfigsParse(t *testing.T) {
	root := harness.Root(t)
	for _, f := range []string{"conf/cyrus.conf", "conf/demo/cyrus.conf"} {
		if _, err := masterconf.Load(filepath.Join(root, f), logging.Discard()); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, f := range []string{"conf/imapd.conf", "conf/demo/imapd.conf"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		s := strings.NewReplacer("@ROOT@", "/var/tmp/demo", "@USER@", "cyrus").Replace(string(b))
		if _, err := config.Parse(strings.NewReader(s), f, "imap", logging.Discard()); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
