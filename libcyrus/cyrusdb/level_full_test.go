package cyrusdb

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// smallFS mounts a tmpfs of size on a new directory, or skips the test
// where that is not permitted (it needs root).
func smallFS(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fill writes a file in dir until the file system is full.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "ballast")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			return path
		}
	}
}

// A write that failed for want of space must not keep failing once there
// is space again (goleveldb keeps a journal write error until reopened),
// and nothing written before is lost.
func TestLevelFullDisk(t *testing.T) {
	writes := []struct {
		name  string
		write func(l *Level, key, value []byte) error
	}{
		{"put", func(l *Level, k, v []byte) error { return l.Put(k, v) }},
		{"batch", func(l *Level, k, v []byte) error { return l.Batch([]Op{{Key: k, Value: v}}) }},
		{"put-if-absent", func(l *Level, k, v []byte) error {
			ok, err := l.PutIfAbsent(k, v)
			if err == nil && !ok {
				return fmt.Errorf("%s already there", k)
			}
			return err
		}},
		{"compare-and-swap", func(l *Level, k, v []byte) error {
			ok, err := l.CompareAndSwap(k, nil, v)
			if err == nil && !ok {
				return fmt.Errorf("%s already there", k)
			}
			return err
		}},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			fs := smallFS(t, "2m")
			dir := filepath.Join(fs, "db")
			l, err := OpenLevel(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			value := bytes.Repeat([]byte("v"), 8<<10)
			if err := w.write(l, []byte("before"), value); err != nil {
				t.Fatal(err)
			}
			ballast := fill(t, fs)
			failed := false
			for i := 0; i < 50 && !failed; i++ {
				failed = w.write(l, fmt.Appendf(nil, "full-%d", i), value) != nil
			}
			if !failed {
				t.Fatal("no write failed on a full file system")
			}
			if err := os.Remove(ballast); err != nil {
				t.Fatal(err)
			}
			if err := w.write(l, []byte("after"), value); err != nil {
				t.Fatalf("write once there is space again: %v", err)
			}
			for _, k := range []string{"before", "after"} {
				if v, err := l.Get([]byte(k)); err != nil || !bytes.Equal(v, value) {
					t.Errorf("get %s: %d bytes, %v", k, len(v), err)
				}
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l2, err := OpenLevel(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer l2.Close()
			for _, k := range []string{"before", "after"} {
				if v, err := l2.Get([]byte(k)); err != nil || !bytes.Equal(v, value) {
					t.Errorf("after reopening, get %s: %d bytes, %v", k, len(v), err)
				}
			}
		})
	}
}
