package fsutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

func TestSweepStages(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skipf("cannot run true: %v", err)
	}
	deadPID := strconv.Itoa(dead.Process.Pid)
	live := newStageName(t)
	tests := []struct {
		name string
		keep bool
	}{
		{live, true},
		{"stage." + deadPID + ".abc.1.tmp", false},
		{"stage." + deadPID + ".abc.2", true}, // not a staging file's name
		{"copy." + deadPID + ".abc.3.tmp", false},
		{"stage.x.abc.1.tmp", true},
		{"12.", true},
	}
	dir := filepath.Dir(live)
	for _, tt := range tests {
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(tt.name)), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	n, err := SweepStages(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("removed %d files, want 2", n)
	}
	for _, tt := range tests {
		_, err := os.Stat(filepath.Join(dir, filepath.Base(tt.name)))
		if kept := err == nil; kept != tt.keep {
			t.Errorf("%s: kept %v, want %v", tt.name, kept, tt.keep)
		}
	}
	if n, err := SweepStages(filepath.Join(dir, "missing")); n != 0 || err != nil {
		t.Errorf("missing directory: %d, %v", n, err)
	}
}

// newStageName is the path a staging file of this process gets.
func newStageName(t *testing.T) string {
	t.Helper()
	st, err := NewStage(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st.f.Close()
	return st.path
}
