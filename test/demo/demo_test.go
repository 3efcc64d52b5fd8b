// Package demo_test checks the README's `make run` contract: scripts/demo.sh
// starts master on the demo configuration with a demo user and a few
// messages, a mail client logs in over STARTTLS, Ctrl-C stops everything,
// and a second run reuses the data.
package demo_test

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/test/harness"
)

// demoPorts are the loopback ports conf/demo/cyrus.conf listens on.
var demoPorts = []string{"8143", "8993", "8110", "8995", "8024", "8190"}

func TestMakeRunDemo(t *testing.T) {
	for _, p := range demoPorts {
		if l, err := net.Listen("tcp", "127.0.0.1:"+p); err != nil {
			t.Skipf("demo port %s is in use (a demo running?): %v", p, err)
		} else {
			l.Close()
		}
	}
	top := t.TempDir()
	src := harness.Root(t)
	if out, err := exec.Command("cp", "-r", filepath.Join(src, "scripts"), filepath.Join(src, "conf"), top).CombinedOutput(); err != nil {
		t.Fatalf("copy demo files: %v %s", err, out)
	}
	if err := os.Symlink(harness.Bin(t), filepath.Join(top, "bin")); err != nil {
		t.Fatal(err)
	}

	first := runDemo(t, top)
	if !strings.Contains(first, `user "demo", password "demo"`) {
		t.Errorf("the demo does not say the demo user's password:\n%s", first)
	}
	second := runDemo(t, top)
	if !strings.Contains(second, "127.0.0.1:8143") {
		t.Errorf("second run output:\n%s", second)
	}
}

// runDemo starts the demo, checks the demo INBOX holds exactly the three
// seeded messages (so a second run reuses, not re-seeds), stops it with
// Ctrl-C and checks nothing is left running. It returns the output.
func runDemo(t *testing.T, top string) string {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command("bash", filepath.Join(top, "scripts", "demo.sh"))
	cmd.Stdout, cmd.Stderr = &out, &out
	// A terminal's Ctrl-C signals the whole foreground process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}()

	// A mail client: STARTTLS (plaintext is refused in the clear), login,
	// and the seeded INBOX.
	harness.Python(t, `
import imaplib, ssl, sys, time
deadline = time.time() + 60
while True:
    try:
        c = imaplib.IMAP4("127.0.0.1", 8143)
        break
    except OSError:
        if time.time() > deadline: raise
        time.sleep(0.2)
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
c.starttls(ctx)
c.login("demo", "demo")
while True:
    typ, data = c.select("INBOX")
    if int(data[0]) >= 3 or time.time() > deadline: break
    time.sleep(0.2)
if int(data[0]) != 3:
    sys.exit("INBOX holds %s messages, want 3" % data[0])
c.logout()
`)

	syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the demo did not stop on Ctrl-C:\n%s", out.String())
	}
	for _, p := range leftovers(top) {
		t.Errorf("left running after Ctrl-C: pid %d %v", p.Pid, p.Cmdline)
	}
	return out.String()
}

// leftovers lists processes whose command line names the demo directory.
func leftovers(top string) []harness.Proc {
	var left []harness.Proc
	for range 50 {
		left = left[:0]
		for _, p := range harness.Descendants(1) {
			if strings.Contains(strings.Join(p.Cmdline, " "), top) {
				left = append(left, p)
			}
		}
		if len(left) == 0 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return left
}
