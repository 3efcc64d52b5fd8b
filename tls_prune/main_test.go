package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/tool"
)

func TestTLSPrune(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "imapd.conf")
	os.WriteFile(conf, []byte("configdirectory: "+dir+"\n"), 0o644)
	var e, l bytes.Buffer
	o := tool.Options{LogWriter: &l, Euid: func() int { return 1000 }}
	if code := run([]string{"-C", conf}, &e, o); code != 0 || e.Len() != 0 || l.Len() != 0 {
		t.Fatalf("exit %d, stderr %q, log %q", code, e.String(), l.String())
	}
	if code := run([]string{"-C", conf, "extra"}, &e, o); code != tool.ExitUsage {
		t.Fatalf("extra argument: exit %d", code)
	}
	if code := run([]string{"-C", filepath.Join(dir, "none")}, &e, o); code != tool.ExitConfig {
		t.Fatalf("missing config: exit %d", code)
	}
}
