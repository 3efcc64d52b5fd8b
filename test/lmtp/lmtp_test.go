// End-to-end LMTP tests: the real master runs the real lmtpd on TCP (with
// and without -a) and on a Unix socket; clients are Python's smtplib.LMTP,
// Debian's lmtptest and Postfix. What lands is checked over IMAP (SELECT's
// EXISTS), through the real imapd.
package lmtp_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/test/harness"
)

// users are the accounts every test has; logging in once over IMAP
// creates their INBOX (autocreate_quota: 0).
var users = map[string]string{"cyrus": "secret", "alice": "apass", "bob": "bpass", "carol": "cpass"}

// pyLib is the Python side: LMTP transactions with one reply per accepted
// recipient (smtplib.LMTP reads only the first), and INBOX counts.
const pyLib = `
import imaplib, smtplib, sys, json, threading

def lmtp(target):
    if target.startswith("/"):
        return smtplib.LMTP(target)
    host, port = target.rsplit(":", 1)
    return smtplib.LMTP(host, int(port))

def deliver(target, sender, rcpts, msg, auth=None):
    c = lmtp(target)
    if auth:
        c.ehlo_or_helo_if_needed()
        c.login(auth[0], auth[1])
    c.ehlo_or_helo_if_needed()
    code, _ = c.mail(sender)
    if code != 250:
        raise Exception("MAIL %d" % code)
    ok, out = [], []
    for r in rcpts:
        code, resp = c.rcpt(r)
        out.append("RCPT %s %d" % (r, code))
        if code == 250:
            ok.append(r)
    if ok:
        code, resp = c.data(msg)
        replies = [(code, resp)]
        for _ in ok[1:]:
            replies.append(c.getreply())
        for r, (code, resp) in zip(ok, replies):
            out.append("DATA %s %d %s" % (r, code, resp.decode()))
    c.quit()
    return out

def counts(imap_port, who):
    res = {}
    for user, pw in who:
        m = imaplib.IMAP4("127.0.0.1", imap_port)
        m.login(user, pw)
        typ, data = m.select("INBOX")
        res[user] = int(data[0])
        m.logout()
    return res

def message(mid, subject="test", body="hello"):
    return ("From: sender@example.com\r\nTo: someone@example.com\r\nSubject: %s\r\n"
            "Message-ID: %s\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\n\r\n%s\r\n") % (subject, mid, body)
`

func startMail(t *testing.T, conf string) *harness.Mail {
	t.Helper()
	m := harness.StartMail(t, harness.MailOptions{Users: users, ImapdConf: conf})
	// One IMAP login per user makes the INBOXes.
	counts(t, m, "alice", "bob", "carol")
	return m
}

// counts returns the EXISTS of each user's INBOX.
func counts(t *testing.T, m *harness.Mail, who ...string) map[string]int {
	t.Helper()
	var args []string
	for _, u := range who {
		args = append(args, u, users[u])
	}
	out := harness.Python(t, pyLib+`
port = int(sys.argv[1])
pairs = list(zip(sys.argv[2::2], sys.argv[3::2]))
for u, n in counts(port, pairs).items():
    print(u, n)
`, append([]string{strconv.Itoa(m.IMAP)}, args...)...)
	res := map[string]int{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) == 2 {
			res[f[0]], _ = strconv.Atoi(f[1])
		}
	}
	return res
}

func wantCounts(t *testing.T, m *harness.Mail, want map[string]int) {
	t.Helper()
	var who []string
	for u := range want {
		who = append(who, u)
	}
	got := counts(t, m, who...)
	for u, n := range want {
		if got[u] != n {
			t.Errorf("%s's INBOX holds %d messages, want %d (all: %v)", u, got[u], n, got)
		}
	}
}

