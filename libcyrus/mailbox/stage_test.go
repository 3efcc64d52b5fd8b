package mailbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
)

// A process killed with a message staged leaves the staging file; the
// next process to open the store removes it, and keeps a live one's.
func TestNewSweepsDeadProcessesStages(t *testing.T) {
	s := testStore(t, nil)
	stage := s.stageDir("default")
	sm, err := s.Stage("", strings.NewReader("From: a@example.com\r\n\r\nhi\r\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sm.Close()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skipf("cannot run true: %v", err)
	}
	left := filepath.Join(stage, "stage."+strconv.Itoa(dead.Process.Pid)+".x.1.tmp")
	if err := os.WriteFile(left, []byte("half a message"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.FromMap(map[string]string{"configdirectory": t.TempDir(), "partition-default": filepath.Dir(stage)}, "imap")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg, cyrusdb.NewMemSet(), logging.Discard()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("dead process's staging file still there: %v", err)
	}
	ents, _ := os.ReadDir(stage)
	if len(ents) != 1 {
		t.Errorf("stage directory holds %d files, want this process's one", len(ents))
	}
}
