package pop3server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/auth"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
)

// logBuffer collects log lines for assertions. It keeps the last MiB
// or so, so a fuzzer's millions of sessions do not fill memory, and
// remembers whether a session ever panicked.
type logBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	panics int
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if bytes.Contains(p, []byte("panic in POP3 session")) {
		l.panics++
	}
	if l.buf.Len() > 1<<20 {
		l.buf.Reset()
	}
	return l.buf.Write(p)
}

// Panics is how many panics sessions logged.
func (l *logBuffer) Panics() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.panics
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// testEnv is a POP3 server over an in-memory store holding alice (password
// "pass") with an INBOX of the fixture messages and a folder Work.
type testEnv struct {
	cfg   *config.Config
	store *mailbox.Store
	srv   *Server
	log   *logBuffer
	clock atomic.Int64 // unix seconds; Options.Now reads it
}

// fixtures are the messages of alice's INBOX, in UID order: the corner
// cases of RETR and TOP.
var fixtures = []string{
	"From: sender@example.com\r\nTo: alice\r\nSubject: seed 0\r\nMessage-ID: <seed0@example.com>\r\n\r\nHello alice\r\n",
	"From: sender@example.com\r\nSubject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nnot the end\r\n",
	"From: sender@example.com\r\nSubject: no final line end\r\n\r\nline one\r\nno newline at end",
	"From: sender@example.com\nSubject: bare LF\n\nline one\n.line two\n",
	"From: sender@example.com\r\nSubject: five lines\r\n\r\nbody 1\r\nbody 2\r\nbody 3\r\nbody 4\r\nbody 5\r\n",
}

const workMessage = "From: sender@example.com\r\nSubject: in Work\r\n\r\nfiled\r\n"

// newEnv builds the environment; extra holds imapd.conf options on top
// of the defaults, and pwcheck "alwaystrue" makes logins cheap (fuzzing).
func newEnv(t testing.TB, extra map[string]string) *testEnv {
	t.Helper()
	dir := t.TempDir()
	kv := map[string]string{
		"configdirectory":     dir + "/conf",
		"partition-default":   dir + "/spool",
		"admins":              "cyrus",
		"servername":          "pop.example.org",
		"sasl_pwcheck_method": "auxprop",
		"allowplaintext":      "yes",
	}
	for k, v := range extra {
		kv[k] = v
	}
	cfg, err := config.FromMap(kv, "pop3")
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{cfg: cfg, log: &logBuffer{}}
	e.clock.Store(time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC).Unix())
	logger := logging.New(logging.Options{Ident: "pop3", Writer: e.log, Level: logging.LevelDebug})
	dbs := cyrusdb.NewMemSet()
	e.store, err = mailbox.New(cfg, dbs, logger)
	if err != nil {
		t.Fatal(err)
	}
	users, _ := dbs.DB(cyrusdb.Users)
	if kv["sasl_pwcheck_method"] == "auxprop" {
		for u, p := range map[string]string{"alice": "pass", "carol": "pass"} {
			if err := auth.AddUser(users, u, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	a := auth.NewAuthenticator(cfg, auth.NewChecker(cfg, users, logger), logger, "pop")
	e.srv = New(Options{
		Config:    cfg,
		Store:     e.store,
		Auth:      a,
		Logger:    logger,
		Now:       func() time.Time { return time.Unix(e.clock.Load(), 0) },
		FailDelay: -1,
	})
	e.create(t, "user.alice")
	e.create(t, "user.alice.Work")
	e.deliver(t, "user.alice", fixtures...)
	e.deliver(t, "user.alice.Work", workMessage)
	return e
}

var admin = acl.Identity{UserID: "cyrus", Admin: true}

func (e *testEnv) create(t testing.TB, name string) {
	t.Helper()
	if _, err := e.store.Create(admin, name, mailbox.CreateOptions{}); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

// deliver appends messages to a mailbox, as LMTP would.
func (e *testEnv) deliver(t testing.TB, name string, msgs ...string) []uint32 {
	t.Helper()
	m, err := e.store.OpenForDelivery(name)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var uids []uint32
	for _, msg := range msgs {
		uid, err := m.AppendReader(strings.NewReader(msg), nil, time.Time{}, 0)
		if err != nil {
			t.Fatalf("append to %s: %v", name, err)
		}
		uids = append(uids, uid)
	}
	return uids
}

// uidValidity is the UIDVALIDITY of a mailbox.
func (e *testEnv) uidValidity(t testing.TB, name string) uint32 {
	t.Helper()
	ent, err := e.store.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return ent.UIDValidity
}

// client is the test's end of a session over net.Pipe.
type client struct {
	t      testing.TB
	conn   net.Conn
	r      *bufio.Reader
	done   chan struct{}
	cancel context.CancelFunc
}

// dial starts a session and reads the greeting.
func (e *testEnv) dial(t testing.TB) *client {
	t.Helper()
	c := e.connect(t)
	if g := c.readLine(); !strings.HasPrefix(g, "+OK ") {
		t.Fatalf("greeting %q", g)
	}
	return c
}

// connect starts a session without reading anything.
func (e *testEnv) connect(t testing.TB) *client {
	t.Helper()
	cs, ss := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	c := &client{t: t, conn: cs, r: bufio.NewReader(cs), done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(c.done)
		defer ss.Close()
		e.srv.ServeConn(ctx, ss)
	}()
	t.Cleanup(c.close)
	return c
}

func (c *client) close() {
	c.conn.Close()
	c.cancel()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		c.t.Errorf("session did not end")
	}
}

// wait waits for the server side of the session to end.
func (c *client) wait() {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		c.t.Fatalf("session did not end")
	}
}

func (c *client) readLine() string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (got %q)", err, l)
	}
	if !strings.HasSuffix(l, "\r\n") {
		c.t.Fatalf("line without CRLF: %q", l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

func (c *client) send(line string) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(c.conn, "%s\r\n", line); err != nil {
		c.t.Fatalf("send %q: %v", line, err)
	}
}

// cmd sends a command and returns the first line of the response.
func (c *client) cmd(line string) string {
	c.t.Helper()
	c.send(line)
	return c.readLine()
}

// multi reads the rest of a multi-line response, byte-stuffing undone.
func (c *client) multi() []string {
	c.t.Helper()
	var out []string
	for {
		l := c.readLine()
		if l == "." {
			return out
		}
		out = append(out, strings.TrimPrefix(l, "."))
	}
}

// login logs in as alice with USER/PASS.
func (c *client) login() {
	c.t.Helper()
	if r := c.cmd("USER alice"); !strings.HasPrefix(r, "+OK") {
		c.t.Fatalf("USER: %s", r)
	}
	if r := c.cmd("PASS pass"); !strings.HasPrefix(r, "+OK Mailbox locked and ready") {
		c.t.Fatalf("PASS: %s", r)
	}
}

// mustOK fails unless r is a positive response.
func mustOK(t testing.TB, what, r string) {
	t.Helper()
	if !strings.HasPrefix(r, "+OK") {
		t.Fatalf("%s: %s", what, r)
	}
}
