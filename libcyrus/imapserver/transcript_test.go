package imapserver

// The shared test helpers of the package: an in-process server over a
// real mail store (in-memory databases, files in t.TempDir()), client
// connections over a socketpair, and the runner of the golden transcripts
// of testdata (package imaptest; test/imap runs the same files against
// the built binaries).

import (
	"bufio"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/auth"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/imaptest"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
)

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
	kv := imaptest.Defaults()
	kv["configdirectory"] = dir + "/conf"
	kv["partition-default"] = dir + "/spool"
	for k, v := range extra {
		kv[k] = strings.ReplaceAll(v, "@DIR@", dir)
	}
	cfg, err := config.FromMap(kv, "imap")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	log := logging.Discard()
	store, err := mailbox.New(cfg, cyrusdb.NewMemSet(), log)
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
func (e *testEnv) deliver(name, msg string, date time.Time, flags ...string) {
	e.t.Helper()
	if err := imaptest.Deliver(e.store, name, msg, date, flags...); err != nil {
		e.t.Fatal(err)
	}
}

// Store and Dial make a testEnv an imaptest.Server.
func (e *testEnv) Store() *mailbox.Store { return e.store }

func (e *testEnv) Dial() (net.Conn, error) {
	client, server := socketPair(e.t)
	e.serve(server)
	return client, nil
}

// testConn is a client connection; t, conn and br are those of the
// embedded imaptest.Conn, for tests that read raw bytes.
type testConn struct {
	*imaptest.Conn
	t    testing.TB
	conn net.Conn
	br   *bufio.Reader
}

// dial opens a connection and reads the greeting.
func (e *testEnv) dial() *testConn {
	e.t.Helper()
	client, _ := e.Dial()
	ic := imaptest.NewConn(e.t, client)
	c := &testConn{Conn: ic, t: e.t, conn: client, br: ic.Reader()}
	e.t.Cleanup(func() { client.Close() })
	if g := c.line(); !strings.HasPrefix(g, "* OK ") {
		e.t.Fatalf("greeting %q", g)
	}
	return c
}

func (c *testConn) send(s string)                       { c.t.Helper(); c.Send(s) }
func (c *testConn) line() string                        { c.t.Helper(); return c.Line() }
func (c *testConn) cmd(tag, command string) []string    { c.t.Helper(); return c.Cmd(tag, command) }
func (c *testConn) mustOK(tag, command string) []string { c.t.Helper(); return c.MustOK(tag, command) }

// runTranscript runs testdata/FILE (syntax: package imaptest) in process.
func runTranscript(t *testing.T, file string) {
	t.Helper()
	imaptest.Run(t, filepath.Join("testdata", file), func(t *testing.T, conf map[string]string) imaptest.Server {
		return newTestEnv(t, conf)
	})
}

// readMessage reads testdata/msg/name with CRLF line ends.
func readMessage(name string) (string, error) {
	return imaptest.ReadMessage(filepath.Join("testdata", "msg", name))
}
