package imap_test

// METADATA (RFC 5464) and LIST-METADATA (RFC 9590) under the real
// master, where every imapd reaches the annotations through master's
// database socket, with clients written elsewhere: Debian's cyradm
// (mboxcfg, setinfo and info use SETMETADATA and GETMETADATA on Cyrus
// 3.x) and Python's imaplib (raw commands: it has no METADATA methods).

import (
	"strconv"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/test/harness"
)

var metaUsers = map[string]string{"alice": "pass", "bob": "word", "cyrus": "secret"}

func wantLines(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestMetadataCyradm(t *testing.T) {
	t.Parallel()
	m := harness.StartMail(t, harness.MailOptions{Users: metaUsers})
	out := harness.Cyradm(t, m.IMAP, "cyrus", "secret",
		"cm user.bob",
		"cm user.bob.Sent",
		"mboxcfg user.bob comment bob-mailbox",
		"mboxcfg --private user.bob.Sent comment mine",
		"setinfo comment all-servers",
		"info user.bob",
		"info user.bob.Sent",
		"info",
		"mboxcfg user.bob comment none",
		"mboxcfg user.bob /vendor/example/x nope",
		"info user.bob",
	)
	t.Logf("cyradm:\n%s", out)
	wantLines(t, out,
		"{user.bob}:",
		"  shared:",
		"    comment: bob-mailbox",
		"    partition: default",
		"    size: 0",
		"{user.bob.Sent}:",
		"  private:",
		"    comment: mine",
		"{Server Wide}",
		"    comment: all-servers",
		// annotation_allow_undefined is off, as in Cyrus.
		"mboxconfig: Permission denied",
	)
	if strings.Count(out, "comment: bob-mailbox") != 1 {
		t.Errorf("the comment survived mboxcfg ... none:\n%s", out)
	}
	for _, bad := range []string{"Remote does not support METADATA", "Unknown parameter", "setinfo:"} {
		if strings.Contains(out, bad) {
			t.Errorf("cyradm reported %q:\n%s", bad, out)
		}
	}
}

func TestMetadataImaplib(t *testing.T) {
	t.Parallel()
	m := harness.StartMail(t, harness.MailOptions{Users: metaUsers})
	out := harness.Python(t, `
import imaplib, sys
imaplib.Commands["GETMETADATA"] = ("AUTH", "SELECTED")
imaplib.Commands["SETMETADATA"] = ("AUTH", "SELECTED")
port = int(sys.argv[1])

def run(m, label, *args):
    typ, dat = m._simple_command(*args)
    meta = m.untagged_responses.pop("METADATA", [])
    print(label, typ, dat[0].decode() if dat and dat[0] else "", meta)

a = imaplib.IMAP4("127.0.0.1", port)
a.login("alice", "pass")
caps = a.capability()[1][0].decode().split()
print("caps", "METADATA" in caps, "LIST-METADATA" in caps)
for name in ["INBOX.Work", "INBOX.Work.Sub", "INBOX.Old"]:
    a.create(name)
run(a, "set", "SETMETADATA", "INBOX.Work", '(/shared/comment "work" /private/comment "50%")')
run(a, "setsub", "SETMETADATA", "INBOX.Work.Sub", '(/shared/comment "sub")')
run(a, "get", "GETMETADATA", "INBOX.Work", "(/shared/comment /private/comment /shared/sort)")
run(a, "maxsize", "GETMETADATA", "(MAXSIZE 3)", "INBOX.Work", "(/shared/comment /private/comment)")
run(a, "undefined", "SETMETADATA", "INBOX", '(/shared/vendor/example/x "v")')
run(a, "use", "SETMETADATA", "INBOX.Old", '(/private/specialuse "\\\\Archive")')
typ, dat = a.list('""', "INBOX.Old")
print("list", dat[0].decode())
run(a, "protect", "DELETE", "INBOX.Old")
print("rename", a.rename("INBOX.Work", "INBOX.Play")[0])
run(a, "moved", "GETMETADATA", "INBOX.Play", "(/shared/comment /private/comment)")
run(a, "movedsub", "GETMETADATA", "INBOX.Play.Sub", "/shared/comment")
a.create("INBOX.Work")
run(a, "fresh", "GETMETADATA", "INBOX.Work", "/shared/comment")
typ, dat = a._simple_command("LIST", '""', "INBOX.Play*", "RETURN", "(METADATA (/shared/comment))")
print("listmeta", typ, a.untagged_responses.pop("METADATA", []))
print("delete", a.delete("INBOX.Play.Sub")[0])
a.create("INBOX.Play.Sub")
run(a, "recreated", "GETMETADATA", "INBOX.Play.Sub", "/shared/comment")
run(a, "server", "SETMETADATA", '""', '(/shared/comment "x")')

# Another process sees the values at once: they live in master's database.
b = imaplib.IMAP4("127.0.0.1", port)
b.login("bob", "word")
run(b, "bob-hidden", "GETMETADATA", "user.alice.Play", "/shared/comment")
run(b, "bob-server", "GETMETADATA", '""', "/shared/comment")
b.logout()
a.logout()
`, strconv.Itoa(m.IMAP))
	t.Logf("imaplib:\n%s", out)
	wantLines(t, out,
		"caps True True",
		"set OK Completed []",
		// imaplib gives a literal as a (line, data) tuple.
		`get OK Completed [(b'INBOX.Work ("/shared/comment" "work" "/private/comment" {3}', b'50%'), b' "/shared/sort" NIL)']`,
		`maxsize OK [METADATA LONGENTRIES 4] Completed [(b'INBOX.Work ("/private/comment" {3}', b'50%'), b')'`,
		"undefined NO Permission denied",
		"use OK Completed",
		`list (\HasNoChildren \Archive) "." INBOX.Old`,
		"protect NO SPECIAL-USE flag conflict",
		"rename OK",
		`moved OK Completed [(b'INBOX.Play ("/shared/comment" "work" "/private/comment" {3}', b'50%'), b')']`,
		`movedsub OK Completed [b'INBOX.Play.Sub ("/shared/comment" "sub")']`,
		`fresh OK Completed [b'INBOX.Work ("/shared/comment" NIL)']`,
		`listmeta OK [b'INBOX.Play ("/shared/comment" "work")', b'INBOX.Play.Sub ("/shared/comment" "sub")']`,
		"delete OK",
		`recreated OK Completed [b'INBOX.Play.Sub ("/shared/comment" NIL)']`,
		"server NO Permission denied",
		"bob-hidden NO Mailbox does not exist",
		`bob-server OK Completed [b'"" ("/shared/comment" NIL)']`,
	)
}
