// Package pop3_test drives pop3d under the real master with independent
// clients: Python's poplib, Debian's pop3test (cyrus-clients) and
// fetchmail. Messages are delivered through LMTP, or through IMAP APPEND
// when no lmtpd answers.
package pop3_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/test/harness"
)

// pyDeliver is the Python side of delivery: deliver(method, port, user,
// messages) through LMTP (lmtpd -a, no authentication) or IMAP APPEND,
// and autocreate(pop3, pop3s, user), which logs in over POP3 once so that
// pop3d creates the INBOX (autocreate_quota) for LMTP to deliver to.
const pyDeliver = `
import sys, json, smtplib, imaplib, poplib, ssl
def deliver(method, port, user, msgs):
    if method == "lmtp":
        s = smtplib.LMTP("127.0.0.1", port, timeout=20)
        for msg in msgs:
            s.sendmail("sender@example.com", [user], msg.encode())
        s.quit()
    else:
        M = imaplib.IMAP4("127.0.0.1", port, timeout=20)
        M.login(user, "pass")
        for msg in msgs:
            typ, data = M.append("INBOX", None, None, msg.encode())
            assert typ == "OK", data
        M.logout()
def autocreate(pop3, pop3s, user):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for make in (lambda: poplib.POP3("127.0.0.1", pop3, timeout=20),
                 lambda: poplib.POP3_SSL("127.0.0.1", pop3s, timeout=20, context=ctx)):
        try:
            p = make()
            p.user(user)
            p.pass_("pass")
            p.quit()
            return
        except Exception:
            pass
`

// server is a master with pop3d and a way to put mail into it.
type server struct {
	*harness.Mail
	t      *testing.T
	method string // "lmtp" or "imap"
}

func start(t *testing.T, o harness.MailOptions) *server {
	t.Helper()
	if o.Users == nil {
		o.Users = map[string]string{"alice": "pass"}
	}
	return &server{Mail: harness.StartMail(t, o), t: t}
}

// deliverPort is the port of the delivery method.
func (s *server) deliverPort(method string) string {
	if method == "lmtp" {
		return strconv.Itoa(s.LMTP)
	}
	return strconv.Itoa(s.IMAP)
}

// deliver puts messages into user's INBOX: through LMTP if lmtpd takes
// them, else through IMAP APPEND; the test is skipped if neither works.
func (s *server) deliver(user string, msgs ...string) {
	s.t.Helper()
	methods := []string{"lmtp", "imap"}
	if s.method != "" {
		methods = []string{s.method}
	}
	var errs []string
	for _, method := range methods {
		args := append([]string{method, s.deliverPort(method), user, strconv.Itoa(s.POP3), strconv.Itoa(s.POP3S)}, msgs...)
		out, err := runPython(pyDeliver+`
if sys.argv[1] == "lmtp":
    autocreate(int(sys.argv[4]), int(sys.argv[5]), sys.argv[3])
deliver(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[6:])
`, args...)
		if err == nil {
			if s.method == "" && len(errs) > 0 {
				s.t.Logf("delivering through IMAP APPEND: %s", strings.Join(errs, "\n"))
			}
			s.method = method
			return
		}
		errs = append(errs, method+": "+out)
	}
	if s.method != "" {
		s.t.Fatalf("delivery through %s failed: %s", s.method, strings.Join(errs, "\n"))
	}
	s.t.Skipf("cannot deliver mail (neither lmtpd nor IMAP APPEND works yet):\n%s", strings.Join(errs, "\n"))
}

// runPython runs a script without failing the test, for probing.
func runPython(script string, args ...string) (string, error) {
	py, err := exec.LookPath("python3")
	if err != nil {
		return "python3 not installed", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, append([]string{"-c", script}, args...)...).CombinedOutput()
	return string(out), err
}

// messages used by the tests: the second has lines that need stuffing.
var testMessages = []string{
	"From: sender@example.com\r\nTo: alice\r\nSubject: first\r\nMessage-ID: <first@example.com>\r\n\r\nHello alice\r\n",
	"From: sender@example.com\r\nTo: alice\r\nSubject: dots\r\nMessage-ID: <dots@example.com>\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nlast line\r\n",
	"From: sender@example.com\r\nTo: alice\r\nSubject: third\r\nMessage-ID: <third@example.com>\r\n\r\nline 1\r\nline 2\r\nline 3\r\n",
}

