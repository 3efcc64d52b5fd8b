package tool

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
)

func TestCheckUser(t *testing.T) {
	cases := []struct {
		conf map[string]string
		euid int
		ok   bool
	}{
		{map[string]string{}, 1000, true},
		{map[string]string{}, 0, false}, // the default cyrus_user does not allow root
		{map[string]string{"cyrus_user": "cyrus"}, 0, false},
		{map[string]string{"cyrus_user": "root"}, 0, true},
		{map[string]string{"cyrus_user": "root"}, 1000, true},
	}
	for _, c := range cases {
		cfg, err := config.FromMap(c.conf, "ctl_cyrusdb")
		if err != nil {
			t.Fatal(err)
		}
		err = CheckUser(cfg, c.euid)
		if (err == nil) != c.ok || err != nil && !errors.Is(err, ErrRoot) {
			t.Errorf("%v euid %d: %v", c.conf, c.euid, err)
		}
	}
}

func writeConf(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "imapd.conf")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSetup(t *testing.T) {
	var logs bytes.Buffer
	path := writeConf(t, "configdirectory: /var/lib/imap\nsyslog_prefix: cyrus-anchor\nnosuchoption: 1\n")
	cfg, logger, err := SetupWith("ctl_cyrusdb", path, Options{LogWriter: &logs, Euid: func() int { return 1000 }})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.String(config.ConfigDirectory) != "/var/lib/imap" || cfg.Service() != "ctl_cyrusdb" {
		t.Fatalf("config %q for %q", cfg.String(config.ConfigDirectory), cfg.Service())
	}
	logger.Info("recovering cyrus databases")
	if !strings.Contains(logs.String(), "cyrus-anchor/ctl_cyrusdb[") || !strings.Contains(logs.String(), "recovering cyrus databases") {
		t.Fatalf("log lines:\n%s", logs.String())
	}

	// Root without cyrus_user: root is refused, with it accepted.
	_, _, err = SetupWith("ctl_cyrusdb", path, Options{LogWriter: &logs, Euid: func() int { return 0 }})
	if !errors.Is(err, ErrRoot) {
		t.Fatalf("as root: %v", err)
	}
	rootPath := writeConf(t, "configdirectory: /var/lib/imap\ncyrus_user: root\n")
	if _, _, err := SetupWith("ctl_cyrusdb", rootPath, Options{LogWriter: &logs, Euid: func() int { return 0 }}); err != nil {
		t.Fatalf("as root with cyrus_user: root: %v", err)
	}

	// A file without configdirectory, or no file, is a configuration error.
	if _, _, err := SetupWith("ctl_cyrusdb", writeConf(t, "admins: cyrus\n"), Options{LogWriter: &logs}); err == nil {
		t.Fatal("config without configdirectory accepted")
	}
	if _, _, err := SetupWith("ctl_cyrusdb", filepath.Join(t.TempDir(), "none"), Options{LogWriter: &logs}); err == nil {
		t.Fatal("missing config accepted")
	}
}