// TestPythonLMTP delivers over the three services: TCP with -a, TCP with
// AUTH as an admin, and the Unix socket.
func TestPythonLMTP(t *testing.T) {
	t.Parallel()
	m := startMail(t, "")
	out := harness.Python(t, pyLib+`
tcp, auth, unix = sys.argv[1], sys.argv[2], sys.argv[3]
for l in deliver(tcp, "sender@example.com", ["alice@localhost", "nosuchuser@localhost", "Bob"], message("<py-1@example.com>")):
    print("tcp", l)
for l in deliver(unix, "sender@example.com", ["bob"], message("<py-2@example.com>")):
    print("unix", l)
for l in deliver(auth, "sender@example.com", ["alice", "carol"], message("<py-3@example.com>"), auth=("cyrus", "secret")):
    print("auth", l)
c = lmtp(auth)
c.ehlo_or_helo_if_needed()
print("noauth", c.mail("sender@example.com"))
try:
    c.login("alice", "apass")
    print("alice authenticated")
except smtplib.SMTPAuthenticationError as e:
    print("alice refused", e.smtp_code, e.smtp_error.decode())
c.quit()
`, harness.Addr(m.LMTP), harness.Addr(m.LMTPAuth), m.LMTPSocket)
	for _, want := range []string{
		"tcp RCPT alice@localhost 250", "tcp RCPT nosuchuser@localhost 550", "tcp RCPT Bob 250",
		"tcp DATA alice@localhost 250 2.1.5 Success SESSIONID=<", "tcp DATA Bob 250 2.1.5 Success SESSIONID=<",
		"unix DATA bob 250 2.1.5 Success", "auth DATA alice 250 2.1.5 Success", "auth DATA carol 250 2.1.5 Success",
		"noauth (430, b'Authentication required')", "alice refused 501 5.5.4 undefined error!",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	wantCounts(t, m, map[string]int{"alice": 2, "bob": 2, "carol": 1})
	log := m.Log()
	for _, want := range []string{"Delivered: <py-1@example.com> to mailbox: user.alice", "Delivered: <py-2@example.com> to mailbox: user.bob",
		"login: localhost [127.0.0.1] cyrus PLAIN User logged in", "alice is not an admin"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

// TestDuplicateSuppression: the same Message-ID to the same mailbox is
// stored once; ctl_deliver shows the records through master's socket and
// prunes them; after the prune the message is stored again.
func TestDuplicateSuppression(t *testing.T) {
	t.Parallel()
	m := startMail(t, "")
	script := pyLib + `
for l in deliver(sys.argv[1], "s@example.com", ["alice", "bob"], message("<dup-1@example.com>")):
    print(l)
`
	for i := 0; i < 3; i++ {
		out := harness.Python(t, script, harness.Addr(m.LMTP))
		if strings.Count(out, "250 2.1.5 Success") != 2 {
			t.Fatalf("delivery %d:\n%s", i, out)
		}
	}
	wantCounts(t, m, map[string]int{"alice": 1, "bob": 1})
	if n := strings.Count(m.Log(), "dupelim: eliminated duplicate message to "); n != 4 {
		t.Errorf("%d dupelim lines, want 4", n)
	}

	ctl := func(args ...string) string {
		cmd := exec.Command(filepath.Join(m.Bin, "ctl_deliver"), append([]string{"-C", m.Path("imapd.conf")}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("ctl_deliver %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	dump := ctl("-d")
	if !strings.Contains(dump, "it is NOW: ") || !strings.Contains(dump, "got 2 entries") ||
		strings.Count(dump, "id: <dup-1@example.com>                     \tto: ") != 2 {
		t.Errorf("ctl_deliver -d:\n%s", dump)
	}
	ctl("-E", "0")
	if !strings.Contains(ctl("-d"), "got 0 entries") {
		t.Error("ctl_deliver -E 0 left records")
	}
	harness.Python(t, script, harness.Addr(m.LMTP))
	wantCounts(t, m, map[string]int{"alice": 2, "bob": 2})
}

// TestRace: two lmtpd processes (client_limit is 1, so two connections are
// two processes) receive the same message for the same mailboxes at the
// same moment, many times: each is stored once.
func TestRace(t *testing.T) {
	t.Parallel()
	m := startMail(t, "")
	const rounds = 15
	out := harness.Python(t, pyLib+`
import os
target, rounds = sys.argv[1], int(sys.argv[2])
for i in range(rounds):
    msg = message("<race-%d@example.com>" % i)
    barrier = threading.Barrier(2)
    results = []
    def run():
        c = lmtp(target)
        c.ehlo_or_helo_if_needed()
        c.mail("s@example.com")
        c.rcpt("alice")
        c.rcpt("bob")
        barrier.wait()
        code, resp = c.data(msg)
        results.append((code, c.getreply()[0]))
        c.quit()
    ts = [threading.Thread(target=run) for _ in range(2)]
    for th in ts: th.start()
    for th in ts: th.join()
    print("round", i, results)
`, harness.Addr(m.LMTP), strconv.Itoa(rounds))
	if strings.Count(out, "(250, 250)") != 2*rounds {
		t.Fatalf("replies:\n%s", out)
	}
	wantCounts(t, m, map[string]int{"alice": rounds, "bob": rounds})
	pids := map[string]bool{}
	for _, l := range strings.Split(m.Log(), "\n") {
		if strings.Contains(l, "Delivered: <race-") || strings.Contains(l, "dupelim: ") {
			if i, j := strings.Index(l, "lmtp["), strings.Index(l, "]"); i >= 0 && j > i {
				pids[l[i:j]] = true
			}
		}
	}
	if len(pids) < 2 {
		t.Errorf("the deliveries were made by %d lmtpd process(es), want 2", len(pids))
	}
}

// TestKillDuringData: lmtpd is killed (SIGKILL) in the middle of a
// message; the MTA's retry stores it exactly once.
func TestKillDuringData(t *testing.T) {
	t.Parallel()
	m := startMail(t, "")
	msg := "From: s@example.com\r\nSubject: killed\r\nMessage-ID: <killed-1@example.com>\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\n\r\n"
	c := harness.Dial(t, "tcp", harness.Addr(m.LMTP))
	defer c.Close()
	send := func(s string) { c.Write([]byte(s)) }
	buf := make([]byte, 4096)
	expect := func(prefix string) {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		var got string
		for !strings.Contains(got, "\r\n") {
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("read: %v (have %q)", err, got)
			}
			got += string(buf[:n])
		}
		if !strings.HasPrefix(got, prefix) {
			t.Fatalf("got %q, want %s", got, prefix)
		}
	}
	expect("220 ")
	send("MAIL FROM:<s@example.com>\r\n")
	expect("250 ")
	send("RCPT TO:<alice>\r\n")
	expect("250 ")
	send("DATA\r\n")
	expect("354 ")
	send(msg + "half of the body\r\n")
	time.Sleep(200 * time.Millisecond)
	killed := 0
	for _, p := range m.ServiceChildren("lmtp") {
		if syscall.Kill(p.Pid, syscall.SIGKILL) == nil {
			killed++
		}
	}
	if killed == 0 {
		t.Fatal("no lmtp process to kill")
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if n, err := c.Read(buf); err == nil {
		t.Fatalf("connection still open after the kill: %q", buf[:n])
	}
	m.WaitLog(20*time.Second, "signaled to death by signal 9", 1)

	for i := 0; i < 2; i++ {
		out := harness.Python(t, pyLib+`
for l in deliver(sys.argv[1], "s@example.com", ["alice"], sys.argv[2] + "the whole body\r\n"):
    print(l)
`, harness.Addr(m.LMTP), msg)
		if !strings.Contains(out, "250 2.1.5 Success") {
			t.Fatalf("retry %d:\n%s", i, out)
		}
	}
	wantCounts(t, m, map[string]int{"alice": 1})
}

// TestLmtptest uses Debian's lmtptest (cyrus-clients): SASL PLAIN as the
// admin, then a transaction from a file.
func TestLmtptest(t *testing.T) {
	t.Parallel()
	const bin = "/usr/lib/cyrus/bin/lmtptest"
	if _, err := os.Stat(bin); err != nil {
		t.Skip("lmtptest not installed (apt-get install cyrus-clients)")
	}
	m := startMail(t, "")
	script := filepath.Join(t.TempDir(), "session")
	os.WriteFile(script, []byte("MAIL FROM:<lt@example.com>\r\nRCPT TO:<carol>\r\nDATA\r\n"+
		"Subject: lmtptest\r\nMessage-ID: <lmtptest-1@example.com>\r\n\r\nhi\r\n.\r\nQUIT\r\n"), 0o644)
	cmd := exec.Command(bin, "-p", strconv.Itoa(m.LMTPAuth), "-m", "PLAIN", "-a", "cyrus", "-u", "cyrus", "-w", "secret", "-f", script, "127.0.0.1")
	done := make(chan struct{})
	var out []byte
	var err error
	go func() {
		out, err = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("lmtptest hung:\n%s", out)
	}
	s := string(out)
	for _, want := range []string{"Authenticated.", "250 2.1.5 Success SESSIONID="} {
		if !strings.Contains(s, want) {
			t.Errorf("lmtptest output lacks %q (err %v):\n%s", want, err, s)
		}
	}
	wantCounts(t, m, map[string]int{"carol": 1})
}

// waitPort waits until a TCP port accepts connections (up) or refuses
// them (down).
func waitPort(t *testing.T, port int, up bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", harness.Addr(port), time.Second)
		if err == nil {
			c.Close()
		}
		if (err == nil) == up {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("port %d not %v after 20s", port, map[bool]string{true: "up", false: "down"}[up])
}

// postfix is a private Postfix instance: its own configuration and queue
// under the test's directory, no listener of its own, every domain
// relayed by LMTP (Postfix's lmtp client, as Debian's Cyrus setups use).
type postfix struct {
	t   *testing.T
	dir string
	etc string
	log string
}

const postfixMasterCf = `pickup    unix  n       -       n       1       1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`

// startPostfix starts Postfix with transports: mail to a domain in
// transports goes where its value says (lmtp:unix:... or lmtp:inet:...).
// It skips the test when Postfix cannot run here.
func startPostfix(t *testing.T, transports map[string]string) *postfix {
	t.Helper()
	if _, err := os.Stat("/usr/sbin/postfix"); err != nil {
		t.Skip("postfix not installed (apt-get install postfix)")
	}
	if os.Geteuid() != 0 {
		t.Skip("a private Postfix instance needs root")
	}
	dir := t.TempDir()
	p := &postfix{t: t, dir: dir, etc: filepath.Join(dir, "etc"), log: filepath.Join(dir, "maillog")}
	for _, d := range []string{"etc", "queue", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	openPath(t, dir)
	if err := os.Chown(filepath.Join(dir, "data"), postfixUID(t), -1); err != nil {
		t.Fatal(err)
	}
	var maps []string
	for domain, dest := range transports {
		maps = append(maps, domain+"="+dest)
	}
	mainCf := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mta.example.test
mydomain = example.test
myorigin = example.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
local_transport = error:local delivery is disabled
default_transport = error:no transport for this domain
transport_maps = inline:{ %[2]s }
alias_maps =
alias_database =
maillog_file = %[1]s/maillog
maillog_file_prefixes = %[1]s
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
transport_retry_time = 1s
lmtp_connect_timeout = 5s
smtputf8_enable = no
`, dir, strings.Join(maps, ", "))
	os.WriteFile(filepath.Join(p.etc, "main.cf"), []byte(mainCf), 0o644)
	os.WriteFile(filepath.Join(p.etc, "master.cf"), []byte(postfixMasterCf), 0o644)
	if out, err := p.run("postfix", "-c", p.etc, "start"); err != nil {
		log, _ := os.ReadFile(p.log)
		t.Skipf("postfix does not start in this sandbox: %v\n%s\n%s", err, out, log)
	}
	t.Cleanup(p.stop)
	return p
}

func (p *postfix) run(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() {
		out, err = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		err = fmt.Errorf("%s timed out", name)
	}
	return string(out), err
}

func (p *postfix) stop() {
	if _, err := p.run("postfix", "-c", p.etc, "stop"); err != nil {
		p.run("postfix", "-c", p.etc, "abort")
	}
	// No Postfix process may outlive the test.
	if b, err := os.ReadFile(filepath.Join(p.dir, "queue", "pid", "master.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
			deadline := time.Now().Add(10 * time.Second)
			for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if p.t.Failed() {
		log, _ := os.ReadFile(p.log)
		p.t.Logf("postfix log:\n%s", log)
	}
}

// send injects a message with Postfix's sendmail.
func (p *postfix) send(from, to, msg string) {
	p.t.Helper()
	cmd := exec.Command("/usr/sbin/sendmail", "-C", p.etc, "-f", from, to)
	cmd.Stdin = strings.NewReader(msg)
	if out, err := cmd.CombinedOutput(); err != nil {
		p.t.Fatalf("sendmail: %v\n%s", err, out)
	}
}

// flush asks Postfix to retry deferred mail now (postqueue -f), as an
// admin would once the server is back.
func (p *postfix) flush() {
	p.t.Helper()
	if out, err := p.run("postqueue", "-c", p.etc, "-f"); err != nil {
		p.t.Fatalf("postqueue -f: %v\n%s", err, out)
	}
}

// waitLog waits until the mail log has n lines with all of the parts.
func (p *postfix) waitLog(n int, parts ...string) {
	p.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(p.log)
		got := 0
		for _, l := range strings.Split(string(b), "\n") {
			all := true
			for _, part := range parts {
				all = all && strings.Contains(l, part)
			}
			if all {
				got++
			}
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("postfix log has %d lines with %q, want %d:\n%s", got, parts, n, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func postfixUID(t *testing.T) int {
	out, err := exec.Command("id", "-u", "postfix").Output()
	if err != nil {
		t.Skip("no postfix user")
	}
	uid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return uid
}

// openPath lets other users (Postfix's unprivileged daemons) reach path:
// t.TempDir's directories are private.
func openPath(t *testing.T, path string) {
	for p := path; p != "/" && p != "." && p != os.TempDir(); p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPostfix: Postfix delivers to lmtpd over the Unix socket and over
// TCP; mail deferred while the lmtp service is down is delivered once it
// is back.
func TestPostfix(t *testing.T) {
	t.Parallel()
	m := startMail(t, "")
	openPath(t, filepath.Dir(m.LMTPSocket))
	os.Chmod(m.LMTPSocket, 0o777)
	pf := startPostfix(t, map[string]string{
		"unix.example.test": "lmtp:unix:" + m.LMTPSocket,
		"tcp.example.test":  "lmtp:inet:127.0.0.1:" + strconv.Itoa(m.LMTP),
	})
	msg := func(id string) string {
		return "From: sender@example.com\nSubject: via postfix\nMessage-ID: <" + id + ">\n\nhello from postfix\n.leading dot\n"
	}
	pf.send("sender@example.com", "alice@unix.example.test", msg("pf-unix@example.com"))
	pf.send("sender@example.com", "bob@tcp.example.test", msg("pf-tcp@example.com"))
	pf.waitLog(1, "to=<alice@unix.example.test>", "status=sent (250 2.1.5 Success SESSIONID=")
	pf.waitLog(1, "to=<bob@tcp.example.test>", "status=sent (250 2.1.5 Success SESSIONID=")
	wantCounts(t, m, map[string]int{"alice": 1, "bob": 1})

	// Take the TCP lmtp service away (master reload), send, see Postfix
	// defer, bring the service back, see the retry land.
	orig, err := os.ReadFile(m.Path("cyrus.conf"))
	if err != nil {
		t.Fatal(err)
	}
	var without []string
	for _, l := range strings.Split(string(orig), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "lmtp ") {
			without = append(without, l)
		}
	}
	os.WriteFile(m.Path("cyrus.conf"), []byte(strings.Join(without, "\n")), 0o644)
	m.Signal(syscall.SIGHUP)
	waitPort(t, m.LMTP, false)
	pf.send("sender@example.com", "carol@tcp.example.test", msg("pf-deferred@example.com"))
	pf.waitLog(1, "to=<carol@tcp.example.test>", "status=deferred")
	wantCounts(t, m, map[string]int{"carol": 0})
	os.WriteFile(m.Path("cyrus.conf"), orig, 0o644)
	m.Signal(syscall.SIGHUP)
	waitPort(t, m.LMTP, true)
	pf.flush()
	pf.waitLog(1, "to=<carol@tcp.example.test>", "status=sent (250 2.1.5 Success SESSIONID=")
	wantCounts(t, m, map[string]int{"alice": 1, "bob": 1, "carol": 1})
}