// Python's poplib: the whole life of a maildrop, and an IMAP session
// that sees the POP3 deletions once the POP3 session has quit.
func TestPoplib(t *testing.T) {
	t.Parallel()
	s := start(t, harness.MailOptions{})
	s.deliver("alice", testMessages...)
	out := harness.Python(t, pyDeliver+`
port, imap_port = int(sys.argv[1]), int(sys.argv[2])
r = {}
p = poplib.POP3("127.0.0.1", port, timeout=20)
r["greeting"] = p.getwelcome().decode()
r["capa"] = sorted(p.capa().keys())
p.user("alice")
p.pass_("pass")
r["stat"] = p.stat()
r["list"] = [l.decode() for l in p.list()[1]]
r["uidl"] = [l.decode() for l in p.uidl()[1]]
r["uidl2"] = p.uidl(2).decode()
r["retr2"] = [l.decode() for l in p.retr(2)[1]]
r["top3"] = [l.decode() for l in p.top(3, 1)[1]]
try:
    p.retr(9)
except poplib.error_proto as e:
    r["retr9"] = str(e)
p.dele(1)
r["stat_after_dele"] = p.stat()
M = imaplib.IMAP4("127.0.0.1", imap_port, timeout=20)
M.login("alice", "pass")
typ, data = M.select("INBOX")
r["imap_exists_before"] = int(data[0])
r["quit"] = p.quit().decode()
typ, data = M.noop()
r["imap_expunge"] = [d.decode() for d in M.untagged_responses.get("EXPUNGE", [])]
typ, data = M.select("INBOX")
r["imap_exists_after"] = int(data[0])
M.logout()
p = poplib.POP3("127.0.0.1", port, timeout=20)
p.user("alice")
p.pass_("pass")
r["stat2"] = p.stat()
r["uidl_second_session"] = [l.decode() for l in p.uidl()[1]]
p.quit()
print(json.dumps(r))
`, strconv.Itoa(s.POP3), strconv.Itoa(s.IMAP))
	var r struct {
		Greeting         string
		Capa             []string
		Stat             []int
		List, UIDL       []string
		UIDL2            string
		Retr2, Top3      []string
		Retr9            string
		StatAfterDele    []int    `json:"stat_after_dele"`
		ImapExistsBefore int      `json:"imap_exists_before"`
		Quit             string   `json:"quit"`
		ImapExpunge      []string `json:"imap_expunge"`
		ImapExistsAfter  int      `json:"imap_exists_after"`
		Stat2            []int
		UIDLSecond       []string `json:"uidl_second_session"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !strings.HasPrefix(r.Greeting, "+OK localhost Cyrus POP3 ") || strings.Contains(r.Greeting, "<") {
		t.Errorf("greeting %q", r.Greeting)
	}
	for _, c := range []string{"TOP", "UIDL", "USER", "SASL", "PIPELINING", "RESP-CODES", "AUTH-RESP-CODE", "EXPIRE", "LOGIN-DELAY", "IMPLEMENTATION"} {
		if !contains(r.Capa, c) {
			t.Errorf("CAPA lacks %s: %v", c, r.Capa)
		}
	}
	if r.Stat[0] != 3 || len(r.List) != 3 || len(r.UIDL) != 3 {
		t.Fatalf("listings: %+v", r)
	}
	if want := "||.leading dot|..two dots|.|last line"; !strings.HasSuffix(strings.Join(r.Retr2, "|"), want) {
		t.Errorf("RETR 2 (poplib undoes the stuffing): %q", r.Retr2)
	}
	if got := strings.Join(r.Top3[len(r.Top3)-2:], "|"); got != "|line 1" {
		t.Errorf("TOP 3 1: %q", r.Top3)
	}
	if !strings.Contains(r.Retr9, "No such message") {
		t.Errorf("RETR 9: %q", r.Retr9)
	}
	if r.StatAfterDele[0] != 2 || r.ImapExistsBefore != 3 || r.Quit != "+OK" {
		t.Errorf("DELE and QUIT: %+v", r)
	}
	if len(r.ImapExpunge) != 1 || r.ImapExistsAfter != 2 || r.Stat2[0] != 2 {
		t.Errorf("after QUIT: IMAP EXPUNGE %v, EXISTS %d, POP3 STAT %v", r.ImapExpunge, r.ImapExistsAfter, r.Stat2)
	}
	// UIDs are stable: the second session lists the same ids, less the
	// deleted one, and they have Cyrus's uidvalidity.uid form.
	want := []string{"1 " + strings.Fields(r.UIDL[1])[1], "2 " + strings.Fields(r.UIDL[2])[1]}
	if strings.Join(r.UIDLSecond, ",") != strings.Join(want, ",") || !strings.HasSuffix(r.UIDL2, ".2") {
		t.Errorf("UIDL across sessions: %v then %v", r.UIDL, r.UIDLSecond)
	}
	s.WaitLog(10*time.Second, "counts: retr=<1> top=<1> dele=<1>", 1)
	if log := s.Log(); !strings.Contains(log, "login: localhost [127.0.0.1] alice plaintext User logged in SESSIONID=<") {
		t.Errorf("no login line in the log:\n%s", log)
	}
}

// STLS with poplib (an unverified context, as for a self-signed
// certificate) and implicit TLS on pop3s; USER only once TLS is on.
func TestTLS(t *testing.T) {
	t.Parallel()
	s := start(t, harness.MailOptions{TLS: true, ImapdConf: "allowplaintext: no\n"})
	s.deliver("alice", testMessages[0])
	out := harness.Python(t, pyDeliver+`
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
r = {}
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=20)
r["capa_before"] = sorted(p.capa().keys())
try:
    p.user("alice")
except poplib.error_proto as e:
    r["user_before"] = str(e)
p.stls(context=ctx)
r["capa_after"] = sorted(p.capa().keys())
p.user("alice")
p.pass_("pass")
r["stat"] = p.stat()
p.quit()
p = poplib.POP3_SSL("127.0.0.1", int(sys.argv[2]), timeout=20, context=ctx)
r["greeting_s"] = p.getwelcome().decode()
p.user("alice")
p.pass_("pass")
r["stat_s"] = p.stat()
p.quit()
print(json.dumps(r))
`, strconv.Itoa(s.POP3), strconv.Itoa(s.POP3S))
	var r struct {
		CapaBefore []string `json:"capa_before"`
		UserBefore string   `json:"user_before"`
		CapaAfter  []string `json:"capa_after"`
		Stat       []int
		GreetingS  string `json:"greeting_s"`
		StatS      []int  `json:"stat_s"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !contains(r.CapaBefore, "STLS") || contains(r.CapaBefore, "USER") {
		t.Errorf("CAPA before STLS: %v", r.CapaBefore)
	}
	if !strings.Contains(r.UserBefore, "-ERR [AUTH] USER command only available under a layer") {
		t.Errorf("USER before STLS: %q", r.UserBefore)
	}
	if contains(r.CapaAfter, "STLS") || !contains(r.CapaAfter, "USER") {
		t.Errorf("CAPA after STLS: %v", r.CapaAfter)
	}
	if r.Stat[0] != 1 || r.StatS[0] != 1 || !strings.HasPrefix(r.GreetingS, "+OK localhost") {
		t.Errorf("sessions: %+v", r)
	}
	s.WaitLog(10*time.Second, "alice plaintext+TLS User logged in", 2)
}

