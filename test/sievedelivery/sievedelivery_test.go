// Package sievedelivery_test runs users' Sieve scripts end to end under
// the real master: a script uploaded through ManageSieve (timsieved),
// messages delivered through LMTP (lmtpd), the result read over IMAP
// (imapd), and the messages lmtpd sends caught by smtptest's stand-ins,
// once per smtp_backend.
package sievedelivery_test

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/smtpclient/smtptest"
	"github.com/cyrusgo/cyrusgo/libcyrus/tlsconf"
	"github.com/cyrusgo/cyrusgo/test/harness"
)

// script is uploaded with @WORKID@ replaced by the MAILBOXID of
// INBOX.Work, which the client learns from CREATE.
const script = `require ["fileinto", "vacation", "editheader", "mailbox", "special-use", "mailboxid", "reject", "imap4flags", "mboxmetadata"];
if header :contains "subject" "work" { addheader "X-Filed" "work"; deleteheader "X-Junk"; deleteheader "Received"; fileinto "INBOX.Work"; stop; }
if header :contains "subject" "spam" { fileinto :specialuse "\\Junk" "INBOX.Spam"; stop; }
if header :contains "subject" "byid" { fileinto :mailboxid "@WORKID@" "INBOX.Nope"; stop; }
if header :contains "subject" "create" { fileinto :create :specialuse "\\Archive" "INBOX.Made"; stop; }
if header :contains "subject" "fwd" { addheader :last "X-Fwd" "yes"; redirect "elsewhere@example.net"; stop; }
if header :contains "subject" "vac" { addheader "X-Vac" "1"; vacation :days 1 :subject "Away" "I am away"; }
if header :contains "subject" "bounce" { reject "not wanted"; stop; }
if allof(header :contains "subject" "meta", metadata "INBOX" "/private/comment" "route me") { fileinto "INBOX.Work"; stop; }
if allof(header :contains "subject" "tests", specialuse_exists "\\Junk", specialuse_exists "INBOX" "\\Inbox",
         mailboxexists "INBOX.Work", not mailboxexists "INBOX.Nope", mailboxidexists "@WORKID@") {
  addflag "\\Flagged"; fileinto "INBOX.Work"; stop;
}
`

// client: an IMAP login (which creates the INBOX), CREATEs (one with a
// special use), a raw ManageSieve PUTSCRIPT and SETACTIVE with
// AUTHENTICATE PLAIN, LMTP deliveries, then what each folder holds.
const client = `
import base64, imaplib, re, smtplib, socket, sys
imap_port, sieve_port, lmtp_port, script = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

m = imaplib.IMAP4("127.0.0.1", imap_port)
m.login("alice", "apass")
typ, data = m.create("INBOX.Work")
assert typ == "OK", typ
workid = re.search(rb"MAILBOXID \(([^)]+)\)", data[0]).group(1).decode()
typ, data = m._simple_command("CREATE", "INBOX.Junk", "(USE (\\Junk))")
assert typ == "OK", (typ, data)
imaplib.Commands["SETMETADATA"] = ("AUTH", "SELECTED")
typ, data = m._simple_command("SETMETADATA", "INBOX", '(/private/comment "route me")')
assert typ == "OK", (typ, data)
m.logout()
script = script.replace("@WORKID@", workid)

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
    return ("From: sender@example.com\r\nTo: alice@localhost\r\nSubject: %s\r\nX-Junk: drop me\r\n"
            "Message-ID: %s\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\n\r\nhello\r\n") % (subject, mid)
for i, subject in enumerate(["about work", "spam offer", "byid", "create it", "fwd this", "vac test", "bounce me", "tests", "meta data", "plain"]):
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
for box in ["INBOX", "INBOX.Work", "INBOX.Junk", "INBOX.Made"]:
    typ, data = m.select(box)
    print("EXISTS", box, int(data[0]))
    typ, data = m.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT X-FILED X-JUNK X-VAC RECEIVED)])")
    for part in data:
        if isinstance(part, tuple):
            flags = re.search(rb"FLAGS \(([^)]*)\)", part[0]).group(1).decode()
            hdr = part[1].decode().replace("\r\n", "|")
            print("MSG", box, flags + "|" + hdr)
typ, data = m.list('""', "INBOX.Made")
print("LIST", data[0].decode())
m.logout()
`

