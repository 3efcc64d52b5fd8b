package cyrusdb

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSocketPath(t *testing.T) {
	if got := SocketPath("/var/lib/imap"); got != "/var/lib/imap/socket/cyrusdb" {
		t.Fatal(got)
	}
}

// TestOpenDirect: with no master, a tool opens the files itself, and what
// it writes is there for master afterwards.
func TestOpenDirect(t *testing.T) {
	dir := shortDir(t)
	h, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Direct() {
		t.Fatal("Open with no server did not open the files")
	}
	db, err := h.DB(Deliver)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, db, "<id@example>", "1")
	if _, err := h.DB("nosuch"); !errors.Is(err, ErrUnknownDB) {
		t.Fatalf("DB(nosuch): %v", err)
	}
	counts, err := h.Check()
	if err != nil || counts[Deliver] != 1 || counts[Mailboxes] != 0 || len(counts) != len(Names()) {
		t.Fatalf("Check = %v, %v", counts, err)
	}
	if err := h.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}

	ts := startServer(t, dir)
	db, _ = ts.store.DB(Deliver)
	if got := mustGet(t, db, "<id@example>"); got != "1" {
		t.Fatalf("master sees %q", got)
	}
}

// TestOpenThroughServer: with master serving, a tool goes through the
// socket and never touches the files.
func TestOpenThroughServer(t *testing.T) {
	dir := shortDir(t)
	ts := startServer(t, dir)
	h, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.Direct() {
		t.Fatal("Open with a server opened the files")
	}
	db, err := h.DB(Mailboxes)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, db, "user.alice", "x")
	if _, err := h.DB("nosuch"); !errors.Is(err, ErrUnknownDB) {
		t.Fatalf("DB(nosuch): %v", err)
	}
	sdb, _ := ts.store.DB(Mailboxes)
	if got := mustGet(t, sdb, "user.alice"); got != "x" {
		t.Fatalf("store sees %q", got)
	}
	counts, err := h.Check()
	if err != nil || counts[Mailboxes] != 1 {
		t.Fatalf("Check = %v, %v", counts, err)
	}
	if err := h.Checkpoint(); err != nil {
		t.Fatal(err)
	}
}

// TestOpenLockedNoSocket: the files are held (master running) but nothing
// answers on the socket: a clear error wrapping ErrLocked.
func TestOpenLockedNoSocket(t *testing.T) {
	dir := shortDir(t)
	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = Open(dir, nil)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Open: %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "is master running?") || !strings.Contains(err.Error(), SocketPath(dir)) {
		t.Fatalf("unclear error: %v", err)
	}
}

// TestOpenStaleSocket: a socket file left by a crashed master does not
// stop a tool from opening the files.
func TestOpenStaleSocket(t *testing.T) {
	dir := shortDir(t)
	path := SocketPath(dir)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	h, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if !h.Direct() {
		t.Fatal("not direct")
	}
}
