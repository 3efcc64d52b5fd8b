package imapserver

// The shared test helpers of the package: an in-process server over a
// real mail store (in-memory databases, files in t.TempDir()), client
// connections over a socketpair, and a runner of golden transcripts.
//
// A transcript (testdata/*.txt) is read line by line:
//
//	# comment               ignored, as are blank lines
//	@conf KEY VALUE         imapd.conf option (before the first @conn)
//	@create NAME            create mailbox NAME (internal name) as admin
//	@quota ROOT KIB         make ROOT a quota root of KIB KiB
//	@date DATE-TIME         internal date of later @append ("02-Jan-2024 10:00:00 +0100")
//	@append NAME FILE [FLAG ...]
//	                        deliver testdata/msg/FILE (LF made CRLF) into NAME,
//	                        as another process would
//	@conn NAME              open connection NAME (greeting read) or switch to it
//	@login USER             LOGIN on the current connection, answer read
//	C: TEXT                 send TEXT and CRLF (<<NAME>> is a remembered value)
//	S: PATTERN              read one line (CRLF removed) and match it
//
// A PATTERN is literal text with these holes:
//
//	<<*>>        any text
//	<<n>>        a number
//	<<NAME:n>>   a number, remembered as NAME (compared if NAME is known)
//	<<NAME:*>>   any text without spaces, remembered as NAME
//	<<NAME>>     the text remembered as NAME
//
// Server lines inside literals are matched like any other line, so a
// literal's content appears as S: lines of its own.

import (
	"bufio"
	"context"
	"fmt"
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
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/quota"
)

// memDBs serves in-memory databases, one per name.
type memDBs struct {
	mu  sync.Mutex
	dbs map[string]*cyrusdb.Mem
}

func (m *memDBs) DB(name string) (cyrusdb.DB, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dbs == nil {
		m.dbs = map[string]*cyrusdb.Mem{}
	}
	if m.dbs[name] == nil {
		m.dbs[name] = cyrusdb.NewMem()
	}
	return m.dbs[name], nil
}

// testEnv is one server with its store.
type testEnv struct {
	t     testing.TB
	dir   string
	store *mailbox.Store
	srv   *Server
	ctx   context.Context
	stop  context.CancelFunc
	wg    sync.WaitGroup
}

// testAdmin is the identity fixtures use.
var testAdmin = acl.Identity{UserID: "cyrus", Admin: true}

// newTestEnv starts a server; extra options override the defaults
// ("@DIR@" in a value is the test's directory).
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
		"expunge_mode":        "delayed",
		"servername":          "test.example",
		"imapidlepoll":        "1",
		"altnamespace":        "no",
		"unixhierarchysep":    "no",
	}
	for k, v := range extra {
		kv[k] = strings.ReplaceAll(v, "@DIR@", dir)
	}
	cfg, err := config.FromMap(kv, "imap")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	log := logging.Discard()
	store, err := mailbox.New(cfg, &memDBs{}, log)
	if err != nil {
		t.Fatalf("store: %v", err)
	}
	a := auth.NewAuthenticator(cfg, auth.NewChecker(cfg, nil, log), log, "imap")
	e := &testEnv{t: t, dir: dir, store: store}
	e.srv = New(Options{Config: cfg, Store: store, Auth: a, Logger: log})
	e.ctx, e.stop = context.WithCancel(context.Background())
	t.Cleanup(func() {
		e.stop()
		e.wg.Wait()
	})
	return e
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

// serve runs a session on conn until it ends; the env waits for it.
func (e *testEnv) serve(conn net.Conn) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer conn.Close()
		e.srv.ServeConn(e.ctx, conn)
	}()
}

// create makes a mailbox as admin.
func (e *testEnv) create(name string) {
	e.t.Helper()
	if _, err := e.store.Create(testAdmin, name, mailbox.CreateOptions{}); err != nil {
		e.t.Fatalf("create %s: %v", name, err)
	}
}

