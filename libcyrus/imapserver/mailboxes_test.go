package imapserver

import (
	"strings"
	"testing"
	"time"
)

// Golden transcripts of the mailbox commands; the answers are Cyrus
// 3.6's (checked against Debian's cyrus-imapd 3.6.1) except where a
// comment in the file says otherwise.
func TestMailboxManageTranscript(t *testing.T) { t.Parallel(); runTranscript(t, "mbox_manage.txt") }
func TestMailboxListTranscript(t *testing.T)   { t.Parallel(); runTranscript(t, "mbox_list.txt") }
func TestMailboxACLTranscript(t *testing.T)    { t.Parallel(); runTranscript(t, "mbox_acl.txt") }
func TestMailboxQuotaTranscript(t *testing.T)  { t.Parallel(); runTranscript(t, "mbox_quota.txt") }
func TestMailboxAppendTranscript(t *testing.T) { t.Parallel(); runTranscript(t, "mbox_append.txt") }
func TestMailboxAdminTranscript(t *testing.T)  { t.Parallel(); runTranscript(t, "mbox_admin.txt") }

// expectLines fails unless every want line is among got, in order.
func expectLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Fatalf("missing %q in\n%s", want[i], strings.Join(got, "\n"))
	}
}

func TestDeleteSelectedMailbox(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.create("user.alice")
	e.create("user.alice.Old")
	c := e.dial()
	c.mustOK("L", "LOGIN alice x")
	c.mustOK("S", "SELECT INBOX.Old")
	c.mustOK("D", "DELETE INBOX.Old")
	// Nothing more can be done in a mailbox that is gone: the session
	// is back in the authenticated state.
	expectLines(t, c.cmd("F", "FETCH 1:* FLAGS"), "F BAD Please select a mailbox first")
	c.mustOK("N", "NOOP")
}

func TestRenameSelectedMailbox(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.create("user.alice")
	e.create("user.alice.Work")
	msg, _ := readMessage("simple.eml")
	d := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	e.deliver("user.alice.Work", msg, d)
	e.deliver("user.alice.Work", msg, d)
	c := e.dial()
	c.mustOK("L", "LOGIN alice x")
	c.mustOK("S", "SELECT INBOX.Work")
	expectLines(t, c.mustOK("R", "RENAME INBOX.Work INBOX.Play"), "* OK rename INBOX.Work INBOX.Play")
	// The session follows its mailbox to the new name: same messages,
	// same UIDs, and new mail there is reported.
	expectLines(t, c.mustOK("F", "FETCH 1:* UID"), "* 1 FETCH (UID 1)", "* 2 FETCH (UID 2)")
	e.deliver("user.alice.Play", msg, d)
	expectLines(t, c.mustOK("N", "NOOP"), "* 3 EXISTS")
	c.mustOK("A", "APPEND INBOX.Play {22+}\r\nSubject: one\r\n\r\nbody\r\n")
}

func TestRenameInboxWhileSelected(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.create("user.alice")
	msg, _ := readMessage("simple.eml")
	d := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	e.deliver("user.alice", msg, d)
	e.deliver("user.alice", msg, d)
	c := e.dial()
	c.mustOK("L", "LOGIN alice x")
	c.mustOK("S", "SELECT INBOX")
	// RFC 3501 6.3.5: the messages move to the new mailbox and INBOX
	// stays, empty; the session hears its messages go.
	expectLines(t, c.mustOK("R", "RENAME INBOX INBOX.Old"), "* 2 EXPUNGE", "* 1 EXPUNGE")
	expectLines(t, c.mustOK("T", "STATUS INBOX.Old (MESSAGES)"), "* STATUS INBOX.Old (MESSAGES 2)")
	expectLines(t, c.mustOK("U", "STATUS INBOX (MESSAGES)"), "* STATUS INBOX (MESSAGES 0)")
}

func TestSubscriptionsFollowRename(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.create("user.alice")
	e.create("user.alice.A")
	e.create("user.alice.A.B")
	c := e.dial()
	c.mustOK("L", "LOGIN alice x")
	c.mustOK("S1", "SUBSCRIBE INBOX.A.B")
	c.mustOK("R", "RENAME INBOX.A INBOX.Z")
	out := c.mustOK("L2", `LSUB "" *`)
	expectLines(t, out, `* LSUB () "." INBOX.Z.B`)
}