// run starts a server with conf, runs the client and checks the
// folders; captured returns what was sent.
func run(t *testing.T, conf string, captured func() []smtptest.Message) {
	m := harness.StartMail(t, harness.MailOptions{
		Users:     map[string]string{"alice": "apass"},
		ImapdConf: "sieve_use_lmtp_reject: no\n" + conf,
	})
	out := harness.Python(t, client, strconv.Itoa(m.IMAP), strconv.Itoa(m.Sieve), strconv.Itoa(m.LMTP), script)
	for _, want := range []string{
		"DATA about 250", "DATA spam 250", "DATA byid 250", "DATA create 250", "DATA fwd 250", "DATA vac 250", "DATA bounce 250", "DATA tests 250", "DATA meta 250", "DATA plain 250",
		"EXISTS INBOX 2", "EXISTS INBOX.Work 4", "EXISTS INBOX.Junk 1", "EXISTS INBOX.Made 1", `\Archive`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("client output lacks %q:\n%s\n%s", want, out, m.Log())
		}
	}
	// The stored copies (FLAGS, then the fields asked for, "|" for CRLF).
	for _, tc := range []struct {
		box, subject string
		has, lacks   []string
	}{
		// editheader: the edits are stored; Received cannot be deleted.
		{box: "INBOX.Work", subject: "about work", has: []string{"|X-Filed: work|", "Received: "}, lacks: []string{"X-Junk"}},
		// the implicit keep stores the edited message
		{box: "INBOX", subject: "vac test", has: []string{"X-Vac: 1|"}},
		{box: "INBOX", subject: "plain", has: []string{"X-Junk: drop me"}, lacks: []string{"X-Vac", "X-Filed"}},
		{box: "INBOX.Work", subject: "tests", has: []string{`\Flagged`}},
		{box: "INBOX.Work", subject: "byid"},
		// mboxmetadata: the INBOX's private comment, set over IMAP
		{box: "INBOX.Work", subject: "meta data"},
		{box: "INBOX.Junk", subject: "spam offer"},
		{box: "INBOX.Made", subject: "create it"},
	} {
		line := ""
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "MSG "+tc.box+" ") && strings.Contains(l, "|Subject: "+tc.subject+"|") {
				line = "|" + l
			}
		}
		if line == "" {
			t.Errorf("no message %q in %s:\n%s", tc.subject, tc.box, out)
			continue
		}
		for _, h := range tc.has {
			if !strings.Contains(line, h) {
				t.Errorf("%s %q lacks %q: %s", tc.box, tc.subject, h, line)
			}
		}
		for _, h := range tc.lacks {
			if strings.Contains(line, h) {
				t.Errorf("%s %q holds %q: %s", tc.box, tc.subject, h, line)
			}
		}
	}
	msgs := captured()
	var redirect, vacation, reject bool
	for _, c := range msgs {
		switch {
		case c.From() == "sender@example.com" && strings.Join(c.To(), ",") == "elsewhere@example.net":
			redirect = strings.Contains(c.Data, "X-Sieve-Redirected-By: alice@") && strings.Contains(c.Data, "Subject: fwd this") &&
				strings.Contains(c.Data, "X-Fwd: yes\r\n\r\nhello") && !strings.Contains(c.Data, "Return-Path:")
		case c.From() == "" && strings.Contains(c.Data, "I am away"):
			vacation = strings.Join(c.To(), ",") == "sender@example.com" && strings.Contains(c.Data, "Subject: Away\r\n") &&
				strings.Contains(c.Data, "Auto-Submitted: auto-replied (vacation)")
		case c.From() == "" && strings.Contains(c.Data, "Automatically rejected mail"):
			// RFC 5293 7 aside, the bounce quotes the message as received.
			reject = strings.Join(c.To(), ",") == "sender@example.com" && strings.Contains(c.Data, "not wanted") &&
				strings.Contains(c.Data, "Subject: bounce me")
		}
		if !strings.Contains(c.Mail, "AUTH=alice") {
			t.Errorf("MAIL %q lacks AUTH=alice", c.Mail)
		}
	}
	if !redirect || !vacation || !reject || len(msgs) != 3 {
		t.Errorf("captured %d messages, redirect %v, vacation %v, reject %v: %+v\n%s", len(msgs), redirect, vacation, reject, msgs, m.Log())
	}
}

// TestSieveDeliveryEndToEnd: smtp_backend: sendmail (the default), the
// sendmail option naming a "sendmail -bs" stand-in.
func TestSieveDeliveryEndToEnd(t *testing.T) {
	t.Parallel()
	sendmail, dir := smtptest.Sendmail(t)
	run(t, "sendmail: "+sendmail+"\n", func() []smtptest.Message {
		msgs := smtptest.Read(t, dir)
		for _, c := range msgs {
			if c.Argv != "-bs" {
				t.Errorf("sendmail run with %q, want -bs", c.Argv)
			}
		}
		return msgs
	})
}

// TestSieveDeliveryHostBackend: smtp_backend: host, over STARTTLS
// ("/tls", the certificate checked against tls_server_ca_file) with AUTH
// PLAIN.
func TestSieveDeliveryHostBackend(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := tlsconf.SelfSigned(cert, key, []string{"127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	os.Chmod(cert, 0o644)
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	srv := smtptest.Listen(t, smtptest.ServerOptions{TLS: &tls.Config{Certificates: []tls.Certificate{pair}}, User: "relay", Password: "secret"})
	conf := "smtp_backend: host\nsmtp_host: " + srv.Addr + "/tls\nsmtp_auth_authname: relay\nsmtp_auth_password: secret\n" +
		"tls_server_ca_file: " + cert + "\nsendmail: /nonexistent/sendmail\n"
	run(t, conf, func() []smtptest.Message {
		msgs := smtptest.Read(t, srv.Dir)
		for _, c := range msgs {
			if !c.TLS || c.Auth != "relay" {
				t.Errorf("message sent without TLS or AUTH: %+v", c)
			}
		}
		return msgs
	})
}
