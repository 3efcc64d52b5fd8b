// Package sievedelivery_test runs users' Sieve scripts end to end under
// the real master: a script uploaded through ManageSieve (timsieved),
// messages delivered through LMTP (lmtpd), the result read over IMAP
// (imapd), and the messages lmtpd sends caught by a sendmail script.
package sievedelivery_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/test/harness"
)

const script = `require ["fileinto", "vacation"];
if header :contains "subject" "work" { fileinto "INBOX.Work"; stop; }
if header :contains "subject" "fwd" { redirect "elsewhere@example.net"; stop; }
if header :contains "subject" "vac" { vacation :days 1 "I am away"; }
`

// client: an IMAP login (which creates the INBOX) and CREATE, a raw
// ManageSieve PUTSCRIPT and SETACTIVE with AUTHENTICATE PLAIN, LMTP
// deliveries, then the EXISTS of each folder.
const client = `
import base64, imaplib, smtplib, socket, sys
imap_port, sieve_port, lmtp_port, script = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

m = imaplib.IMAP4("127.0.0.1", imap_port)
m.login("alice", "apass")
typ, _ = m.create("INBOX.Work")
assert typ == "OK", typ
m.logout()

s = socket.create_connection(("127.0.0.1", sieve_port))
f = s.makefile("rb")
def response():
    lines = []
    while True:
        l = f.readline().decode()
        if not l:
            raise Exception("managesieve closed: %r" % lines)
        lines.append(l)
        if l.startswith(("OK", "NO", "BYE")):
            return "".join(lines)
def do(cmd):
    s.sendall(cmd.encode())
    r = response()
    if not r.splitlines()[-1].startswith("OK"):
        raise Exception("%r: %r" % (cmd, r))
response()
do('AUTHENTICATE "PLAIN" "%s"\r\n' % base64.b64encode(b"\0alice\0apass").decode())
do('PUTSCRIPT "filter" {%d+}\r\n%s\r\n' % (len(script.encode()), script))
do('SETACTIVE "filter"\r\n')
do("LOGOUT\r\n")

def message(mid, subject):
    return ("From: sender@example.com\r\nTo: alice@localhost\r\nSubject: %s\r\n"
            "Message-ID: %s\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\n\r\nhello\r\n") % (subject, mid)
for i, subject in enumerate(["about work", "fwd this", "vac test", "plain"]):
    c = smtplib.LMTP("127.0.0.1", lmtp_port)
    c.ehlo_or_helo_if_needed()
    c.mail("sender@example.com")
    code, resp = c.rcpt("alice@localhost")
    assert code == 250, (code, resp)
    code, resp = c.data(message("<sd-%d@example.com>" % i, subject))
    print("DATA", subject.split()[0], code)
    c.quit()

m = imaplib.IMAP4("127.0.0.1", imap_port)
m.login("alice", "apass")
for box in ["INBOX", "INBOX.Work"]:
    typ, data = m.select(box)
    print("EXISTS", box, int(data[0]))
m.logout()
`

func TestSieveDeliveryEndToEnd(t *testing.T) {
	t.Parallel()
	capture := t.TempDir()
	os.Chmod(capture, 0o777)
	sendmail := filepath.Join(t.TempDir(), "sendmail")
	sh := "#!/bin/sh\nf=$(mktemp " + capture + "/msg.XXXXXX)\n{ for a in \"$@\"; do echo \"arg: $a\"; done; echo; cat; } > \"$f\"\n"
	if err := os.WriteFile(sendmail, []byte(sh), 0o755); err != nil {
		t.Fatal(err)
	}
	m := harness.StartMail(t, harness.MailOptions{
		Users:     map[string]string{"alice": "apass"},
		ImapdConf: "sendmail: " + sendmail + "\n",
	})
	out := harness.Python(t, client, strconv.Itoa(m.IMAP), strconv.Itoa(m.Sieve), strconv.Itoa(m.LMTP), script)
	for _, want := range []string{"DATA about 250", "DATA fwd 250", "DATA vac 250", "DATA plain 250",
		"EXISTS INBOX 2", "EXISTS INBOX.Work 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("client output lacks %q:\n%s\n%s", want, out, m.Log())
		}
	}
	names, _ := filepath.Glob(filepath.Join(capture, "msg.*"))
	var redirect, vacation bool
	for _, n := range names {
		b, _ := os.ReadFile(n)
		s := string(b)
		switch {
		case strings.Contains(s, "arg: elsewhere@example.net") && strings.Contains(s, "arg: sender@example.com") &&
			strings.Contains(s, "X-Sieve-Redirected-By: alice@localhost") && strings.Contains(s, "Subject: fwd this"):
			redirect = true
		case strings.Contains(s, "arg: <>") && strings.Contains(s, "arg: sender@example.com") && strings.Contains(s, "I am away"):
			vacation = true
		}
	}
	if !redirect || !vacation || len(names) != 2 {
		t.Errorf("captured %d messages, redirect %v, vacation %v\n%s", len(names), redirect, vacation, m.Log())
	}
}
