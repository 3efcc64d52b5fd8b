package lmtpserver

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
	"github.com/cyrusgo/cyrusgo/libcyrus/message"
	"github.com/cyrusgo/cyrusgo/libcyrus/sievescript"
	"github.com/cyrusgo/cyrusgo/libcyrus/smtpclient/smtptest"
)

// checkStored verifies that the newest message of name is recorded as
// what is on disk: size, GUID and the cached summary and header.
func (e *sieveEnv) checkStored(name string) string {
	e.t.Helper()
	m, err := e.store.OpenForDelivery(name)
	if err != nil {
		e.t.Fatal(err)
	}
	defer m.Close()
	r, err := m.Record(uint32(m.Count()))
	if err != nil {
		e.t.Fatal(err)
	}
	body := e.newest(name)
	if r.Size != uint64(len(body)) {
		e.t.Errorf("%s: record size %d, file %d", name, r.Size, len(body))
	}
	if sum := sha1.Sum([]byte(body)); r.GUID != sum {
		e.t.Errorf("%s: GUID is not the SHA-1 of the stored bytes", name)
	}
	cache, err := m.CacheData(&r)
	if err != nil {
		e.t.Fatal(err)
	}
	var s message.Summary
	if err := s.UnmarshalBinary(cache); err != nil {
		e.t.Fatal(err)
	}
	hdr, _, _ := strings.Cut(body, "\r\n\r\n")
	if s.Size != int64(len(body)) || s.GUID != hex.EncodeToString(r.GUID[:]) || string(s.Header) != hdr+"\r\n\r\n" {
		e.t.Errorf("%s: cached summary (size %d, header %q) does not match the file", name, s.Size, s.Header)
	}
	return body
}

func TestSieveEditheaderStored(t *testing.T) {
	const req = `require ["editheader", "fileinto", "copy", "variables"];` + "\r\n"
	tests := []struct {
		name   string
		script string
		// mailbox: texts its newest message must hold, and ("!" first)
		// must not.
		want map[string][]string
	}{
		{name: "implicit keep sees edits", script: req + `addheader "X-Tag" "yes"; deleteheader "Subject";`,
			want: map[string][]string{"user.alice": {"X-Tag: yes\r\n", "!Subject: test", "Received: "}}},
		{name: "last", script: req + `addheader :last "X-Last" "end";`,
			want: map[string][]string{"user.alice": {"Date: Mon, 01 Jan 2024 00:00:00 +0000\r\nX-Last: end\r\n\r\nbody"}}},
		{name: "index", script: req + `addheader "X-N" "1"; addheader :last "X-N" "2"; addheader :last "X-N" "3"; deleteheader :index 2 "X-N";`,
			want: map[string][]string{"user.alice": {"X-N: 1\r\n", "!X-N: 2", "X-N: 3\r\n"}}},
		{name: "index last", script: req + `addheader "X-N" "1"; addheader :last "X-N" "2"; deleteheader :index 1 :last "X-N";`,
			want: map[string][]string{"user.alice": {"X-N: 1\r\n", "!X-N: 2"}}},
		{name: "received and auto-submitted protected", script: req + `deleteheader "Received"; addheader "Auto-Submitted" "auto-generated"; addheader "X-A" "1";`,
			want: map[string][]string{"user.alice": {"Received: ", "!Auto-Submitted", "X-A: 1"}}},
		{name: "copy before edit keeps old header", script: req + `fileinto :copy "INBOX.Lists"; addheader "X-After" "1"; keep;`,
			want: map[string][]string{"user.alice.Lists": {"!X-After"}, "user.alice": {"X-After: 1\r\n"}}},
		{name: "fileinto edited", script: req + `set "v" "from script"; addheader "X-Var" "${v}"; fileinto "INBOX.Lists";`,
			want: map[string][]string{"user.alice.Lists": {"X-Var: from script\r\n", "Subject: test"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSieveEnv(t, nil)
			e.create("user.alice.Lists")
			e.script("alice", tc.script)
			got := e.deliverOne(e.sieveServer(), []string{"alice"}, "To: alice@test.example\r\n"+testMessage("<e@x>"))
			if !match("250 2.1.5 Success SESSIONID=<*>", got[0]) {
				t.Fatalf("reply %q\n%s", got[0], e.log.String())
			}
			for name, texts := range tc.want {
				if n := e.count(name); n != 1 {
					t.Fatalf("%s holds %d messages\n%s", name, n, e.log.String())
				}
				body := e.checkStored(name)
				for _, w := range texts {
					if not, ok := strings.CutPrefix(w, "!"); ok {
						if strings.Contains(body, not) {
							t.Errorf("%s holds %q:\n%s", name, not, body)
						}
					} else if !strings.Contains(body, w) {
						t.Errorf("%s lacks %q:\n%s", name, w, body)
					}
				}
			}
		})
	}
}

// TestSieveEditheaderRedirect: a redirect carries the edited header,
// without Return-Path; a reject quotes the original.
func TestSieveEditheaderRedirect(t *testing.T) {
	e := newSieveEnv(t, nil)
	e.script("alice", `require "editheader"; deleteheader "Subject"; addheader "X-Fwd" "1"; redirect "other@example.net";`)
	e.deliverOne(e.sieveServer(), []string{"alice"}, "To: alice@test.example\r\n"+testMessage("<r@x>"))
	sent := e.captured()
	if len(sent) != 1 {
		t.Fatalf("%d messages sent\n%s", len(sent), e.log.String())
	}
	for _, w := range []string{"X-Fwd: 1\r\n", "X-Sieve-Redirected-By: alice@test.example\r\n"} {
		if !strings.Contains(sent[0], w) {
			t.Errorf("redirect lacks %q:\n%s", w, sent[0])
		}
	}
	for _, w := range []string{"Subject: test", "Return-Path:"} {
		if strings.Contains(sent[0], w) {
			t.Errorf("redirect holds %q:\n%s", w, sent[0])
		}
	}
	if e.count("user.alice") != 0 {
		t.Errorf("INBOX holds %d", e.count("user.alice"))
	}
}

// TestSieveRedirectFailureKeeps: a redirect that cannot be sent falls
// back to the keep when the script stored the message nowhere else.
func TestSieveRedirectFailureKeeps(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		inbox, lists int
	}{
		{name: "redirect only", script: `redirect "other@example.net";`, inbox: 1},
		{name: "redirect copy then discard", script: `require "copy"; redirect :copy "other@example.net"; discard;`, inbox: 1},
		{name: "filed elsewhere", script: `require "fileinto"; fileinto "INBOX.Lists"; redirect "other@example.net";`, lists: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSieveEnv(t, nil)
			e.create("user.alice.Lists")
			os.WriteFile(filepath.Join(e.sent, smtptest.FailFile), nil, 0o644)
			e.script("alice", tc.script)
			got := e.deliverOne(e.sieveServer(), []string{"alice"}, testMessage("<rf@x>"))
			if !match("250 2.1.5 Success SESSIONID=<*>", got[0]) {
				t.Fatalf("reply %q", got[0])
			}
			if e.count("user.alice") != tc.inbox || e.count("user.alice.Lists") != tc.lists {
				t.Fatalf("INBOX holds %d, Lists %d\n%s", e.count("user.alice"), e.count("user.alice.Lists"), e.log.String())
			}
			if logged := strings.Contains(e.log.String(), "keeping <rf@x> in INBOX"); logged != (tc.inbox == 1) {
				t.Errorf("fallback logged %v:\n%s", logged, e.log.String())
			}
		})
	}
}

