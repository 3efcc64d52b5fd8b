package lmtpserver

// The shared test helpers of the package: an in-process server over a
// real mail store (in-memory databases, files in t.TempDir()), client
// connections over a socketpair (a Unix socket, so pre-authorized as in
// Cyrus, unless the test dresses it as TCP), and a runner of golden
// transcripts modelled on Cyrus's (../../shared/reference/cyrus-3.6/
// lmtp_*.txt).
//
// A transcript (testdata/*.txt) is read line by line:
//
//	# comment              ignored, as are blank lines
//	@conf KEY VALUE        imapd.conf option (before anything else)
//	@create NAME           create mailbox NAME (internal name) as admin
//	@acl NAME ID RIGHTS    set ID's rights on NAME ("" for none)
//	@quota ROOT KIB        make ROOT a quota root of KIB KiB
//	@conn [tcp|tcp-a]      open a connection (closing the current one):
//	                       a Unix socket by default, or TCP that must AUTH,
//	                       or TCP pre-authorized as with lmtpd -a
//	@close                 close the connection, wait for the session
//	C: TEXT                send TEXT and CRLF
//	L: TEXT                send TEXT and a bare LF
//	S: PATTERN             read one line (CRLF removed) and match it
//	= NAME COUNT           NAME holds COUNT messages (closes the connection)
//	~ NAME TEXT            NAME's newest message contains TEXT
//	! NAME TEXT            NAME's newest message does not contain TEXT
//
// A PATTERN is literal text where "<<*>>" matches any text; the session
// ids of server lines, "SESSIONID=<...>", read "SESSIONID=<*>".

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/auth"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/duplicate"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/quota"
)

var testAdmin = acl.Identity{UserID: "cyrus", Admin: true}

// testEnv is one store and the servers over it.
type testEnv struct {
	t     testing.TB
	dir   string
	cfg   *config.Config
	dbs   *cyrusdb.MemSet
	store *mailbox.Store
	log   *syncBuffer
	srv   *Server
	ctx   context.Context
	stop  context.CancelFunc
	wg    sync.WaitGroup
}

// syncBuffer collects log lines from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newTestEnv builds a store with users alice, bob and carol; extra
// options override the defaults.
func newTestEnv(t testing.TB, extra map[string]string) *testEnv {
	t.Helper()
	dir := t.TempDir()
	kv := map[string]string{
		"configdirectory":     dir + "/conf",
		"partition-default":   dir + "/spool",
		"admins":              "cyrus",
		"sasl_pwcheck_method": "alwaystrue",
		"allowplaintext":      "yes",
		"delete_mode":         "immediate",
		"servername":          "test.example",
		"altnamespace":        "no",
		"unixhierarchysep":    "no",
	}
	for k, v := range extra {
		kv[k] = strings.ReplaceAll(v, "@DIR@", dir)
	}
	cfg, err := config.FromMap(kv, "lmtp")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	e := &testEnv{t: t, dir: dir, cfg: cfg, dbs: cyrusdb.NewMemSet(), log: &syncBuffer{}}
	logger := logging.New(logging.Options{Ident: "lmtp", Writer: e.log, Level: logging.LevelDebug})
	e.store, err = mailbox.New(cfg, e.dbs, logger)
	if err != nil {
		t.Fatalf("store: %v", err)
	}
	for _, u := range []string{"alice", "bob", "carol"} {
		e.create("user." + u)
	}
	e.ctx, e.stop = context.WithCancel(context.Background())
	t.Cleanup(func() {
		e.stop()
		e.wg.Wait()
	})
	return e
}