// deliver appends msg to the mailbox as another process would.
func (e *testEnv) deliver(name, msg string, date time.Time, flags ...string) uint32 {
	e.t.Helper()
	m, err := e.store.OpenForDelivery(name)
	if err != nil {
		e.t.Fatalf("open %s: %v", name, err)
	}
	defer m.Close()
	uid, err := m.AppendReader(strings.NewReader(msg), flags, date, 0)
	if err != nil {
		e.t.Fatalf("append to %s: %v", name, err)
	}
	return uid
}

// testConn is a client connection.
type testConn struct {
	t    testing.TB
	conn net.Conn
	br   *bufio.Reader
}

// dial opens a connection and reads the greeting.
func (e *testEnv) dial() *testConn {
	e.t.Helper()
	client, server := socketPair(e.t)
	e.serve(server)
	c := &testConn{t: e.t, conn: client, br: bufio.NewReader(client)}
	e.t.Cleanup(func() { client.Close() })
	if g := c.line(); !strings.HasPrefix(g, "* OK ") {
		e.t.Fatalf("greeting %q", g)
	}
	return c
}

func (c *testConn) send(s string) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.conn.Write([]byte(s + "\r\n")); err != nil {
		c.t.Fatalf("send %q: %v", s, err)
	}
}

// line reads one server line without its CRLF.
func (c *testConn) line() string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	s, err := c.br.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (have %q)", err, s)
	}
	return strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")
}

// cmd sends "tag command" and returns the lines up to and including the
// tagged response.
func (c *testConn) cmd(tag, command string) []string {
	c.t.Helper()
	c.send(tag + " " + command)
	var out []string
	for {
		l := c.line()
		out = append(out, l)
		if strings.HasPrefix(l, tag+" ") {
			return out
		}
	}
}

// mustOK is cmd that fails the test unless the answer is OK.
func (c *testConn) mustOK(tag, command string) []string {
	c.t.Helper()
	out := c.cmd(tag, command)
	if !strings.HasPrefix(out[len(out)-1], tag+" OK") {
		c.t.Fatalf("%s %s: %q", tag, command, out)
	}
	return out
}

// transcript is the state of one runTranscript.
type transcript struct {
	t     *testing.T
	file  string
	env   *testEnv
	conf  map[string]string
	conns map[string]*testConn
	cur   *testConn
	vars  map[string]string
	date  time.Time
}

// runTranscript runs testdata/FILE (see the file comment for the
// syntax).
func runTranscript(t *testing.T, file string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	tr := &transcript{
		t: t, file: file, conf: map[string]string{}, conns: map[string]*testConn{}, vars: map[string]string{},
		date: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		if err := tr.step(line); err != nil {
			t.Fatalf("%s:%d: %v", file, i+1, err)
		}
	}
}

func (tr *transcript) ensureEnv() {
	if tr.env == nil {
		tr.env = newTestEnv(tr.t, tr.conf)
	}
}

func (tr *transcript) step(line string) error {
	switch {
	case strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#"):
		return nil
	case strings.HasPrefix(line, "C: "):
		if tr.cur == nil {
			return fmt.Errorf("C: before @conn")
		}
		tr.cur.send(tr.expand(line[3:]))
		return nil
	case strings.HasPrefix(line, "S:"):
		if tr.cur == nil {
			return fmt.Errorf("S: before @conn")
		}
		want := strings.TrimPrefix(strings.TrimPrefix(line, "S:"), " ")
		got := tr.cur.line()
		if !tr.match(want, got) {
			return fmt.Errorf("server sent\n\t%q\nwant\n\t%q", got, want)
		}
		return nil
	case strings.HasPrefix(line, "@"):
		return tr.directive(strings.Fields(line))
	}
	return fmt.Errorf("unknown line %q", line)
}

