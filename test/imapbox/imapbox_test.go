// End-to-end tests of the mailbox commands of imapd (CREATE, DELETE,
// RENAME, SUBSCRIBE, LIST, APPEND, ACL, QUOTA) under the real master,
// with independent clients: Python's imaplib and Debian's cyradm.
package imapbox_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/test/harness"
)

var users = map[string]string{"alice": "pass", "bob": "word", "cyrus": "secret"}

// wantAll fails for every want missing from out.
func wantAll(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestMailboxWorkflow(t *testing.T) {
	t.Parallel()
	m := harness.StartMail(t, harness.MailOptions{Users: users})
	out := harness.Python(t, `
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login("alice", "pass")
print("ns", m.namespace()[1][0].decode())
for name in ["INBOX.Drafts", "INBOX.Work", "INBOX.Work.Projects", "INBOX.Deep.Er"]:
    print("create", name, m.create(name)[0])
print("dup", m.create("INBOX.Drafts"))
print("other", m.create("user.bob.x"))
print("special", m._simple_command("CREATE", "INBOX.Sent", "(USE (\\Sent))"))
typ, data = m.list('""', "*")
for l in data: print("list", l.decode())
typ, data = m.list('""', "%")
for l in data: print("top", l.decode())
print("sub", m.subscribe("INBOX.Work")[0])
typ, data = m.lsub('""', "*")
for l in data: print("lsub", l.decode())
print("haschildren", m.delete("INBOX.Work"))
print("rename", m.rename("INBOX.Work", "INBOX.Play"))
typ, data = m.list('""', "INBOX.Play*")
for l in data: print("renamed", l.decode())
typ, data = m.lsub('""', "*")
for l in data: print("lsub2", l.decode())
print("del1", m.delete("INBOX.Play.Projects")[0])
print("del2", m.delete("INBOX.Play")[0])
print("delinbox", m.delete("INBOX"))
print("unsub", m.unsubscribe("INBOX.Play")[0])
typ, data = m.status("INBOX.Drafts", "(MESSAGES UIDNEXT UNSEEN)")
print("status", data[0].decode())
typ, data = m.append("INBOX.Drafts", r"(\Seen \Draft)", imaplib.Time2Internaldate(1700000000),
    b"From: alice@example.com\r\nSubject: draft\r\n\r\nhello\r\n")
print("append", typ, data[0].decode())
typ, data = m.select("INBOX.Drafts")
print("select", typ, data[0].decode())
typ, data = m.uid("FETCH", "1:*", "(UID FLAGS RFC822.SIZE BODY[HEADER.FIELDS (SUBJECT)])")
print("fetch", data[0][0].decode(), data[0][1].decode().strip())
typ, data = m.append("INBOX.Drafts", None, None, b"Subject: two\r\n\r\nbody\r\n")
print("append2", typ, data[0].decode(), m.untagged_responses.get("EXISTS"))
typ, data = m.append("INBOX.Missing", None, None, b"Subject: x\r\n\r\nbody\r\n")
print("missing", typ, data[0].decode())
m.logout()
`, strconv.Itoa(m.IMAP))
	wantAll(t, out,
		`ns (("INBOX." ".")) (("user." ".")) (("" "."))`,
		"create INBOX.Deep.Er OK",
		"dup ('NO', [b'Mailbox already exists'])",
		"other ('NO', [b'Permission denied'])",
		"special ('OK', [b'[MAILBOXID (",
		`list (\HasChildren) "." INBOX`,
		`list (\HasChildren) "." INBOX.Deep`,
		`list (\HasNoChildren \Sent) "." INBOX.Sent`,
		`list (\HasNoChildren) "." INBOX.Work.Projects`,
		`top (\HasChildren) "." INBOX`,
		`lsub () "." INBOX.Work`,
		"haschildren ('NO', [b'[HASCHILDREN] Mailbox has inferior hierarchical names'])",
		"rename ('OK', [b'Completed'])",
		`renamed (\HasNoChildren) "." INBOX.Play.Projects`,
		`lsub2 () "." INBOX.Play`,
		"del1 OK", "del2 OK",
		"delinbox ('NO', [b'Operation is not supported on mailbox'])",
		"status INBOX.Drafts (MESSAGES 0 UIDNEXT 1 UNSEEN 0)",
		"append OK [APPENDUID ",
		"select OK 1",
		`\Seen`, `\Draft`, "RFC822.SIZE 50", "Subject: draft",
		"append2 OK [APPENDUID ", "b'2']",
		"missing NO [TRYCREATE] Mailbox does not exist",
	)
}

// TestAppendLimits: MULTIAPPEND, maxmessagesize and quota, with an
// admin setting the quota as cyradm would.
func TestAppendLimits(t *testing.T) {
	t.Parallel()
	m := harness.StartMail(t, harness.MailOptions{Users: users, ImapdConf: "maxmessagesize: 20000\n"})
	out := harness.Python(t, `
import imaplib, socket, sys
port = int(sys.argv[1])
m = imaplib.IMAP4("127.0.0.1", port)
m.login("alice", "pass")
m.create("INBOX.Sent")
m.logout()

# MULTIAPPEND (RFC 3502), spoken by hand: imaplib has no form of it.
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
def line():
    return f.readline().decode().rstrip("\r\n")
def answer(tag):
    while True:
        l = line()
        if l.startswith(tag + " "):
            return l
line()
s.sendall(b"a LOGIN alice pass\r\n"); answer("a")
m1 = b"Subject: one\r\n\r\nbody\r\n"
m2 = b"Subject: two\r\n\r\nbody\r\n"
s.sendall(b"b APPEND INBOX.Sent (\\Seen) {%d+}\r\n%s {%d+}\r\n%s\r\n" % (len(m1), m1, len(m2), m2))
print("multi", answer("b"))
s.sendall(b"c APPEND INBOX {30000}\r\n")
print("toobig", answer("c"))
s.sendall(b"d APPEND INBOX {5+}\r\nx\ny: \r\n")
print("barelf", answer("d"))
s.sendall(b"e STATUS INBOX.Sent (MESSAGES UNSEEN)\r\n")
print("status", line(), answer("e"))
s.close()

adm = imaplib.IMAP4("127.0.0.1", port)
adm.login("cyrus", "secret")
print("setquota", adm.setquota("user.alice", "(STORAGE 1)"))
print("getquota", adm.getquota("user.alice"))

m = imaplib.IMAP4("127.0.0.1", port)
m.login("alice", "pass")
print("root", m.getquotaroot("INBOX"))
big = b"Subject: big\r\n\r\n" + b"x" * 2000 + b"\r\n"
typ, data = m.append("INBOX", None, None, big)
print("overquota", typ, data[0].decode())
typ, data = m.append("INBOX", None, None, b"Subject: small\r\n\r\nbody\r\n")
print("small", typ, data[0].decode())
print("usersetquota", m.setquota("INBOX", "(STORAGE 100000)"))
print("raise", adm.setquota("user.alice", "(STORAGE 100)"))
typ, data = m.append("INBOX", None, None, big)
print("fits", typ, data[0].decode())
print("getquota2", adm.getquota("user.alice"))
m.logout()
adm.logout()
`, strconv.Itoa(m.IMAP))
	wantAll(t, out,
		"multi b OK [APPENDUID ", " 1:2] Completed",
		"toobig c NO [TOOBIG] Message size exceeds fixed limit",
		"barelf d NO Message contains bare newlines",
		"status * STATUS INBOX.Sent (MESSAGES 2 UNSEEN 1) e OK",
		"setquota ('OK'",
		"getquota ('OK', [b'user.alice (STORAGE 0 1)'])",
		"root ('OK', [[b'INBOX INBOX'], [b'INBOX (STORAGE 0 1)']])",
		"overquota NO [OVERQUOTA] Over quota",
		"small OK [APPENDUID ",
		"usersetquota ('NO', [b'Permission denied'])",
		"fits OK [APPENDUID ",
		"getquota2 ('OK', [b'user.alice (STORAGE 2 100)'])",
	)
}

// TestACLBetweenUsers: bob sees nothing of alice's until she grants him
// rights, and then only what she granted.
func TestACLBetweenUsers(t *testing.T) {
	t.Parallel()
	m := harness.StartMail(t, harness.MailOptions{Users: users})
	out := harness.Python(t, `
import imaplib, sys
port = int(sys.argv[1])
a = imaplib.IMAP4("127.0.0.1", port)
a.login("alice", "pass")
a.create("INBOX.Shared")
a.create("INBOX.Private")
a.append("INBOX.Shared", None, None, b"Subject: shared\r\n\r\nfor bob\r\n")
a.append("INBOX.Private", None, None, b"Subject: private\r\n\r\nnot for bob\r\n")
b = imaplib.IMAP4("127.0.0.1", port)
b.login("bob", "word")
print("before", b.list('""', "user.*"))
print("selbefore", b.select("user.alice.Shared"))
print("aclbefore", b.getacl("user.alice.Shared"))
print("grant", a.setacl("INBOX.Shared", "bob", "lrs"))
print("acl", a.getacl("INBOX.Shared"))
try:
    print("bad", a.setacl("INBOX.Shared", "bob", "lrZ"))
except imaplib.IMAP4.error as e:
    print("bad", e)
print("after", b.list('""', "user.*"))
print("top", b.list('""', "%"))
print("rights", b.myrights("user.alice.Shared"))
typ, data = b.select("user.alice.Shared", readonly=True)
print("sel", typ, data)
typ, data = b.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
print("fetch", data[0][1].decode().strip())
print("private", b.select("user.alice.Private"))
print("append", b.append("user.alice.Shared", None, None, b"Subject: x\r\n\r\ny\r\n"))
print("delete", b.delete("user.alice.Shared"))
print("setacl", b.setacl("user.alice.Shared", "bob", "lrswipkxtea"))
print("revoke", a.deleteacl("INBOX.Shared", "bob"))
print("gone", b.list('""', "user.*"))
a.logout()
b.logout()
`, strconv.Itoa(m.IMAP))
	wantAll(t, out,
		"before ('OK', [None])",
		"selbefore ('NO', [b'",
		"aclbefore ('NO', [b'Mailbox does not exist'])",
		"grant ('OK'",
		"acl ('OK', [b'INBOX.Shared alice lrswipkxtecdan bob lrs'])",
		"bad SETACL command error: BAD [b'The Z right is not supported']",
		`after ('OK', [b'(\\HasNoChildren) "." user.alice.Shared'])`,
		`top ('OK', [b'(\\HasNoChildren) "." INBOX', b'(\\Noselect \\HasChildren) "." user'])`,
		"rights ('OK', [b'user.alice.Shared lrs'])",
		"sel OK [b'1']",
		"fetch Subject: shared",
		"private ('NO', [b'",
		"append ('NO', [b'Permission denied'])",
		"delete ('NO', [b'Permission denied'])",
		"setacl ('NO', [b'Permission denied'])",
		"revoke ('OK'",
		"gone ('OK', [None])",
	)
	if strings.Contains(out, "not for bob") {
		t.Error("bob read alice's private mail")
	}
}

// TestCyradm drives Debian's cyradm (cyrus-admin), as an administrator
// manages users: create a user, list, set an ACL and a quota, delete it.
func TestCyradm(t *testing.T) {
	t.Parallel()
	m := harness.StartMail(t, harness.MailOptions{Users: users})
	got := harness.Cyradm(t, m.IMAP, "cyrus", "secret",
		"cm user.bob",
		"cm user.bob.Sent",
		"lm",
		"sam user.bob alice lr",
		"lam user.bob",
		"sq user.bob 1000",
		"lq user.bob",
		"dm user.bob",
		"lm user.bob*",
	)
	t.Logf("cyradm:\n%s", got)
	wantAll(t, got,
		"user.bob (\\HasChildren)",
		"user.bob.Sent (\\HasNoChildren)",
		"alice lr",
		"bob lrswipkxtecdan",
		"STORAGE 0/1000 (0%)",
	)
	for _, bad := range []string{"cannot authenticate", "createmailbox:", "deletemailbox:", "setaclmailbox:", "setquota:"} {
		if strings.Contains(got, bad) {
			t.Errorf("cyradm reported %q:\n%s", bad, got)
		}
	}
	// After dm, the user is gone: the last lm of user.bob* lists nothing.
	if i := strings.LastIndex(got, "lm user.bob*"); i >= 0 && strings.Contains(got[i:], "user.bob ") {
		t.Errorf("user.bob still listed after dm:\n%s", got)
	}
}
