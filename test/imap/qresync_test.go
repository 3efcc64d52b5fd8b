package imap_test

// CONDSTORE and QRESYNC (RFC 7162) and ESEARCH (RFC 4731) against the
// real master: one client changes flags and expunges while another,
// having gone away, comes back with SELECT (QRESYNC ...), then stays
// selected and is told of further expunges with VANISHED.

import (
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/cyrusgo/cyrusgo/test/harness"
)

// qresyncScript drives two sessions: "changer" with imaplib, "resync"
// over a raw socket, since imaplib knows nothing of VANISHED. It prints
// the resync session's lines of interest, one section per step.
const qresyncScript = `
import imaplib, socket, sys, re
port = int(sys.argv[1])
a = imaplib.IMAP4("127.0.0.1", port)
a.login("alice", "pass")
for i in range(4):
    a.append("INBOX", None, None, ("Subject: m%d\r\n\r\nbody %d\r\n" % (i, i)).encode())
a.select("INBOX")

class Raw:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.f = self.s.makefile("rb")
        self.f.readline()
        self.n = 0
    def cmd(self, text):
        self.n += 1
        tag = "r%d" % self.n
        self.s.sendall(("%s %s\r\n" % (tag, text)).encode())
        out = []
        while True:
            l = self.f.readline().decode().rstrip("\r\n")
            out.append(l)
            if l.startswith(tag + " "):
                return out
    def close(self):
        self.cmd("LOGOUT")
        self.s.close()

def show(step, lines):
    print("== " + step)
    for l in lines:
        if "VANISHED" in l or " FETCH " in l or l.startswith("r") or "HIGHESTMODSEQ" in l or "ENABLED" in l:
            print(l)

r = Raw()
r.cmd("LOGIN alice pass")
show("enable", r.cmd("ENABLE QRESYNC"))
sel = r.cmd("SELECT INBOX")
uv = re.search(r"UIDVALIDITY (\d+)", "\n".join(sel)).group(1)
hms = re.search(r"HIGHESTMODSEQ (\d+)", "\n".join(sel)).group(1)
r.close()

# Offline changes: a flag on UID 2, UIDs 1 and 3 expunged.
a.uid("STORE", "2", "+FLAGS", "(\\Flagged)")
a.uid("STORE", "1,3", "+FLAGS", "(\\Deleted)")
a.expunge()

r = Raw()
r.cmd("LOGIN alice pass")
r.cmd("ENABLE QRESYNC")
show("resync", r.cmd("SELECT INBOX (QRESYNC (%s %s 1:4))" % (uv, hms)))

# While selected: another flag change and an expunge by the other session.
a.uid("STORE", "2", "+FLAGS", "(\\Seen)")
a.uid("STORE", "4", "+FLAGS", "(\\Deleted)")
a.expunge()
show("noop", r.cmd("NOOP"))
show("fetch", r.cmd("UID FETCH 1:* (FLAGS) (CHANGEDSINCE %s VANISHED)" % hms))
r.close()
a.logout()
`

func TestQresyncTwoSessions(t *testing.T) {
	t.Parallel()
	m := harness.StartMail(t, harness.MailOptions{Users: map[string]string{"alice": "pass"}})
	out := harness.Python(t, qresyncScript, strconv.Itoa(m.IMAP))
	steps := map[string][]string{}
	cur := ""
	for _, l := range strings.Split(out, "\n") {
		if name, ok := strings.CutPrefix(l, "== "); ok {
			cur = name
			continue
		}
		steps[cur] = append(steps[cur], l)
	}
	check := func(step string, want ...string) {
		t.Helper()
		got := steps[step]
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q\nwhole output:\n%s", step, got, want, out)
		}
	}
	check("enable", "* ENABLED CONDSTORE QRESYNC", "r2 OK Completed")
	// Appends took modseqs 2-5; +\Flagged 6, +\Deleted 7-8, expunge 9-10.
	check("resync",
		"* OK [HIGHESTMODSEQ 10] Ok",
		"* VANISHED (EARLIER) 1,3",
		"* 1 FETCH (FLAGS (\\Flagged) UID 2 MODSEQ (6))",
		"r3 OK [READ-WRITE] Completed")
	// +\Seen 11, +\Deleted 12, expunge 13.
	check("noop",
		"* VANISHED 4",
		"* 1 FETCH (FLAGS (\\Flagged \\Seen) UID 2 MODSEQ (11))",
		"r4 OK Completed")
	check("fetch",
		"* VANISHED (EARLIER) 1,3:4",
		"* 1 FETCH (FLAGS (\\Flagged \\Seen) UID 2 MODSEQ (11))",
		"r5 OK Completed")
}