// Two sessions on one maildrop, as with Cyrus: each works on the
// snapshot it took at login; mail delivered meanwhile appears in the next
// session.
func TestTwoSessions(t *testing.T) {
	t.Parallel()
	s := start(t, harness.MailOptions{})
	s.deliver("alice", testMessages...)
	out := harness.Python(t, pyDeliver+`
port = int(sys.argv[1])
def login():
    p = poplib.POP3("127.0.0.1", port, timeout=20)
    p.user("alice")
    p.pass_("pass")
    return p
r = {}
a, b = login(), login()
deliver(sys.argv[2], int(sys.argv[3]), "alice", ["Subject: late\r\n\r\nlate\r\n"])
a.dele(1)
a.quit()
r["b_stat"] = b.stat()[0]
r["b_uidl"] = [l.decode() for l in b.uidl()[1]]
r["b_retr1"] = len(b.retr(1)[1])
b.dele(2)
b.quit()
c = login()
r["c_stat"] = c.stat()[0]
r["c_subjects"] = [[l.decode() for l in c.top(i, 0)[1] if l.startswith(b"Subject:")][0] for i in range(1, c.stat()[0] + 1)]
c.quit()
print(json.dumps(r))
`, strconv.Itoa(s.POP3), s.method, s.deliverPort(s.method))
	var r struct {
		BStat     int      `json:"b_stat"`
		BUIDL     []string `json:"b_uidl"`
		BRetr1    int      `json:"b_retr1"`
		CStat     int      `json:"c_stat"`
		CSubjects []string `json:"c_subjects"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r.BStat != 3 || len(r.BUIDL) != 3 || r.BRetr1 == 0 {
		t.Errorf("second session after the first one's QUIT: %+v", r)
	}
	if got := strings.Join(r.CSubjects, "|"); r.CStat != 2 || got != "Subject: third|Subject: late" {
		t.Errorf("third session: %d messages %q", r.CStat, got)
	}
}

const pop3test = "/usr/lib/cyrus/bin/pop3test"

// runClient runs an interactive client with input, bounded in time.
func runClient(t *testing.T, input string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(input)
	out, _ := cmd.CombinedOutput() // the output tells; these exit non-zero at times
	if ctx.Err() != nil {
		t.Fatalf("%s timed out; output:\n%s", name, out)
	}
	return string(out)
}

// Debian's pop3test (cyrus-clients) with USER/PASS, SASL PLAIN and
// SCRAM-SHA-256.
func TestPop3test(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(pop3test); err != nil {
		t.Skip("pop3test not installed (apt-get install cyrus-clients)")
	}
	s := start(t, harness.MailOptions{})
	s.deliver("alice", testMessages...)
	port := strconv.Itoa(s.POP3)
	for _, mech := range []string{"user", "PLAIN", "SCRAM-SHA-256"} {
		// pop3test sends QUIT itself at the end of its input.
		out := runClient(t, "STAT\r\nUIDL\r\n", pop3test, "-m", mech, "-a", "alice", "-w", "pass", "-p", port, "127.0.0.1")
		if !strings.Contains(out, "+OK 3 ") || !strings.Contains(out, "unique-id listing follows") {
			t.Errorf("pop3test -m %s:\n%s", mech, out)
		}
	}
	out := runClient(t, "", pop3test, "-m", "PLAIN", "-a", "alice", "-w", "wrong", "-p", port, "127.0.0.1")
	if !strings.Contains(out, "-ERR [AUTH]") {
		t.Errorf("pop3test with a wrong password:\n%s", out)
	}
}

// fetchmail: fetch with keep, UIDL-based leave-on-server (a second run
// fetches nothing, a third only what is new), then fetch with delete.
func TestFetchmail(t *testing.T) {
	t.Parallel()
	const fetchmail = "/usr/bin/fetchmail"
	if _, err := os.Stat(fetchmail); err != nil {
		t.Skip("fetchmail not installed (apt-get install fetchmail)")
	}
	s := start(t, harness.MailOptions{})
	s.deliver("alice", testMessages...)
	dir := t.TempDir()
	out := filepath.Join(dir, "mbox")
	run := func(name, options string) (int, string) {
		rc := filepath.Join(dir, name+".rc")
		conf := "set no bouncemail\nset no syslog\n" +
			"poll 127.0.0.1 with service " + strconv.Itoa(s.POP3) + " protocol POP3 uidl auth password timeout 20:\n" +
			"  user \"alice\" there with password \"pass\" is \"root\" here\n" +
			"  options " + options + " sslproto '' mda \"cat >> " + out + "\"\n"
		if err := os.WriteFile(rc, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, fetchmail, "-f", rc, "--idfile", filepath.Join(dir, "ids"), "--pidfile", filepath.Join(dir, "pid"), "-v")
		cmd.Env = append(os.Environ(), "HOME="+dir)
		b, err := cmd.CombinedOutput()
		if ctx.Err() != nil {
			t.Fatalf("fetchmail %s timed out:\n%s", name, b)
		}
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("fetchmail %s: %v", name, err)
		}
		return code, string(b)
	}
	fetched := func() int {
		b, _ := os.ReadFile(out)
		return strings.Count(string(b), "Message-ID: <")
	}
	// fetchmail's exit status: 0 mail fetched, 1 no mail.
	if code, log := run("keep", "keep"); code != 0 || fetched() != 3 {
		t.Fatalf("fetch with keep: exit %d, %d messages\n%s", code, fetched(), log)
	}
	if code, log := run("again", "keep"); code != 1 || fetched() != 3 {
		t.Fatalf("second fetch with keep and UIDL: exit %d, %d messages\n%s", code, fetched(), log)
	}
	s.deliver("alice", "From: sender@example.com\r\nSubject: new\r\nMessage-ID: <new@example.com>\r\n\r\nnew\r\n")
	if code, log := run("new", "keep"); code != 0 || fetched() != 4 {
		t.Fatalf("fetch after a delivery: exit %d, %d messages\n%s", code, fetched(), log)
	}
	if code, log := run("delete", "nokeep fetchall"); code != 0 || fetched() != 8 {
		t.Fatalf("fetch with delete: exit %d, %d messages\n%s", code, fetched(), log)
	}
	if code, log := run("empty", "nokeep fetchall"); code != 1 {
		t.Fatalf("fetch from the emptied maildrop: exit %d\n%s", code, log)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
