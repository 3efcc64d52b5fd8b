package lmtpserver

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
	"github.com/cyrusgo/cyrusgo/libcyrus/sievescript"
	"github.com/cyrusgo/cyrusgo/libcyrus/smtpclient/smtptest"
)

// sieveEnv is a test store whose outgoing mail goes to smtptest's SMTP
// listener (smtp_backend: host, with AUTH PLAIN), which writes each
// message it is given into a file of its own: no process to start, so
// the tests stay quick under load. TestSieveSendmailBackend covers the
// sendmail backend.
type sieveEnv struct {
	*testEnv
	sent string // the directory of captured messages
}

func newSieveEnv(t *testing.T, extra map[string]string) *sieveEnv {
	t.Helper()
	srv := smtptest.Listen(t, smtptest.ServerOptions{User: "relay", Password: "pw"})
	kv := map[string]string{"sievedir": "@DIR@/sieve", "smtp_backend": "host", "smtp_host": srv.Addr,
		"smtp_auth_authname": "relay", "smtp_auth_password": "pw"}
	for k, v := range extra {
		kv[k] = v
	}
	return &sieveEnv{testEnv: newTestEnv(t, kv), sent: srv.Dir}
}

// script installs src as user's active script the way Cyrus lays it
// out, without a compiled form: the hook compiles it on first use.
func (e *sieveEnv) script(user, src string) {
	e.t.Helper()
	dir := filepath.Join(e.dir, "sieve", user[:1], user)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "test.script"), []byte(src), 0o644); err != nil {
		e.t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, sievescript.ActiveLink))
	if err := os.Symlink("test.bc", filepath.Join(dir, sievescript.ActiveLink)); err != nil {
		e.t.Fatal(err)
	}
}

func (e *sieveEnv) sieveServer() *Server {
	logger := logging.New(logging.Options{Ident: "lmtp", Writer: e.log, Level: logging.LevelDebug})
	db, _ := e.dbs.DB(cyrusdb.Deliver)
	hook := NewSieve(SieveOptions{Config: e.cfg, Store: e.store, Scripts: sievescript.FromConfig(e.cfg, logger), Deliver: db, Logger: logger})
	return e.server(func(o *Options) { o.Sieve = hook })
}

// captured returns the messages sent, each as its MAIL
// and RCPT lines, an empty line and the data.
func (e *sieveEnv) captured() []string {
	e.t.Helper()
	var out []string
	for _, m := range smtptest.Read(e.t, e.sent) {
		out = append(out, m.Mail+"\n"+strings.Join(m.Rcpt, "\n")+"\n\n"+m.Data)
	}
	return out
}

// newestFlags returns the flags of name's newest message.
func (e *sieveEnv) newestFlags(name string) []string {
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
	return m.Flags(&r)
}

