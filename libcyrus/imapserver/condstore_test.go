package imapserver

import (
	"bufio"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/imapwire"
)

func TestCondstoreTranscript(t *testing.T) { t.Parallel(); runTranscript(t, "condstore.txt") }

// wireReader reads s as a client's command text.
func wireReader(t *testing.T, s string) *imapwire.Reader {
	t.Helper()
	r := imapwire.NewReader(bufio.NewReader(strings.NewReader("t "+s)), imapwire.NewWriter(io.Discard), imapwire.DefaultLimits())
	if _, err := r.ReadTag(); err != nil {
		t.Fatal(err)
	}
	if err := r.SP(); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReadQresync(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // uidvalidity modseq known match-seqs match-uids, or "error"
	}{
		{"(67890007 90060115194045000)\r\n", "67890007 90060115194045000 - - -"},
		{"(1 2 41:211,214:541)\r\n", "1 2 41:211,214:541 - -"},
		{"(1 2 1:29997 (5000,7500 15000,22500))\r\n", "1 2 1:29997 5000,7500 15000,22500"},
		{"(1 2 (5 15))\r\n", "1 2 - 5 15"},
		{"(0 2)\r\n", "error"},
		{"(1 0)\r\n", "error"},
		{"(1)\r\n", "error"},
		{"(1 2 $)\r\n", "error"},
		{"(1 2 1:3 (1))\r\n", "error"},
		{"(1 2 1:3 (1 2)\r\n", "error"},
		{"(x 2)\r\n", "error"},
		{"(1 2 1:3 (1 2) 4)\r\n", "error"},
		{"(1 2 1:3 )\r\n", "error"},
		{"(1 2 )\r\n", "error"},
		{"(1 2 1:3 4)\r\n", "error"},
	} {
		q, err := readQresync(wireReader(t, tc.in))
		got := "error"
		if err == nil {
			set := func(have bool, s imapwire.SeqSet) string {
				if !have {
					return "-"
				}
				return s.String()
			}
			got = strings.Join([]string{
				itoa(uint64(q.uidValidity)), itoa(q.modseq), set(q.haveKnown, q.knownUIDs),
				set(q.haveMatch, q.matchSeqs), set(q.haveMatch, q.matchUIDs),
			}, " ")
		}
		if got != tc.want {
			t.Errorf("readQresync(%q) = %q (%v), want %q", tc.in, got, err, tc.want)
		}
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

func TestReadSearchReturn(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want searchReturn
		err  bool
	}{
		{"()", searchReturn{given: true, all: true}, false},
		{"(MIN max)", searchReturn{given: true, min: true, max: true}, false},
		{"(ALL COUNT SAVE)", searchReturn{given: true, all: true, count: true, save: true}, false},
		{"(SAVE)", searchReturn{given: true, save: true}, false},
		{"(PARTIAL 1:10)", searchReturn{}, true},
		{"MIN", searchReturn{}, true},
	} {
		got, err := readSearchReturn(wireReader(t, tc.in+"\r\n"))
		if (err != nil) != tc.err || err == nil && got != tc.want {
			t.Errorf("readSearchReturn(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

func TestSearchReturnSaved(t *testing.T) {
	uids := []uint32{2, 10, 11, 21}
	for _, tc := range []struct {
		o    searchReturn
		want []uint32
	}{
		{searchReturn{save: true}, uids},
		{searchReturn{save: true, min: true}, []uint32{2}},
		{searchReturn{save: true, max: true}, []uint32{21}},
		{searchReturn{save: true, min: true, max: true}, []uint32{2, 21}},
		{searchReturn{save: true, min: true, max: true, count: true}, uids},
		{searchReturn{save: true, min: true, all: true}, uids},
	} {
		if got := tc.o.saved(uids); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: saved %v, want %v", tc.o, got, tc.want)
		}
	}
	one := searchReturn{save: true, min: true, max: true}
	if got := one.saved([]uint32{7}); !slices.Equal(got, []uint32{7}) {
		t.Errorf("MIN MAX of one message saved %v", got)
	}
}

func TestRunSet(t *testing.T) {
	for _, tc := range []struct {
		in   []uint32
		want string
	}{
		{nil, ""},
		{[]uint32{1, 2, 3, 5, 7, 8}, "1:3,5,7:8"},
		{[]uint32{5, 6, 1, 2, 9}, "5:6,1:2,9"},
		{[]uint32{4294967295}, "4294967295"},
	} {
		if got := runSet(tc.in).String(); got != tc.want {
			t.Errorf("runSet(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMissingUIDs(t *testing.T) {
	live := []uint32{3, 6, 9, 10}
	for _, tc := range []struct {
		known        string
		lowest, last uint32
		want         string
	}{
		{"1:12", 1, 12, "1:2,4:5,7:8,11:12"},
		{"1:*", 1, 10, "1:2,4:5,7:8"},
		{"1:4294967295", 7, 12, "7:8,11:12"},
		{"3,6", 1, 12, ""},
		{"5:7", 1, 12, "5,7"},
		{"1:12", 13, 12, ""},
	} {
		set, err := imapwire.ParseSeqSet(tc.known)
		if err != nil {
			t.Fatal(err)
		}
		if got := missingUIDs(set.Resolve(tc.last), live, tc.lowest, tc.last).String(); got != tc.want {
			t.Errorf("missingUIDs(%s, %d, %d) = %q, want %q", tc.known, tc.lowest, tc.last, got, tc.want)
		}
	}
}

func TestMatchedFloor(t *testing.T) {
	// RFC 7162 3.2.5.2: the mailbox holds the UIDs divisible by three.
	var live []uint32
	for u := uint32(3); u <= 30; u += 3 {
		live = append(live, u)
	}
	for _, tc := range []struct {
		seqs, uids string
		want       uint32
	}{
		{"1,4", "3,12", 13},
		{"1,4,5", "3,12,16", 13},
		{"2", "5", 1},
		{"1:3", "3,6,9", 10},
		{"1:3", "3,6", 7},
		{"99", "99", 1},
		{"1:4294967295", "3:4294967295", 4},
	} {
		s, _ := imapwire.ParseSeqSet(tc.seqs)
		u, _ := imapwire.ParseSeqSet(tc.uids)
		if got := matchedFloor(s, u, live); got != tc.want {
			t.Errorf("matchedFloor(%s, %s) = %d, want %d", tc.seqs, tc.uids, got, tc.want)
		}
	}
}

// After cyr_expire -X has dropped expunged records, a client whose
// modseq is older than DELETEDMODSEQ gets every known UID that no longer
// exists (RFC 7162 3.2.6), and seq-match-data narrows it (3.2.5.2); a
// session that stays selected across the repack keeps working.
func TestQresyncAfterRepack(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.create("user.alice")
	for range 4 {
		e.deliver("user.alice", "Subject: x\r\n\r\nx\r\n", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	}
	a := e.dial()
	a.mustOK("L", "LOGIN alice secret")
	a.mustOK("E", "ENABLE QRESYNC")
	out := a.mustOK("S", "SELECT INBOX")
	uv := ""
	for _, l := range out {
		if m := regexp.MustCompile(`UIDVALIDITY (\d+)`).FindStringSubmatch(l); m != nil {
			uv = m[1]
		}
	}
	a.mustOK("D", "STORE 1:2 +FLAGS.SILENT (\\Deleted)")
	a.mustOK("X", "EXPUNGE")
	b := e.dial()
	b.mustOK("L", "LOGIN alice secret")
	b.mustOK("E", "ENABLE QRESYNC")
	b.mustOK("S", "SELECT INBOX")

	if n, err := e.store.ExpireExpunged("user.alice", time.Now().Add(time.Hour)); err != nil || n != 2 {
		t.Fatalf("ExpireExpunged = %d, %v", n, err)
	}
	want := func(c *testConn, tag, cmd string, lines ...string) {
		t.Helper()
		got := c.cmd(tag, cmd)
		var keep []string
		for _, l := range got {
			if strings.HasPrefix(l, "* VANISHED") || strings.Contains(l, " FETCH ") || strings.HasPrefix(l, tag+" ") {
				keep = append(keep, l)
			}
		}
		if !slices.Equal(keep, lines) {
			t.Errorf("%s %s:\n got %q\nwant %q", tag, cmd, keep, lines)
		}
	}
	// Selected across the repack: the modseq 1 predates everything. The
	// store reports every message of a repacked index as changed, so
	// the flags come again after the command's own answer.
	want(b, "F1", "UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)",
		"* VANISHED (EARLIER) 1:2",
		"* 1 FETCH (FLAGS () UID 3 MODSEQ (4))",
		"* 2 FETCH (FLAGS () UID 4 MODSEQ (5))",
		"* 1 FETCH (FLAGS () UID 3 MODSEQ (4))",
		"* 2 FETCH (FLAGS () UID 4 MODSEQ (5))",
		"F1 OK Completed")
	// Expunges at modseqs 8 and 9 were dropped: DELETEDMODSEQ is 9.
	want(a, "Q1", "SELECT INBOX (QRESYNC ("+uv+" 9 1:4))", "Q1 OK [READ-WRITE] Completed")
	want(a, "Q2", "SELECT INBOX (QRESYNC ("+uv+" 8 1:4))", "* VANISHED (EARLIER) 1:2", "Q2 OK [READ-WRITE] Completed")
	want(a, "Q3", "SELECT INBOX (QRESYNC ("+uv+" 8 2:4))", "* VANISHED (EARLIER) 2", "Q3 OK [READ-WRITE] Completed")
	want(a, "Q4", "SELECT INBOX (QRESYNC ("+uv+" 8 1:4 (1 3)))", "Q4 OK [READ-WRITE] Completed")
	want(a, "Q5", "SELECT INBOX (QRESYNC ("+uv+" 8 1:4 (1 2)))", "* VANISHED (EARLIER) 1:2", "Q5 OK [READ-WRITE] Completed")
	want(a, "Q6", "SELECT INBOX (QRESYNC ("+uv+" 8))", "* VANISHED (EARLIER) 1:2", "Q6 OK [READ-WRITE] Completed")
}

// cyrusCapabilities is Cyrus 3.6's list after login (reference session
// imap_alice_session.txt), with SEARCHRES, which it does not offer, where
// the alphabetical order puts it.
const cyrusCapabilities = "IMAP4rev1 LITERAL+ ID ENABLE ACL ANNOTATE-EXPERIMENT-1 BINARY CATENATE CHILDREN CONDSTORE " +
	"CREATE-SPECIAL-USE ESEARCH ESORT LIST-EXTENDED LIST-MYRIGHTS LIST-STATUS MAILBOX-REFERRALS METADATA MOVE " +
	"MULTIAPPEND NAMESPACE OBJECTID PREVIEW QRESYNC QUOTA RIGHTS=kxten SAVEDATE SEARCH=FUZZY SEARCHRES SORT " +
	"SORT=DISPLAY SPECIAL-USE STATUS=SIZE THREAD=ORDEREDSUBJECT THREAD=REFERENCES UIDPLUS UNSELECT URLAUTH " +
	"URLAUTH=BINARY WITHIN DIGEST=SHA1 LIST-METADATA NO_ATOMIC_RENAME SCAN SORT=MODSEQ SORT=UID THREAD=REFS " +
	"X-CREATEDMODSEQ X-REPLICATION X-SIEVE-MAILBOX XLIST XMOVE LOGINDISABLED COMPRESS=DEFLATE X-QUOTA=STORAGE " +
	"X-QUOTA=MESSAGE X-QUOTA=X-ANNOTATION-STORAGE X-QUOTA=X-NUM-FOLDERS IDLE APPENDLIMIT=4294967295"

// The CAPABILITY list offers CONDSTORE, ESEARCH, QRESYNC, SEARCHRES and
// WITHIN, everything in Cyrus 3.6's order.
func TestCapabilitiesFollowCyrusOrder(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	c := e.dial()
	c.mustOK("L", "LOGIN alice secret")
	out := c.mustOK("C", "CAPABILITY")
	got := strings.Fields(strings.TrimPrefix(out[0], "* CAPABILITY "))
	for _, want := range []string{"CONDSTORE", "ESEARCH", "ESORT", "QRESYNC", "SEARCHRES", "WITHIN"} {
		if !slices.Contains(got, want) {
			t.Errorf("CAPABILITY lacks %s: %q", want, out[0])
		}
	}
	ref := strings.Fields(cyrusCapabilities)
	pos := -1
	for _, g := range got {
		i := slices.Index(ref, g)
		if i < 0 {
			continue // not in Cyrus's list (AUTH=, STARTTLS before login...)
		}
		if i < pos {
			t.Errorf("%s comes out of Cyrus's order in %q", g, out[0])
		}
		pos = i
	}
}
