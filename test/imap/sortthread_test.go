package imap_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/test/harness"
)

// pySortThread delivers a small corpus over LMTP (a first message that
// is expunged again, so that UIDs are sequence numbers plus one) and asks
// SORT, UID SORT, THREAD and UID THREAD through imaplib, one answer a
// line.
const pySortThread = `
import imaplib, smtplib, sys
imap_port, lmtp_port = int(sys.argv[1]), int(sys.argv[2])

def msg(frm, to, subject, date, mid, extra=""):
    h = "From: %s\r\n" % frm
    if to:
        h += "To: %s\r\n" % to
    h += "Subject: %s\r\nDate: %s\r\nMessage-ID: %s\r\n%s" % (subject, date, mid, extra)
    return h + "\r\nbody of %s\r\n" % mid

corpus = [
    msg("junk@example.com", "alice@example.com", "to be expunged", "Mon, 01 Jan 2024 00:00:00 +0000", "<junk@x>"),
    msg("Bob Brown <bob@b.example>", "Zoe <carol@c.example>", "Hello world", "Tue, 02 Jan 2024 10:00:00 +0000", "<m1@x>"),
    msg("alice@a.example", "bob@b.example", "Re: Hello world", "Wed, 03 Jan 2024 09:00:00 +0100", "<m2@x>",
        "In-Reply-To: <m1@x>\r\nReferences: <m1@x>\r\n"),
    msg("=?utf-8?q?=C3=81lvaro?= <zed@z.example>", "Aaron <aaron@a.example>", "[list] Another topic",
        "Mon, 01 Jan 2024 12:00:00 -0500", "<m3@x>"),
    msg("Carol <carol@c.example>", "alice@a.example", "Re: Re: Hello world", "Thu, 04 Jan 2024 00:00:00 +0000", "<m4@x>",
        "References: <m1@x> <m2@x>\r\n"),
    msg("bob@b.example", "", "Fwd: Another topic", "not a date", "<m5@x>"),
    msg("Dave <dave@d.example>", "zed@z.example", "=?utf-8?q?unrelated?=", "Fri, 05 Jan 2024 00:00:00 +0000", "<m6@x>",
        "References: <missing@x>\r\n"),
    msg("eve@e.example", "", "lonely reply", "Sat, 06 Jan 2024 00:00:00 +0000", "<m7@x>",
        "References: <missing@x>\r\n"),
]

M = imaplib.IMAP4("127.0.0.1", imap_port, timeout=20)
M.login("alice", "pass")  # creates the INBOX
L = smtplib.LMTP("127.0.0.1", lmtp_port, timeout=20)
for m in corpus:
    L.sendmail("sender@example.com", ["alice"], m.encode())
L.quit()
typ, data = M.select("INBOX")
assert typ == "OK" and data[0] == b"8", data
M.store("1", "+FLAGS.SILENT", "(\\Deleted)")
M.expunge()
caps = M.capability()[1][0].decode().split()
print("caps", " ".join(c for c in caps if c.startswith("SORT") or c.startswith("THREAD")))

def show(name, res):
    typ, data = res
    print(name, typ, data[0].decode() if data and data[0] is not None else "")

show("date", M.sort("(DATE)", "UTF-8", "ALL"))
show("subject-date", M.sort("(SUBJECT DATE)", "UTF-8", "ALL"))
show("arrival", M.sort("(ARRIVAL)", "US-ASCII", "ALL"))
show("displayfrom", M.sort("(DISPLAYFROM)", "UTF-8", "ALL"))
show("to", M.sort("(TO)", "UTF-8", "ALL"))
show("from-bob", M.sort("(DATE)", "UTF-8", "FROM", "bob"))
show("uid-date", M.uid("SORT", "(DATE)", "UTF-8", "ALL"))
show("references", M.thread("REFERENCES", "UTF-8", "ALL"))
show("orderedsubject", M.thread("ORDEREDSUBJECT", "UTF-8", "ALL"))
show("uid-references", M.uid("THREAD", "REFERENCES", "UTF-8", "ALL"))
show("none", M.thread("REFERENCES", "UTF-8", "SUBJECT", "nothing"))
typ, data = M.sort("(DATE)", "ISO-8859-5", "ALL")
print("badcharset", typ, data[0].decode())
try:
    M.thread("NOSUCH", "UTF-8", "ALL")
    print("bad algorithm accepted")
except imaplib.IMAP4.error as e:
    print("badalg", e)
M.logout()
`

// SORT and THREAD against the real master: messages delivered by the
// real lmtpd, answers from the real imapd (its keys from the cache lmtpd
// wrote), asked by Python's imaplib. Message 5 has no usable Date, so its
// sent date is its arrival, today, after all the others.
func TestSortThread(t *testing.T) {
	t.Parallel()
	m := harness.StartMail(t, harness.MailOptions{Users: map[string]string{"alice": "pass"}})
	out := harness.Python(t, pySortThread, strconv.Itoa(m.IMAP), strconv.Itoa(m.LMTP))
	want := []string{
		"caps SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES",
		"date OK 3 1 2 4 6 7 5",
		"subject-date OK 3 5 1 2 4 7 6",
		"arrival OK 1 2 3 4 5 6 7",
		"displayfrom OK 2 3 1 5 4 6 7",
		"to OK 5 7 3 4 2 1 6",
		"from-bob OK 1 5",
		"uid-date OK 4 2 3 5 7 8 6",
		"references OK (3 5)(1 2 4)((6)(7))",
		"orderedsubject OK (3 5)(1 (2)(4))(6)(7)",
		"uid-references OK (4 6)(2 3 5)((7)(8))",
		"none OK ",
		"badcharset NO [BADCHARSET (UTF-8 US-ASCII)] Unrecognized character set ISO-8859-5",
		"badalg THREAD command error: BAD [b'Invalid Thread algorithm NOSUCH']",
	}
	got := strings.Split(out, "\n")
	for i, w := range want {
		if i >= len(got) || strings.TrimRight(got[i], " ") != strings.TrimRight(w, " ") {
			t.Fatalf("line %d: want %q\nwhole output:\n%s", i+1, w, out)
		}
	}
}