// TestSieveMailboxes covers :specialuse, :mailboxid, :create and the
// mailbox tests against the mailbox list.
func TestSieveMailboxes(t *testing.T) {
	const req = `require ["fileinto", "mailbox", "special-use", "mailboxid", "imap4flags"];` + "\r\n"
	tests := []struct {
		name   string
		script string // @ID@ is the unique id of user.alice.Lists
		counts map[string]int
		use    map[string]string // mailbox: special use it must carry
	}{
		{name: "specialuse found", script: req + `fileinto :specialuse "\\Junk" "INBOX.Spam";`,
			counts: map[string]int{"user.alice.Lists": 1, "user.alice": 0}},
		{name: "specialuse missing: named", script: req + `fileinto :specialuse "\\Trash" "INBOX.Lists";`,
			counts: map[string]int{"user.alice.Lists": 1}},
		{name: "specialuse missing: create and mark", script: req + `fileinto :specialuse "\\Archive" :create "INBOX.Old";`,
			counts: map[string]int{"user.alice.Old": 1, "user.alice": 0}, use: map[string]string{"user.alice.Old": `\Archive`}},
		{name: "specialuse missing, no create: INBOX", script: req + `fileinto :specialuse "\\Archive" "INBOX.Old";`,
			counts: map[string]int{"user.alice": 1}},
		{name: "mailboxid", script: req + `fileinto :mailboxid "@ID@" "INBOX.Other";`,
			counts: map[string]int{"user.alice.Lists": 1, "user.alice": 0}},
		{name: "mailboxid unknown: named", script: req + `fileinto :mailboxid "nope" :create "INBOX.Other";`,
			counts: map[string]int{"user.alice.Other": 1, "user.alice.Lists": 0}},
		{name: "mailboxid of another user's mailbox", script: req + `fileinto :mailboxid "@BOBID@" "INBOX";`,
			counts: map[string]int{"user.alice": 1, "user.bob": 0}},
		{name: "mailboxidexists", script: req + `if mailboxidexists "@ID@" { addflag "\\Flagged"; } if mailboxidexists ["@ID@", "nope"] { discard; stop; }`,
			counts: map[string]int{"user.alice": 1}},
		{name: "specialuse_exists any", script: req + `if specialuse_exists "\\Junk" { fileinto "INBOX.Lists"; }`,
			counts: map[string]int{"user.alice.Lists": 1}},
		{name: "specialuse_exists mailbox", script: req + `if specialuse_exists "INBOX.Lists" ["\\Junk", "\\Trash"] { discard; } elsif specialuse_exists "INBOX" "\\Inbox" { fileinto "INBOX.Lists"; }`,
			counts: map[string]int{"user.alice.Lists": 1}},
		{name: "specialuse_exists none", script: req + `if specialuse_exists "\\Sent" { discard; }`,
			counts: map[string]int{"user.alice": 1}},
		{name: "mailboxexists", script: req + `if allof(mailboxexists "INBOX.Lists", not mailboxexists "INBOX.Nope", not mailboxexists "user.bob") { fileinto "INBOX.Lists"; }`,
			counts: map[string]int{"user.alice.Lists": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSieveEnv(t, nil)
			e.create("user.alice.Lists")
			if err := e.store.SetSpecialUse(testAdmin, "user.alice.Lists", `\Junk`); err != nil {
				t.Fatal(err)
			}
			lists, _ := e.store.Lookup("user.alice.Lists")
			bob, _ := e.store.Lookup("user.bob")
			e.script("alice", strings.NewReplacer("@ID@", lists.UniqueID, "@BOBID@", bob.UniqueID).Replace(tc.script))
			got := e.deliverOne(e.sieveServer(), []string{"alice"}, testMessage("<m@x>"))
			if !match("250 2.1.5 Success SESSIONID=<*>", got[0]) {
				t.Fatalf("reply %q\n%s", got[0], e.log.String())
			}
			for name, n := range tc.counts {
				if c := e.count(name); c != n {
					t.Errorf("%s holds %d, want %d\n%s", name, c, n, e.log.String())
				}
			}
			for name, u := range tc.use {
				ent, err := e.store.Lookup(name)
				if err != nil || !ent.HasSpecialUse(u) {
					t.Errorf("%s: special use %+v, want %s", name, ent, u)
				}
			}
		})
	}
}

