// Package tooltest holds what the admin tools' tests share: a temporary
// imapd.conf, a store opened directly on its files, mailboxes filled with
// messages, and a way to run a tool's run function and capture its output.
package tooltest

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/tool"
)

// Admin is the admin identity the tests create mailboxes as.
var Admin = acl.Identity{UserID: "cyrus", Admin: true}

// Setup writes an imapd.conf (configdirectory and partition under a
// temporary directory, admin cyrus, then extra) and returns its path and
// the directory.
func Setup(t testing.TB, extra string) (conf, dir string) {
	t.Helper()
	dir = t.TempDir()
	conf = filepath.Join(dir, "imapd.conf")
	text := "configdirectory: " + dir + "/conf\npartition-default: " + dir + "/spool\nadmins: cyrus\n" + extra
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf, dir
}

// WithStore opens the databases directly (no master) for fn and closes
// them afterwards, so the tool under test can open them itself.
func WithStore(t testing.TB, conf string, fn func(s *mailbox.Store)) {
	t.Helper()
	cfg, err := config.Load(conf, "", logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	st, err := cyrusdb.OpenStore(cfg.String(config.ConfigDirectory))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := mailbox.New(cfg, st, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	fn(s)
}

// Populate creates mailbox name with n small messages and returns its
// data and metadata directories.
func Populate(t testing.TB, s *mailbox.Store, name string, n int) (data, meta string) {
	t.Helper()
	if _, err := s.Create(Admin, name, mailbox.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	m, err := s.OpenForDelivery(name)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for i := 0; i < n; i++ {
		msg := "Subject: " + strings.Repeat("x", i) + "\r\n\r\nbody\r\n"
		if _, err := m.AppendReader(strings.NewReader(msg), nil, time.Time{}, 0); err != nil {
			t.Fatal(err)
		}
	}
	data, meta, _ = s.Dirs(m.Entry())
	return data, meta
}

// RunFunc is a tool's testable main.
type RunFunc func(args []string, stdout, stderr io.Writer, o tool.Options) int

// Run runs a tool as an unprivileged user and returns its exit code, its
// standard output, and its standard error followed by its log lines.
func Run(run RunFunc, args ...string) (code int, stdout, stderr string) {
	var o, e, l bytes.Buffer
	code = run(args, &o, &e, tool.Options{LogWriter: &l, Euid: func() int { return 1000 }})
	return code, o.String(), e.String() + l.String()
}
