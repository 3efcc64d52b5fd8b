package cyrusdb

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLevelPersists(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	l, err := OpenLevel(dir)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, l, "user.alice", "1")
	if err := l.Batch([]Op{{Key: []byte("a"), Value: []byte("2")}, {Key: []byte("user.alice")}}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := l.Get([]byte("a")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v, want ErrClosed", err)
	}
	l, err = OpenLevel(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := dump(t, l, ""); !slices.Equal(got, []string{"a=2"}) {
		t.Fatalf("after reopen %q", got)
	}
}

func TestLevelLocked(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	l, err := OpenLevel(dir)
	if err != nil {
		t.Fatal(err)
	}
	// goleveldb's flock is per open file, so a second open in this very
	// process is refused exactly as one from another process would be.
	_, err = OpenLevel(dir)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("error %q does not name %s", err, dir)
	}
	l.Close()
	l, err = OpenLevel(dir)
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	l.Close()
}

func TestStore(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Names() {
		db, err := st.DB(name)
		if err != nil {
			t.Fatal(err)
		}
		mustPut(t, db, "k", name)
		if fi, err := os.Stat(filepath.Join(DBDir(dir), name)); err != nil || !fi.IsDir() {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := st.DB("nosuch"); !errors.Is(err, ErrUnknownDB) {
		t.Fatalf("DB(nosuch): %v", err)
	}
	// Databases are separate.
	db, _ := st.DB(Seen)
	if got := mustGet(t, db, "k"); got != Seen {
		t.Fatalf("seen has %q", got)
	}
	if _, err := OpenStore(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("second OpenStore: %v, want ErrLocked", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// The failed second open released what it had opened.
	st, err = OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db, _ = st.DB(Users)
	if got := mustGet(t, db, "k"); got != Users {
		t.Fatalf("users has %q", got)
	}
}

// TestLevelRecoversCorruption: a corrupted manifest is rebuilt from the
// tables and journal at open, and that is logged.
func TestLevelRecoversCorruption(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	l, err := OpenLevel(dir)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, l, "user.alice", "1")
	l.Close()
	manifests, _ := filepath.Glob(filepath.Join(dir, "MANIFEST-*"))
	if len(manifests) == 0 {
		t.Fatal("no manifest")
	}
	for _, m := range manifests {
		if err := os.WriteFile(m, []byte("this is not a manifest, not at all, no"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var log logBuffer
	l, err = OpenLevel(dir, WithLogger(log.logger()))
	if err != nil {
		t.Fatalf("open corrupted: %v", err)
	}
	defer l.Close()
	if got := mustGet(t, l, "user.alice"); got != "1" {
		t.Fatalf("recovered value %q", got)
	}
	if !strings.Contains(log.String(), "DBERROR: database corrupted, recovering") {
		t.Fatalf("recovery not logged:\n%s", log.String())
	}
}
