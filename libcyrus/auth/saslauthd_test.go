package auth

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeSaslauthd serves the saslauthd protocol on a socket in a temporary
// directory, answering OK for password "pw", and records each request.
func fakeSaslauthd(t *testing.T, reply func(fields []string) []byte) (string, <-chan []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mux")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	reqs := make(chan []string, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			var fields []string
			for range 4 {
				var n uint16
				if binary.Read(c, binary.BigEndian, &n) != nil {
					break
				}
				b := make([]byte, n)
				if _, err := io.ReadFull(c, b); err != nil {
					break
				}
				fields = append(fields, string(b))
			}
			reqs <- fields
			_, _ = c.Write(reply(fields))
			c.Close()
		}
	}()
	return path, reqs
}

func counted(s string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(s))), s...)
}

func TestSaslauthdProtocol(t *testing.T) {
	path, reqs := fakeSaslauthd(t, func(f []string) []byte {
		if len(f) == 4 && f[1] == "pw" {
			return counted("OK")
		}
		return counted("NO authentication failed")
	})
	e := newEnv(t, map[string]string{"sasl_pwcheck_method": "saslauthd", "sasl_saslauthd_path": path})
	for _, c := range []struct {
		user, pw, service, realm string
		want                     []string
		err                      error
	}{
		{"alice", "pw", "imap", "", []string{"alice", "pw", "imap", ""}, nil},
		{"alice", "bad", "pop", "", []string{"alice", "bad", "pop", ""}, ErrBadPassword},
		// libsasl splits user@realm at the last "@".
		{"a@b@example.org", "pw", "sieve", "ignored", []string{"a@b", "pw", "sieve", "example.org"}, nil},
		{"alice", "pw", "", "example.org", []string{"alice", "pw", "imap", "example.org"}, nil},
	} {
		err := e.check.Check(t.Context(), c.user, c.pw, c.service, c.realm)
		if c.err == nil && err != nil || c.err != nil && !errors.Is(err, c.err) {
			t.Errorf("Check(%s) = %v, want %v", c.user, err, c.err)
		}
		if got := <-reqs; strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("request %q, want %q", got, c.want)
		}
	}

	// A request libsasl would refuse to send is refused here too.
	err := e.check.Check(t.Context(), "alice", strings.Repeat("x", saslauthdMaxRequest), "imap", "")
	if !errors.Is(err, ErrTemporary) || !strings.Contains(err.Error(), "too large") {
		t.Errorf("huge request: %v", err)
	}
}

func TestSaslauthdBadReplies(t *testing.T) {
	for name, reply := range map[string][]byte{
		"short":     counted("O"),
		"truncated": {0, 10, 'O', 'K'},
		"none":      nil,
	} {
		t.Run(name, func(t *testing.T) {
			path, _ := fakeSaslauthd(t, func([]string) []byte { return reply })
			e := newEnv(t, map[string]string{"sasl_pwcheck_method": "saslauthd", "sasl_saslauthd_path": path})
			if err := e.check.Check(t.Context(), "alice", "pw", "imap", ""); !errors.Is(err, ErrTemporary) {
				t.Errorf("Check = %v, want ErrTemporary", err)
			}
		})
	}
	// A long reply is cut as libsasl cuts it, and still read as OK.
	path, _ := fakeSaslauthd(t, func([]string) []byte { return counted("OK " + strings.Repeat("x", 3000)) })
	e := newEnv(t, map[string]string{"sasl_pwcheck_method": "saslauthd", "sasl_saslauthd_path": path})
	if err := e.check.Check(t.Context(), "alice", "pw", "imap", ""); err != nil {
		t.Errorf("long OK: %v", err)
	}
}

// TestSaslauthdReal checks the client against Debian's saslauthd with its
// sasldb mechanism and users made by Debian's saslpasswd2.
//
// saslauthd -a sasldb reads /etc/sasldb2 and has no option to read another
// file, so the test starts it in a private mount namespace (unshare -m)
// where a temporary directory holding only our sasldb2 is mounted on /etc.
// The real /etc is never touched.
func TestSaslauthdReal(t *testing.T) {
	const saslauthd, saslpasswd2 = "/usr/sbin/saslauthd", "/usr/sbin/saslpasswd2"
	for _, p := range []string{saslauthd, saslpasswd2} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("saslauthd end-to-end test needs Debian's sasl2-bin (apt-get install sasl2-bin): %v", err)
		}
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skipf("saslauthd end-to-end test needs unshare(1): %v", err)
	}
	if out, err := exec.Command(unshare, "-m", "true").CombinedOutput(); err != nil {
		t.Skipf("saslauthd end-to-end test needs a private mount namespace (root): unshare -m: %v: %s", err, out)
	}

	dir := t.TempDir()
	etc := filepath.Join(dir, "etc")
	if err := os.Mkdir(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	for user, realm := range map[string]string{"alice": "example.org", "bob": ""} {
		args := []string{"-p", "-f", filepath.Join(etc, "sasldb2"), "-c"}
		if realm != "" {
			args = append(args, "-u", realm)
		}
		cmd := exec.Command(saslpasswd2, append(args, user)...)
		cmd.Stdin = strings.NewReader(user + " secret")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("saslpasswd2 %s: %v: %s", user, err, out)
		}
	}

	cmd := exec.Command(unshare, "-m", "sh", "-c", `mount --bind "$1" /etc && exec "$2" -a sasldb -m "$3" -n 1 -d`,
		"sh", etc, saslauthd, dir)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // saslauthd forks workers
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// SIGKILL, not SIGTERM: saslauthd's SIGTERM handler calls
		// functions that are not async-signal-safe and now and then
		// deadlocks in them, leaving the process behind.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("saslauthd output:\n%s", logs.String())
		}
	})
	mux := filepath.Join(dir, "mux")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("unix", mux); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("saslauthd did not listen on %s", mux)
		}
	}

	e := newEnv(t, map[string]string{"sasl_pwcheck_method": "saslauthd", "sasl_saslauthd_path": mux})
	for _, c := range []struct {
		user, pw, realm string
		want            error
	}{
		{"alice@example.org", "alice secret", "", nil},
		{"alice", "alice secret", "example.org", nil},
		{"alice@example.org", "wrong", "", ErrBadPassword},
		{"alice", "alice secret", "", ErrBadPassword}, // not in the default realm
		{"carol@example.org", "x", "", ErrBadPassword},
	} {
		err := e.check.Check(t.Context(), c.user, c.pw, "imap", c.realm)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("Check(%s, realm %q) = %v, want %v", c.user, c.realm, err, c.want)
		}
	}

	// Through the SASL layer, with saslauthd then auxprop as methods.
	e = newEnv(t, map[string]string{
		"sasl_pwcheck_method": "saslauthd auxprop", "sasl_saslauthd_path": mux,
		"virtdomains": "userid",
	})
	s, err := e.auth.Start(t.Context(), MechPlain, true, StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, done, err := s.Next(plainMsg("", "alice@example.org", "alice secret")); err != nil || !done {
		t.Errorf("PLAIN via saslauthd: %v", err)
	}
	if r := s.Result(); r.AuthzID != "alice@example.org" {
		t.Errorf("Result %+v", r)
	}
	if _, err := e.auth.Login(t.Context(), "alice", alicePW, true); err != nil {
		t.Errorf("auxprop user after saslauthd NO: %v", err)
	}
}