// fakeMetadata answers from a map keyed "mailbox entry userid".
type fakeMetadata map[string]string

func (f fakeMetadata) Metadata(mailbox, entry, userid string) (string, bool, error) {
	if mailbox == "user.alice.Broken" {
		return "", false, errors.New("store down")
	}
	v, ok := f[mailbox+" "+entry+" "+userid]
	return v, ok, nil
}

func TestSieveMetadata(t *testing.T) {
	const req = `require ["fileinto", "mboxmetadata", "servermetadata"];` + "\r\n"
	meta := fakeMetadata{
		"user.alice /comment alice":  "private note",
		"user.alice /comment ":       "shared note",
		" /admin ":                   "admin@example.com",
		"user.alice.Lists /empty ":   "",
		"user.alice.Broken /x alice": "never",
	}
	tests := []struct {
		name   string
		script string
		meta   MetadataReader
		lists  int // messages filed into user.alice.Lists
	}{
		{name: "private", script: req + `if metadata :is "INBOX" "/private/comment" "private note" { fileinto "INBOX.Lists"; }`, meta: meta, lists: 1},
		{name: "shared", script: req + `if metadata :contains "INBOX" "/shared/comment" "shared" { fileinto "INBOX.Lists"; }`, meta: meta, lists: 1},
		{name: "exists", script: req + `if metadataexists "INBOX" ["/private/comment", "/shared/comment"] { fileinto "INBOX.Lists"; }`, meta: meta, lists: 1},
		{name: "empty value is absent", script: req + `if metadataexists "INBOX.Lists" "/shared/empty" { fileinto "INBOX.Lists"; }`, meta: meta},
		{name: "bad prefix", script: req + `if metadataexists "INBOX" "/comment" { fileinto "INBOX.Lists"; }`, meta: meta},
		{name: "unknown mailbox", script: req + `if metadataexists "INBOX.Nope" "/shared/comment" { fileinto "INBOX.Lists"; }`, meta: meta},
		{name: "store error", script: req + `if metadataexists "INBOX.Broken" "/private/x" { fileinto "INBOX.Lists"; }`, meta: meta},
		{name: "server", script: req + `if allof(servermetadata :matches "/shared/admin" "*@example.com", servermetadataexists "/shared/admin") { fileinto "INBOX.Lists"; }`, meta: meta, lists: 1},
		{name: "no store", script: req + `if anyof(metadataexists "INBOX" "/private/comment", servermetadataexists "/shared/admin") { fileinto "INBOX.Lists"; }`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSieveEnv(t, nil)
			e.create("user.alice.Lists")
			e.create("user.alice.Broken")
			e.script("alice", tc.script)
			logger := logging.New(logging.Options{Ident: "lmtp", Writer: e.log, Level: logging.LevelDebug})
			db, _ := e.dbs.DB(cyrusdb.Deliver)
			hook := NewSieve(SieveOptions{Config: e.cfg, Store: e.store, Scripts: sievescript.FromConfig(e.cfg, logger), Deliver: db, Logger: logger, Metadata: tc.meta})
			e.deliverOne(e.server(func(o *Options) { o.Sieve = hook }), []string{"alice"}, testMessage("<md@x>"))
			if n := e.count("user.alice.Lists"); n != tc.lists {
				t.Errorf("Lists holds %d, want %d\n%s", n, tc.lists, e.log.String())
			}
		})
	}
}