func TestSieveDelivery(t *testing.T) {
	const req = `require ["fileinto", "reject", "ereject", "imap4flags", "mailbox", "vacation", "copy"];` + "\r\n"
	tests := []struct {
		name    string
		conf    map[string]string
		script  string
		reply   string
		counts  map[string]int
		flags   map[string]string // mailbox: a flag its newest message has
		sent    []string          // texts the one captured message (if any) holds
		logWant string
	}{
		{name: "fileinto", script: req + `fileinto :flags "\\Flagged" "INBOX.Lists";`,
			counts: map[string]int{"user.alice.Lists": 1, "user.alice": 0}, flags: map[string]string{"user.alice.Lists": `\Flagged`}},
		{name: "fileinto create", script: req + `fileinto :create "INBOX.New";`,
			counts: map[string]int{"user.alice.New": 1, "user.alice": 0}},
		{name: "fileinto missing", script: req + `fileinto "INBOX.Nope";`,
			counts: map[string]int{"user.alice": 1}, logWant: "fileinto INBOX.Nope failed"},
		{name: "fileinto forbidden", script: req + `fileinto "user.bob";`,
			counts: map[string]int{"user.alice": 1, "user.bob": 0}, logWant: "delivering to INBOX"},
		{name: "keep flags", script: req + `addflag "$Work"; keep;`,
			counts: map[string]int{"user.alice": 1}, flags: map[string]string{"user.alice": "$Work"}},
		{name: "discard", script: "discard;", counts: map[string]int{"user.alice": 0}},
		{name: "ereject lmtp", script: req + `ereject "go away";`, reply: "550 5.7.1 go away",
			counts: map[string]int{"user.alice": 0}},
		{name: "reject mdn", conf: map[string]string{"sieve_use_lmtp_reject": "no"}, script: req + `reject "not here";`,
			counts: map[string]int{"user.alice": 0},
			sent:   []string{"MAIL FROM:<> AUTH=alice SIZE=", "\nRCPT TO:<sender@example.com>\n\n"}},
		{name: "redirect", script: `redirect "other@example.net";`,
			counts: map[string]int{"user.alice": 0},
			sent:   []string{"MAIL FROM:<sender@example.com> AUTH=alice SIZE=", "\nRCPT TO:<other@example.net>\n\nX-Sieve-Redirected-By: alice@test.example\r\n"}},
		{name: "redirect copy", script: req + `redirect :copy "other@example.net";`,
			counts: map[string]int{"user.alice": 1}, sent: []string{"RCPT TO:<other@example.net>"}},
		{name: "vacation", script: req + `vacation "away";`,
			counts: map[string]int{"user.alice": 1}, sent: []string{"MAIL FROM:<> AUTH=alice", "\nRCPT TO:<sender@example.com>\n\n"}},
		{name: "runtime failure", script: `require "ihave"; error "boom";`,
			counts: map[string]int{"user.alice": 1}, flags: map[string]string{"user.alice": SieveFailedFlag}, logWant: "keeping in INBOX as $SieveFailed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSieveEnv(t, tc.conf)
			e.create("user.alice.Lists")
			e.script("alice", tc.script)
			got := e.deliverOne(e.sieveServer(), []string{"alice"}, "To: alice@test.example\r\n"+testMessage("<s@x>"))
			want := tc.reply
			if want == "" {
				want = "250 2.1.5 Success SESSIONID=<*>"
			}
			if !match(want, got[0]) {
				t.Fatalf("reply %q, want %q\n%s", got[0], want, e.log.String())
			}
			for name, n := range tc.counts {
				if c := e.count(name); c != n {
					t.Errorf("%s holds %d, want %d\n%s", name, c, n, e.log.String())
				}
			}
			for name, f := range tc.flags {
				if fl := e.newestFlags(name); !slices.Contains(fl, f) {
					t.Errorf("%s newest flags %v, want %s", name, fl, f)
				}
			}
			sent := e.captured()
			if want := min(len(tc.sent), 1); len(sent) != want {
				t.Fatalf("%d messages sent, want %d: %q\n%s", len(sent), want, sent, e.log.String())
			}
			for _, s := range tc.sent {
				if !strings.Contains(sent[0], s) {
					t.Errorf("message:\n%s\nlacks %q", sent[0], s)
				}
			}
			if tc.logWant != "" && !strings.Contains(e.log.String(), tc.logWant) {
				t.Errorf("log lacks %q:\n%s", tc.logWant, e.log.String())
			}
		})
	}
}

// TestSieveVacationOnce: a second message from the same sender within
// the period gets no second reply (RFC 5230 4.2), tracked in the deliver
// database.
func TestSieveVacationOnce(t *testing.T) {
	e := newSieveEnv(t, nil)
	e.script("alice", `require "vacation"; vacation :days 1 :addresses "alice@test.example" "away";`)
	srv := e.sieveServer()
	e.deliverOne(srv, []string{"alice"}, "To: alice@test.example\r\n"+testMessage("<v1@x>"))
	e.deliverOne(srv, []string{"alice"}, "To: alice@test.example\r\n"+testMessage("<v2@x>"))
	if n := len(e.captured()); n != 1 {
		t.Fatalf("%d vacation replies, want 1", n)
	}
	if e.count("user.alice") != 2 {
		t.Errorf("INBOX holds %d", e.count("user.alice"))
	}
}

// TestSieveRedirectLoop: a message that carries our redirect trace for
// the user is kept, not redirected again.
func TestSieveRedirectLoop(t *testing.T) {
	e := newSieveEnv(t, nil)
	e.script("alice", `redirect "alice@elsewhere.example";`)
	msg := RedirectedByField + ": alice@test.example\r\n" + testMessage("<loop@x>")
	e.deliverOne(e.sieveServer(), []string{"alice"}, msg)
	if n := len(e.captured()); n != 0 {
		t.Fatalf("%d messages sent, want none", n)
	}
	if !strings.Contains(e.log.String(), "loop") {
		t.Errorf("log lacks the loop:\n%s", e.log.String())
	}
}

// TestSieveCompileFailure: a script that does not compile keeps the
// message, flagged, and the other recipients are unaffected.
func TestSieveCompileFailure(t *testing.T) {
	e := newSieveEnv(t, nil)
	e.script("alice", `fileint "x";`)
	got := e.deliverOne(e.sieveServer(), []string{"alice", "bob"}, testMessage("<bad@x>"))
	for _, r := range got {
		if !match("250 2.1.5 Success SESSIONID=<*>", r) {
			t.Fatalf("replies %q", got)
		}
	}
	if fl := e.newestFlags("user.alice"); !slices.Contains(fl, SieveFailedFlag) {
		t.Errorf("alice's copy flags %v", fl)
	}
	if e.count("user.bob") != 1 {
		t.Errorf("bob holds %d", e.count("user.bob"))
	}
}