// server returns the env's server, built on first use; mod may adjust
// its options.
func (e *testEnv) server(mod ...func(*Options)) *Server {
	if e.srv != nil && len(mod) == 0 {
		return e.srv
	}
	logger := logging.New(logging.Options{Ident: "lmtp", Writer: e.log, Level: logging.LevelDebug})
	a := auth.NewAuthenticator(e.cfg, auth.NewChecker(e.cfg, nil, logger), logger, "lmtp")
	o := Options{Config: e.cfg, Store: e.store, Auth: a, Logger: logger, AuthDelay: auth.Delay{Base: -1}}
	if e.cfg.Bool(config.DuplicateSuppression) {
		db, _ := e.dbs.DB(cyrusdb.Deliver)
		o.Dupes = duplicate.New(db, duplicate.Options{Logger: logger})
	}
	for _, m := range mod {
		m(&o)
	}
	e.srv = New(o)
	return e.srv
}

func (e *testEnv) create(name string) {
	e.t.Helper()
	if _, err := e.store.Create(testAdmin, name, mailbox.CreateOptions{}); err != nil {
		e.t.Fatalf("create %s: %v", name, err)
	}
}

// count returns how many messages name holds.
func (e *testEnv) count(name string) int {
	e.t.Helper()
	m, err := e.store.OpenForDelivery(name)
	if err != nil {
		e.t.Fatalf("open %s: %v", name, err)
	}
	defer m.Close()
	return m.Count()
}

// newest returns the newest message of name.
func (e *testEnv) newest(name string) string {
	e.t.Helper()
	m, err := e.store.OpenForDelivery(name)
	if err != nil {
		e.t.Fatalf("open %s: %v", name, err)
	}
	defer m.Close()
	n := m.Count()
	if n == 0 {
		e.t.Fatalf("%s is empty", name)
	}
	r, err := m.Record(uint32(n))
	if err != nil {
		e.t.Fatal(err)
	}
	f, err := m.OpenMessage(&r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

// socketPair returns the two ends of a connected Unix stream socket: a
// real kernel buffer, unlike net.Pipe, so pipelined commands cannot
// deadlock the test.
func socketPair(t testing.TB) (client, server net.Conn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	conns := make([]net.Conn, 2)
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatalf("socketpair: %v", err)
		}
		conns[i] = c
	}
	return conns[0], conns[1]
}

// tcpConn dresses a socketpair end as a loopback TCP connection.
type tcpConn struct{ net.Conn }

func (tcpConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000} }
func (tcpConn) LocalAddr() net.Addr  { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 24} }

// testConn is a client connection.
type testConn struct {
	t    testing.TB
	conn net.Conn
	br   *bufio.Reader
	done chan struct{}
}

// dial opens a connection to srv; tcp dresses it as TCP.
func (e *testEnv) dial(srv *Server, tcp bool) *testConn {
	e.t.Helper()
	client, server := socketPair(e.t)
	if tcp {
		server = tcpConn{server}
	}
	c := &testConn{t: e.t, conn: client, br: bufio.NewReader(client), done: make(chan struct{})}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer close(c.done)
		defer server.Close()
		srv.ServeConn(e.ctx, server)
	}()
	e.t.Cleanup(func() { client.Close() })
	return c
}

// close closes the client side and waits for the session to end.
func (c *testConn) close() {
	c.conn.Close()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		c.t.Fatal("session did not end")
	}
}

func (c *testConn) write(s string) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatalf("send %q: %v", s, err)
	}
}

func (c *testConn) send(s string) { c.t.Helper(); c.write(s + "\r\n") }

// line reads one server line without its CRLF.
func (c *testConn) line() string {
	c.t.Helper()
	s, err := c.readLine()
	if err != nil {
		c.t.Fatalf("read: %v (have %q)", err, s)
	}
	return s
}

func (c *testConn) readLine() (string, error) {
	// Generous: a Sieve test may wait for a "sendmail -bs" child on a
	// loaded machine.
	c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	s, err := c.br.ReadString('\n')
	return strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r"), err
}

// expect reads lines and fails unless they match the patterns.
func (c *testConn) expect(patterns ...string) {
	c.t.Helper()
	for _, p := range patterns {
		if got := c.line(); !match(p, got) {
			c.t.Fatalf("server sent %q, want %q", got, p)
		}
	}
}

