package cyrusdb

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// shortDir is a temporary configuration directory with a short path:
// t.TempDir() nests the test name, and a Unix socket path must fit in 108
// bytes.
func shortDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cdb")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// logBuffer collects log lines from several goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// waitLog waits for s to appear in the log; the server logs after it has
// closed the connection, so a client may see the close first.
func (l *logBuffer) waitLog(t testing.TB, s string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(l.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("log lacks %q:\n%s", s, l.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testServer is a Store served on its socket, as master runs it.
type testServer struct {
	dir   string
	store *Store
	srv   *Server
	log   *logBuffer
}

func startServer(t testing.TB, dir string, opts ...Option) *testServer {
	t.Helper()
	ts := &testServer{dir: dir, log: &logBuffer{}}
	st, err := OpenStore(dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Serve(context.Background(), st, SocketPath(dir), ts.log.logger())
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	ts.store, ts.srv = st, srv
	t.Cleanup(ts.stop)
	return ts
}

// stop closes the server then the store, as master does on shutdown; it
// may be called more than once.
func (ts *testServer) stop() {
	if ts.srv != nil {
		ts.srv.Close()
		ts.srv = nil
	}
	if ts.store != nil {
		ts.store.Close()
		ts.store = nil
	}
}

func dial(t testing.TB, path string, opts ...DialOption) *Client {
	t.Helper()
	c, err := Dial(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// impls are the implementations the conformance suite runs against.
type impl struct {
	name string
	open func(t *testing.T) DB
}

func impls() []impl {
	return []impl{
		{"mem", func(t *testing.T) DB { return NewMem() }},
		{"level", func(t *testing.T) DB {
			l, err := OpenLevel(filepath.Join(t.TempDir(), "db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			return l
		}},
		{"client", func(t *testing.T) DB {
			ts := startServer(t, shortDir(t))
			return dial(t, ts.srv.Path()).DB(Mailboxes)
		}},
	}
}

func mustGet(t testing.TB, db DB, key string) string {
	t.Helper()
	v, err := db.Get([]byte(key))
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return string(v)
}

func mustPut(t testing.TB, db DB, key, value string) {
	t.Helper()
	if err := db.Put([]byte(key), []byte(value)); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func absent(t testing.TB, db DB, key string) {
	t.Helper()
	if v, err := db.Get([]byte(key)); err != ErrNotFound {
		t.Fatalf("Get(%q) = %q, %v; want ErrNotFound", key, v, err)
	}
}

// dump returns every key=value of db under prefix, in scan order.
func dump(t testing.TB, db DB, prefix string) []string {
	t.Helper()
	var out []string
	err := db.Scan([]byte(prefix), func(k, v []byte) error {
		out = append(out, string(k)+"="+string(v))
		return nil
	})
	if err != nil {
		t.Fatalf("Scan(%q): %v", prefix, err)
	}
	return out
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