// go-imap v2's CONDSTORE and ESEARCH support against the server:
// SELECT (CONDSTORE), FETCH MODSEQ with CHANGEDSINCE, STORE UNCHANGEDSINCE,
// STATUS HIGHESTMODSEQ and SEARCH RETURN.
func TestGoIMAPCondstore(t *testing.T) {
	t.Parallel()
	m := harness.StartMail(t, harness.MailOptions{Users: map[string]string{"alice": "pass"}})
	c, err := imapclient.DialInsecure(harness.Addr(m.IMAP), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if err := c.Login("alice", "pass").Wait(); err != nil {
		t.Fatalf("login: %v", err)
	}
	for _, cap := range []imap.Cap{imap.CapCondStore, imap.CapQResync, imap.CapESearch, imap.CapSearchRes, imap.CapWithin} {
		if !c.Caps().Has(cap) {
			t.Errorf("capability %s not advertised", cap)
		}
	}
	for i := range 3 {
		msg := "Subject: go " + strconv.Itoa(i) + "\r\n\r\nbody\r\n"
		cmd := c.Append("INBOX", int64(len(msg)), nil)
		cmd.Write([]byte(msg))
		cmd.Close()
		if _, err := cmd.Wait(); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	sel, err := c.Select("INBOX", &imap.SelectOptions{CondStore: true}).Wait()
	if err != nil || sel.HighestModSeq == 0 {
		t.Fatalf("select (CONDSTORE): %+v %v", sel, err)
	}
	st, err := c.Status("INBOX", &imap.StatusOptions{HighestModSeq: true}).Wait()
	if err != nil || st.HighestModSeq != sel.HighestModSeq {
		t.Fatalf("status HIGHESTMODSEQ: %+v %v (select said %d)", st, err, sel.HighestModSeq)
	}
	before := sel.HighestModSeq
	if err := c.Store(imap.UIDSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}, Silent: true},
		&imap.StoreOptions{UnchangedSince: before}).Close(); err != nil {
		t.Fatalf("store UNCHANGEDSINCE: %v", err)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1, 2, 3), &imap.FetchOptions{UID: true, Flags: true, ModSeq: true, ChangedSince: before}).Collect()
	if err != nil {
		t.Fatalf("fetch CHANGEDSINCE: %v", err)
	}
	if len(msgs) != 1 || msgs[0].UID != 2 || msgs[0].ModSeq <= before {
		t.Fatalf("fetch CHANGEDSINCE %d: %+v", before, msgs)
	}
	// The message changed since: a conditional store on it must fail.
	data, err := c.Store(imap.UIDSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}},
		&imap.StoreOptions{UnchangedSince: before}).Collect()
	if err == nil && len(data) != 0 {
		t.Fatalf("conditional store on a changed message: %+v", data)
	}
	res, err := c.UIDSearch(&imap.SearchCriteria{Flag: []imap.Flag{imap.FlagFlagged}},
		&imap.SearchOptions{ReturnMin: true, ReturnMax: true, ReturnCount: true}).Wait()
	if err != nil || res.Min != 2 || res.Max != 2 || res.Count != 1 {
		t.Fatalf("UID SEARCH RETURN (MIN MAX COUNT) FLAGGED: %+v %v", res, err)
	}
	res, err = c.Search(&imap.SearchCriteria{}, &imap.SearchOptions{ReturnAll: true}).Wait()
	if err != nil || strings.Join(strings.Fields(res.All.String()), "") != "1:3" {
		t.Fatalf("SEARCH RETURN (ALL) ALL: %+v %v", res, err)
	}
}