func (tr *transcript) directive(f []string) error {
	args := f[1:]
	need := func(n int) error {
		if len(args) < n {
			return fmt.Errorf("%s needs %d arguments", f[0], n)
		}
		return nil
	}
	switch f[0] {
	case "@conf":
		if err := need(2); err != nil {
			return err
		}
		if tr.env != nil {
			return fmt.Errorf("@conf after the server started")
		}
		tr.conf[args[0]] = strings.Join(args[1:], " ")
	case "@create":
		if err := need(1); err != nil {
			return err
		}
		tr.ensureEnv()
		tr.env.create(args[0])
	case "@quota":
		if err := need(2); err != nil {
			return err
		}
		tr.ensureEnv()
		kib, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil {
			return err
		}
		return tr.env.store.Quota().SetLimits(args[0], quota.Limits{Storage: kib, Message: quota.Unlimited})
	case "@date":
		d, err := time.Parse("02-Jan-2006 15:04:05 -0700", strings.Join(args, " "))
		if err != nil {
			return err
		}
		tr.date = d
	case "@append":
		if err := need(2); err != nil {
			return err
		}
		tr.ensureEnv()
		msg, err := readMessage(args[1])
		if err != nil {
			return err
		}
		tr.env.deliver(args[0], msg, tr.date, args[2:]...)
	case "@conn":
		if err := need(1); err != nil {
			return err
		}
		tr.ensureEnv()
		if c := tr.conns[args[0]]; c != nil {
			tr.cur = c
			return nil
		}
		tr.cur = tr.env.dial()
		tr.conns[args[0]] = tr.cur
	case "@login":
		if err := need(1); err != nil {
			return err
		}
		if tr.cur == nil {
			return fmt.Errorf("@login before @conn")
		}
		tr.cur.mustOK("L0", "LOGIN "+args[0]+" secret")
	default:
		return fmt.Errorf("unknown directive %s", f[0])
	}
	return nil
}

// readMessage reads testdata/msg/name with CRLF line ends.
func readMessage(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join("testdata", "msg", name))
	if err != nil {
		return "", err
	}
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n"), nil
}

var holeRE = regexp.MustCompile(`<<([A-Za-z0-9_]*)(:?)([^>]*)>>`)

// match matches got against a PATTERN, remembering new variables.
func (tr *transcript) match(pattern, got string) bool {
	var re strings.Builder
	re.WriteString("^")
	var names []string
	last := 0
	for _, loc := range holeRE.FindAllStringSubmatchIndex(pattern, -1) {
		re.WriteString(regexp.QuoteMeta(pattern[last:loc[0]]))
		last = loc[1]
		name := pattern[loc[2]:loc[3]]
		colon := loc[5] > loc[4]
		kind := pattern[loc[6]:loc[7]]
		switch {
		case name == "" && kind == "" && !colon:
			re.WriteString(regexp.QuoteMeta(pattern[loc[0]:loc[1]]))
		case name == "*" || (name == "" && kind == "*"):
			re.WriteString(".*")
		case name == "n" && !colon:
			re.WriteString("[0-9]+")
		case !colon:
			re.WriteString(regexp.QuoteMeta(tr.vars[name]))
		case tr.vars[name] != "":
			re.WriteString(regexp.QuoteMeta(tr.vars[name]))
		case kind == "n":
			re.WriteString("([0-9]+)")
			names = append(names, name)
		default:
			re.WriteString(`(\S+)`)
			names = append(names, name)
		}
	}
	re.WriteString(regexp.QuoteMeta(pattern[last:]))
	re.WriteString("$")
	m := regexp.MustCompile(re.String()).FindStringSubmatch(got)
	if m == nil {
		return false
	}
	for i, n := range names {
		tr.vars[n] = m[i+1]
	}
	return true
}

// expand replaces <<NAME>> in a client line with the remembered value.
func (tr *transcript) expand(s string) string {
	return holeRE.ReplaceAllStringFunc(s, func(h string) string {
		m := holeRE.FindStringSubmatch(h)
		if v, ok := tr.vars[m[1]]; ok && m[2] == "" {
			return v
		}
		return h
	})
}
