package imapserver

import (
	"testing"
)

func TestAutocreate(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, map[string]string{
		"autocreate_quota":             "500",
		"autocreate_quota_messages":    "20",
		"autocreate_inbox_folders":     "Sent | Drafts|Spam|Archive.2024",
		"autocreate_subscribe_folders": "Sent|Spam",
		"autocreate_acl":               "Spam anyone p",
		"xlist-sent":                   "Sent",
		"xlist-junk":                   "Spam",
	})
	e.create("user.alice.Archive") // a parent the folder list relies on
	c := e.dial()
	c.mustOK("L", "LOGIN alice x")
	expectLines(t, c.mustOK("A", `LIST "" * RETURN (SUBSCRIBED)`),
		`* LIST (\Subscribed \HasChildren) "." INBOX`,
		`* LIST (\HasChildren) "." INBOX.Archive`,
		`* LIST (\HasNoChildren) "." INBOX.Archive.2024`,
		`* LIST (\HasNoChildren) "." INBOX.Drafts`,
		`* LIST (\Subscribed \HasNoChildren \Sent) "." INBOX.Sent`,
		`* LIST (\Subscribed \HasNoChildren \Junk) "." INBOX.Spam`)
	expectLines(t, c.mustOK("Q", "GETQUOTAROOT INBOX"),
		"* QUOTAROOT INBOX INBOX", "* QUOTA INBOX (STORAGE 0 500 MESSAGE 0 20)")
	expectLines(t, c.mustOK("G", "GETACL INBOX.Spam"), "* ACL INBOX.Spam alice lrswipkxtecdan anyone p")
	expectLines(t, c.mustOK("N", "NAMESPACE"), `* NAMESPACE (("INBOX." ".")) (("user." ".")) (("" "."))`)
	c.mustOK("O", "LOGOUT")

	// A second login finds the INBOX and changes nothing.
	c = e.dial()
	c.mustOK("L", "LOGIN alice x")
	c.mustOK("D", "DELETE INBOX.Drafts")
	c.mustOK("O", "LOGOUT")
	c = e.dial()
	c.mustOK("L", "LOGIN alice x")
	if out := c.mustOK("A", `LIST "" INBOX.Drafts`); len(out) != 1 {
		t.Errorf("Drafts came back: %q", out)
	}

	// Admins get no INBOX (Cyrus's admin NAMESPACE has no personal part).
	a := e.dial()
	a.mustOK("L", "LOGIN cyrus x")
	expectLines(t, a.mustOK("N", "NAMESPACE"), `* NAMESPACE NIL (("user." ".")) (("" "."))`)
	if _, err := e.store.Lookup("user.cyrus"); err == nil {
		t.Error("an admin got an INBOX")
	}
}

func TestAutocreateUsersAndDefaults(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, map[string]string{
		"autocreate_quota": "0",
		"autocreate_users": "bob carol",
	})
	c := e.dial()
	c.mustOK("L", "LOGIN alice x")
	expectLines(t, c.mustOK("N", "NAMESPACE"), `* NAMESPACE NIL (("user." ".")) (("" "."))`)
	b := e.dial()
	b.mustOK("L", "LOGIN bob x")
	expectLines(t, b.mustOK("N", "NAMESPACE"), `* NAMESPACE (("INBOX." ".")) (("user." ".")) (("" "."))`)
	// autocreate_quota 0 is no limit: no quota root at all.
	expectLines(t, b.mustOK("Q", "GETQUOTAROOT INBOX"), "* QUOTAROOT INBOX")
	expectLines(t, b.mustOK("S", `LSUB "" *`), `* LSUB () "." INBOX`)
}