var sessionIDRE = regexp.MustCompile(`SESSIONID=<[^>]*>`)

// match matches a server line against a pattern.
func match(pattern, got string) bool {
	got = sessionIDRE.ReplaceAllString(got, "SESSIONID=<*>")
	parts := strings.Split(pattern, "<<*>>")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$").MatchString(got)
}

// runTranscript runs testdata/FILE.
func runTranscript(t *testing.T, file string) *testEnv {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	conf := map[string]string{}
	var env *testEnv
	var cur *testConn
	ensure := func() {
		if env == nil {
			env = newTestEnv(t, conf)
		}
	}
	closeCur := func() {
		if cur != nil {
			cur.close()
			cur = nil
		}
	}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("%s:%d: %s", file, i+1, fmt.Sprintf(format, args...))
		}
		f := strings.Fields(line)
		switch {
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "C: ") || line == "C:":
			if cur == nil {
				fail("C: before @conn")
			}
			cur.send(strings.TrimPrefix(strings.TrimPrefix(line, "C:"), " "))
		case strings.HasPrefix(line, "L: ") || line == "L:":
			if cur == nil {
				fail("L: before @conn")
			}
			cur.write(strings.TrimPrefix(strings.TrimPrefix(line, "L:"), " ") + "\n")
		case strings.HasPrefix(line, "S:"):
			if cur == nil {
				fail("S: before @conn")
			}
			want := strings.TrimPrefix(strings.TrimPrefix(line, "S:"), " ")
			got, err := cur.readLine()
			if err != nil {
				fail("read: %v (have %q), want %q\nlog:\n%s", err, got, want, env.log.String())
			}
			if !match(want, got) {
				fail("server sent\n\t%q\nwant\n\t%q\nlog:\n%s", got, want, env.log.String())
			}
		case f[0] == "@conf":
			if env != nil {
				fail("@conf after the store was made")
			}
			conf[f[1]] = strings.Join(f[2:], " ")
		case f[0] == "@create":
			ensure()
			env.create(f[1])
		case f[0] == "@acl":
			ensure()
			rights := ""
			if len(f) > 3 {
				rights = f[3]
			}
			if err := env.store.SetACL(testAdmin, f[1], f[2], rights); err != nil {
				fail("setacl: %v", err)
			}
		case f[0] == "@quota":
			ensure()
			kib, _ := strconv.ParseInt(f[2], 10, 64)
			if err := env.store.Quota().SetLimits(f[1], quota.Limits{Storage: kib, Message: quota.Unlimited}); err != nil {
				fail("quota: %v", err)
			}
		case f[0] == "@conn":
			ensure()
			closeCur()
			srv := env.server()
			tcp := len(f) > 1
			if len(f) > 1 && f[1] == "tcp-a" {
				srv = env.server(func(o *Options) { o.PreAuth = true })
			}
			cur = env.dial(srv, tcp)
		case f[0] == "@close":
			closeCur()
		case f[0] == "=":
			closeCur()
			want, _ := strconv.Atoi(f[2])
			if got := env.count(f[1]); got != want {
				fail("%s holds %d messages, want %d\nlog:\n%s", f[1], got, want, env.log.String())
			}
		case f[0] == "~" || f[0] == "!":
			closeCur()
			text := strings.SplitN(line, " ", 3)[2]
			text = strings.ReplaceAll(text, `\r\n`, "\r\n")
			text = strings.ReplaceAll(text, `\t`, "\t")
			msg := env.newest(f[1])
			if strings.Contains(msg, text) != (f[0] == "~") {
				fail("newest message of %s, containing %q: %v; message:\n%s", f[1], text, f[0] != "~", msg)
			}
		default:
			fail("unknown line %q", line)
		}
	}
	closeCur()
	return env
}
