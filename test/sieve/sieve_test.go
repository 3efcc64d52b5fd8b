// Package sieve_test runs timsieved under the real master and talks to it
// with independent ManageSieve clients: Debian's sieveshell and sivtest
// (cyrus-admin, cyrus-clients) and a raw socket client.
package sieve_test

import (
	"bufio"
	"encoding/base64"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/test/harness"
)

const (
	sieveshell = "/usr/bin/sieveshell"
	sivtest    = "/usr/lib/cyrus/bin/sivtest"
)

const workScript = "require [\"fileinto\"];\nif header :contains \"subject\" \"work\" {\n  fileinto \"INBOX.Work\";\n}\n"

// runClient runs a client with input on stdin, bounded in time.
func runClient(t *testing.T, input string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(input)
	done := make(chan struct{})
	var out []byte
	go func() {
		out, _ = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s timed out; output:\n%s", name, out)
	}
	return string(out)
}

// userDir is alice's script directory in Cyrus's layout.
func userDir(m *harness.Mail, user string) string {
	return m.Path(filepath.Join("sieve", user[:1], user))
}

// TestSieveshell drives Debian's sieveshell through upload, activate,
// list, download, deactivate and delete.
func TestSieveshell(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(sieveshell); err != nil {
		t.Skip("sieveshell not installed (apt-get install cyrus-admin)")
	}
	m := harness.StartMail(t, harness.MailOptions{Users: map[string]string{"alice": "pass"}})
	tmp := t.TempDir()
	src := filepath.Join(tmp, "work.script")
	if err := os.WriteFile(src, []byte(workScript), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(tmp, "bad.script")
	os.WriteFile(bad, []byte("require \"fileinto\";\n\nfileint \"x\";\n"), 0o644)
	got := filepath.Join(tmp, "got.script")
	server := "127.0.0.1:" + strconv.Itoa(m.Sieve)
	shell := func(cmds string) string {
		return runClient(t, "", sieveshell, "-u", "alice", "-a", "alice", "-p", "pass", "-e", cmds, server)
	}

	out := shell("put " + src + " work\nactivate work\nlist\nget work " + got + "\nput " + bad + " bad\n")
	if strings.Contains(out, "upload failed") && !strings.Contains(out, "line 3") {
		t.Fatalf("sieveshell:\n%s", out)
	}
	if !strings.Contains(out, "work  <- active script") {
		t.Fatalf("list does not show the active script:\n%s", out)
	}
	if !strings.Contains(out, "upload failed") || !strings.Contains(out, `line 3: unknown command "fileint"`) {
		t.Fatalf("bad script not refused with its line number:\n%s", out)
	}
	b, err := os.ReadFile(got)
	if err != nil || string(b) != strings.ReplaceAll(workScript, "\n", "\r\n") {
		t.Fatalf("downloaded script = %q, %v\n%s", b, err, out)
	}
	link, err := os.Readlink(filepath.Join(userDir(m, "alice"), "defaultbc"))
	if err != nil || link != "work.bc" {
		t.Fatalf("defaultbc -> %q, %v", link, err)
	}
	for _, f := range []string{"work.script", "work.bc"} {
		if _, err := os.Stat(filepath.Join(userDir(m, "alice"), f)); err != nil {
			t.Errorf("%s missing: %v", f, err)
		}
	}

	out = shell("delete work\n")
	if !strings.Contains(out, "delete failed") {
		t.Fatalf("deleting the active script succeeded:\n%s", out)
	}
	out = shell("deactivate\ndelete work\nlist\n")
	if strings.Contains(out, "failed") {
		t.Fatalf("deactivate and delete:\n%s", out)
	}
	for _, l := range strings.Split(out, "\n")[1:] {
		if strings.HasPrefix(l, "work") {
			t.Fatalf("work still listed after delete:\n%s", out)
		}
	}
	if _, err := os.Stat(filepath.Join(userDir(m, "alice"), "work.script")); !os.IsNotExist(err) {
		t.Fatalf("script still there after delete: %v", err)
	}

	out = runClient(t, "", sieveshell, "-u", "alice", "-a", "alice", "-p", "wrong", "-e", "list\n", server)
	if !strings.Contains(strings.ToLower(out), "unable to connect") && !strings.Contains(strings.ToLower(out), "auth") {
		t.Fatalf("wrong password accepted:\n%s", out)
	}
}

// TestSivtest authenticates with sivtest (PLAIN after STARTTLS) and
// speaks ManageSieve through it.
func TestSivtest(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(sivtest); err != nil {
		t.Skip("sivtest not installed (apt-get install cyrus-clients)")
	}
	m := harness.StartMail(t, harness.MailOptions{TLS: true, Users: map[string]string{"alice": "pass"}, ImapdConf: "allowplaintext: no\n"})
	port := strconv.Itoa(m.Sieve)
	// sivtest sends each input line with CRLF.
	script := strings.ReplaceAll(workScript, "\n", "\r\n")
	input := "PUTSCRIPT \"vac\" {" + strconv.Itoa(len(script)) + "+}\r\n" + script + "\r\n" +
		"SETACTIVE \"vac\"\r\nLISTSCRIPTS\r\nGETSCRIPT \"vac\"\r\nDELETESCRIPT \"vac\"\r\nLOGOUT\r\n"
	out := runClient(t, input, sivtest, "-t", "", "-m", "PLAIN", "-a", "alice", "-u", "alice", "-w", "pass", "-p", port, "127.0.0.1")
	for _, want := range []string{"Authenticated", "\"vac\" ACTIVE", "NO (ACTIVE)", "OK \"Logout Complete\""} {
		if !strings.Contains(out, want) {
			t.Fatalf("sivtest output lacks %q:\n%s", want, out)
		}
	}
	// SCRAM-SHA-256 needs no TLS.
	out = runClient(t, "LOGOUT\r\n", sivtest, "-m", "SCRAM-SHA-256", "-a", "alice", "-u", "alice", "-w", "pass", "-p", port, "127.0.0.1")
	if !strings.Contains(out, "Authenticated") {
		t.Fatalf("sivtest SCRAM-SHA-256:\n%s", out)
	}
}

// conn is a raw ManageSieve client.
type conn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, port int) *conn {
	t.Helper()
	c := harness.Dial(t, "tcp", harness.Addr(port))
	cc := &conn{t: t, c: c, br: bufio.NewReader(c)}
	cc.response()
	return cc
}