// TestSieveFcc: a vacation reply is filed with :fcc, the mailbox created
// for :create, with the flags asked for.
func TestSieveFcc(t *testing.T) {
	e := newSieveEnv(t, nil)
	e.script("alice", `require ["vacation", "fcc", "mailbox", "imap4flags"]; vacation :fcc "INBOX.Sent" :create :flags "\\Flagged" :subject "away" "I am away";`)
	e.deliverOne(e.sieveServer(), []string{"alice"}, "To: alice@test.example\r\n"+testMessage("<fcc@x>"))
	if len(e.captured()) != 1 {
		t.Fatalf("%d sent\n%s", len(e.captured()), e.log.String())
	}
	if e.count("user.alice.Sent") != 1 {
		t.Fatalf("Sent holds %d\n%s", e.count("user.alice.Sent"), e.log.String())
	}
	body := e.checkStored("user.alice.Sent")
	if !strings.Contains(body, "Subject: away") || !strings.Contains(body, "I am away") {
		t.Errorf("filed copy:\n%s", body)
	}
	if fl := e.newestFlags("user.alice.Sent"); !slices.Contains(fl, `\Flagged`) {
		t.Errorf("flags %v", fl)
	}
}

// TestSieveNotifySender: RFC 5436 2.7's envelope sender.
func TestSieveNotifySender(t *testing.T) {
	for _, tc := range []struct{ envFrom, from, to, want string }{
		{"", "me@example.com", "alice@test.example", ""},
		{"s@example.net", "me@example.com", "alice@test.example", "me@example.com"},
		{"s@example.net", "Me <me@example.com>", "alice@test.example", "me@example.com"},
		{"s@example.net", "", "alice@test.example", "alice@test.example"},
		{"s@example.net", "not an address", "alice@test.example", "alice@test.example"},
	} {
		if got := notifySender(tc.envFrom, tc.from, tc.to); got != tc.want {
			t.Errorf("notifySender(%q, %q) = %q, want %q", tc.envFrom, tc.from, got, tc.want)
		}
	}
}

// TestSieveSendmailBackend: with smtp_backend: sendmail (the default)
// the messages go through "sendmail -bs".
func TestSieveSendmailBackend(t *testing.T) {
	prog, dir := smtptest.Sendmail(t)
	e := newSieveEnv(t, map[string]string{"smtp_backend": "sendmail", "sendmail": prog})
	e.script("alice", `require "copy"; redirect :copy "other@example.net";`)
	e.deliverOne(e.sieveServer(), []string{"alice"}, testMessage("<h@x>"))
	got := smtptest.Read(t, dir)
	if len(got) != 1 || got[0].Argv != "-bs" || got[0].From() != "sender@example.com" || got[0].To()[0] != "other@example.net" {
		t.Fatalf("captured %+v\n%s", got, e.log.String())
	}
	if !strings.Contains(got[0].Mail, "AUTH=alice") {
		t.Errorf("MAIL %q lacks AUTH=alice", got[0].Mail)
	}
	if len(e.captured()) != 0 {
		t.Error("smtp_host used with smtp_backend: sendmail")
	}
}

// TestSieveRedirectDSN: RFC 6009's parameters reach MAIL and RCPT when
// the server offers DSN.
func TestSieveRedirectDSN(t *testing.T) {
	e := newSieveEnv(t, nil)
	e.script("alice", `require ["redirect-dsn", "copy"]; redirect :copy :notify "NEVER" :ret "HDRS" "other@example.net";`)
	e.deliverOne(e.sieveServer(), []string{"alice"}, testMessage("<dsn@x>"))
	sent := e.captured()
	if len(sent) != 1 || !strings.Contains(sent[0], " RET=HDRS") || !strings.Contains(sent[0], "RCPT TO:<other@example.net> NOTIFY=NEVER") {
		t.Fatalf("sent %q\n%s", sent, e.log.String())
	}
}
