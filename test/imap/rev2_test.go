package imap_test

// IMAP4rev2 (RFC 9051) with go-imap v2's client against the real master:
// ENABLE IMAP4rev2, SEARCH answered with ESEARCH, SELECT with its LIST
// response and without RECENT, STATUS DELETED and SIZE, a UTF-8 mailbox
// name, and the same name seen by an IMAP4rev1 client as modified UTF-7.

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/cyrusgo/cyrusgo/test/harness"
)

func TestGoIMAPRev2(t *testing.T) {
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
	for _, cp := range []imap.Cap{imap.CapIMAP4rev1, imap.CapIMAP4rev2, imap.CapESort} {
		if !c.Caps().Has(cp) {
			t.Errorf("capability %s not advertised", cp)
		}
	}
	en, err := c.Enable(imap.CapIMAP4rev2).Wait()
	if err != nil || !en.Caps.Has(imap.CapIMAP4rev2) {
		t.Fatalf("ENABLE IMAP4rev2: %+v %v", en, err)
	}
	for i, subj := range []string{"one", "two", "three"} {
		msg := "Subject: " + subj + "\r\n\r\nbody\r\n"
		var flags []imap.Flag
		if i == 1 {
			flags = []imap.Flag{imap.FlagDeleted}
		}
		cmd := c.Append("INBOX", int64(len(msg)), &imap.AppendOptions{Flags: flags})
		cmd.Write([]byte(msg))
		cmd.Close()
		if _, err := cmd.Wait(); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true, NumDeleted: true, Size: true}).Wait()
	if err != nil || st.NumMessages == nil || *st.NumMessages != 3 || st.NumDeleted == nil || *st.NumDeleted != 1 ||
		st.Size == nil || *st.Size == 0 {
		t.Fatalf("STATUS (MESSAGES DELETED SIZE): %+v %v", st, err)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil || sel.NumMessages != 3 {
		t.Fatalf("select: %+v %v", sel, err)
	}
	if sel.List == nil || sel.List.Mailbox != "INBOX" || sel.List.Delim != '.' {
		t.Fatalf("select sent no LIST response for INBOX: %+v", sel.List)
	}
	res, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagDeleted}}, nil).Wait()
	if err != nil || res.All == nil || res.All.String() != "1,3" {
		t.Fatalf("UID SEARCH UNDELETED: %+v %v", res, err)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1, 2, 3), &imap.FetchOptions{Flags: true}).Collect()
	if err != nil || len(msgs) != 3 {
		t.Fatalf("fetch flags: %+v %v", msgs, err)
	}
	for _, msg := range msgs {
		for _, f := range msg.Flags {
			if strings.EqualFold(string(f), `\Recent`) {
				t.Errorf("message %d has \\Recent in IMAP4rev2", msg.SeqNum)
			}
		}
	}
	const name = "INBOX.Crème brûlée"
	if err := c.Create(name, nil).Wait(); err != nil {
		t.Fatalf("create %q: %v", name, err)
	}
	list, err := c.List("", "INBOX.Cr*", nil).Collect()
	if err != nil || len(list) != 1 || list[0].Mailbox != name {
		t.Fatalf("LIST INBOX.Cr*: %+v %v", list, err)
	}

	// An IMAP4rev1 session over a raw socket: the name is modified UTF-7.
	raw := harness.Dial(t, "tcp", harness.Addr(m.IMAP))
	defer raw.Close()
	lines := rawSession(t, raw, "a LOGIN alice pass", `b LIST "" "INBOX.Cr*"`, "c SELECT INBOX")
	for _, want := range []string{`* LIST (\HasNoChildren) "." "INBOX.Cr&AOg-me br&APs-l&AOk-e"`, "* 0 RECENT", "* OK [UNSEEN 1] Ok"} {
		if !containsLine(lines, want) {
			t.Errorf("IMAP4rev1 session lacks %q:\n%s", want, strings.Join(lines, "\n"))
		}
	}
}

// rawSession sends each command and collects the lines up to its tagged
// response.
func rawSession(t *testing.T, conn net.Conn, cmds ...string) []string {
	t.Helper()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(conn)
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatalf("greeting: %v", err)
	}
	var out []string
	for _, cmd := range cmds {
		if _, err := conn.Write([]byte(cmd + "\r\n")); err != nil {
			t.Fatalf("send %q: %v", cmd, err)
		}
		tag := cmd[:strings.IndexByte(cmd, ' ')+1]
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("after %q: %v", cmd, err)
			}
			l = strings.TrimRight(l, "\r\n")
			out = append(out, l)
			if strings.HasPrefix(l, tag) {
				break
			}
		}
	}
	return out
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}