// response reads up to the OK, NO or BYE line, literals included.
func (c *conn) response() string {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	var b strings.Builder
	for {
		line, err := c.br.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			c.t.Fatalf("read: %v after %q", err, b.String())
		}
		start := line
		for strings.HasSuffix(strings.TrimRight(line, "\r\n"), "}") {
			l := strings.TrimRight(line, "\r\n")
			n, err := strconv.Atoi(l[strings.LastIndexByte(l, '{')+1 : len(l)-1])
			if err != nil {
				break
			}
			buf := make([]byte, n)
			if _, err := io.ReadFull(c.br, buf); err != nil {
				c.t.Fatal(err)
			}
			b.Write(buf)
			line, _ = c.br.ReadString('\n')
			b.WriteString(line)
		}
		if strings.HasPrefix(start, "OK") || strings.HasPrefix(start, "NO") || strings.HasPrefix(start, "BYE") {
			return b.String()
		}
	}
}

func (c *conn) do(cmd string) string {
	c.t.Helper()
	if _, err := io.WriteString(c.c, cmd); err != nil {
		c.t.Fatal(err)
	}
	return c.response()
}

func (c *conn) login(user, pass string) {
	c.t.Helper()
	ir := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
	if r := c.do("AUTHENTICATE \"PLAIN\" \"" + ir + "\"\r\n"); r != "OK\r\n" {
		c.t.Fatalf("login: %q", r)
	}
}

// TestDropMidLiteral drops an authenticated client in the middle of a
// PUTSCRIPT literal, which crashes Cyrus 3.6's timsieved
// (timsieved_segfault.txt): here the process survives, no script or
// temporary file is left, and the next connection works.
func TestDropMidLiteral(t *testing.T) {
	t.Parallel()
	m := harness.StartMail(t, harness.MailOptions{Users: map[string]string{"alice": "pass"}})
	for i := 0; i < 3; i++ {
		c := dial(t, m.Sieve)
		c.login("alice", "pass")
		io.WriteString(c.c, "PUTSCRIPT \"dropped\" {500+}\r\n"+workScript[:40])
		c.c.Close()
	}
	// And an authenticated drop without any command, the segfault's
	// simplest repro.
	c := dial(t, m.Sieve)
	c.login("alice", "pass")
	c.c.Close()

	c = dial(t, m.Sieve)
	c.login("alice", "pass")
	if r := c.do("LISTSCRIPTS\r\n"); r != "OK\r\n" {
		t.Fatalf("after the drops, LISTSCRIPTS = %q", r)
	}
	if r := c.do("PUTSCRIPT \"ok\" {" + strconv.Itoa(len(workScript)) + "+}\r\n" + workScript + "\r\n"); r != "OK\r\n" {
		t.Fatalf("put after the drops: %q", r)
	}
	c.do("LOGOUT\r\n")
	ents, _ := os.ReadDir(userDir(m, "alice"))
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "ok.") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	time.Sleep(200 * time.Millisecond)
	log := m.Log()
	if strings.Contains(log, "signaled to death") || strings.Contains(log, "panic") {
		t.Fatalf("timsieved crashed:\n%s", log)
	}
}

// TestBadScriptLineNumber: PUTSCRIPT and CHECKSCRIPT report errors with
// their line numbers, as a literal when there are several lines.
func TestBadScriptLineNumber(t *testing.T) {
	t.Parallel()
	m := harness.StartMail(t, harness.MailOptions{Users: map[string]string{"alice": "pass"}})
	c := dial(t, m.Sieve)
	c.login("alice", "pass")
	bad := "require \"fileinto\";\r\nif true {\r\n  fileint \"x\";\r\n}\r\n"
	r := c.do("PUTSCRIPT \"bad\" {" + strconv.Itoa(len(bad)) + "+}\r\n" + bad + "\r\n")
	if !strings.HasPrefix(r, "NO ") || !strings.Contains(r, `line 3: unknown command "fileint"`) {
		t.Fatalf("bad script: %q", r)
	}
	if r := c.do("CHECKSCRIPT {9+}\r\nbad stuff\r\n"); r != "NO {22}\r\nline 1: syntax error\r\n\r\n" {
		t.Fatalf("CHECKSCRIPT: %q", r)
	}
	if r := c.do("GETSCRIPT \"bad\"\r\n"); !strings.HasPrefix(r, "NO (NONEXISTENT)") {
		t.Fatalf("refused script stored: %q", r)
	}
}
