package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/duplicate"
	"github.com/cyrusgo/cyrusgo/libcyrus/tool"
)

var now = time.Unix(1_796_009_662, 0)

func clock() time.Time { return now }

// setup writes an imapd.conf and a deliver database with three records.
func setup(t *testing.T) (conf, dir string) {
	t.Helper()
	dir = t.TempDir()
	conf = filepath.Join(dir, "imapd.conf")
	body := "configdirectory: " + dir + "/conf\npartition-default: " + dir + "/spool\ncyrus_user: root\n"
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := cyrusdb.OpenStore(filepath.Join(dir, "conf"))
	if err != nil {
		t.Fatal(err)
	}
	db, _ := st.DB(cyrusdb.Deliver)
	s := duplicate.New(db, duplicate.Options{})
	day := 24 * time.Hour
	s.Mark(duplicate.Key{ID: "<seed0@example.com>", To: "yvoamfhl8e7o98t1l85moveg", Date: "d"}, now.Add(-10*day), 1)
	s.Mark(duplicate.Key{ID: "<seed1@example.com>", To: "yvoamfhl8e7o98t1l85moveg", Date: "d"}, now.Add(-2*day), 2)
	s.Mark(duplicate.Key{ID: "<sieve-1@example.com>", To: ".alice@internal.sieve.", Date: "d"}, now.Add(-day), 0)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return conf, dir
}

func runIt(t *testing.T, args ...string) (int, string, string, string) {
	t.Helper()
	var out, errOut, logs bytes.Buffer
	rc := run(append([]string{"/usr/lib/cyrus/bin/ctl_deliver"}, args...), &out, &errOut, tool.Options{LogWriter: &logs}, clock)
	return rc, out.String(), errOut.String(), logs.String()
}

// TestUsage: ctl_deliver_usage.txt.
func TestUsage(t *testing.T) {
	const usage = "ctl_deliver [-C <altconfig>] -d [-f <dbfile>]\n"
	for _, c := range []struct {
		args   []string
		stderr string
	}{
		{nil, usage},
		{[]string{"-h"}, "/usr/lib/cyrus/bin/ctl_deliver: invalid option -- 'h'\n" + usage},
		{[]string{"-d", "-d"}, usage},
		{[]string{"-d", "-E", "3"}, usage},
		{[]string{"-d", "-f"}, "/usr/lib/cyrus/bin/ctl_deliver: option requires an argument -- 'f'\n" + usage},
		{[]string{"-E", "x"}, "ctl_deliver: bad age \"x\": must specify positive number of days\n" + usage},
		{[]string{"extra"}, usage},
	} {
		rc, out, stderr, _ := runIt(t, c.args...)
		if rc != 255 || out != "" || stderr != c.stderr {
			t.Errorf("%q: rc %d, stdout %q, stderr %q; want 255, %q", c.args, rc, out, stderr, c.stderr)
		}
	}
}

// TestDumpAndPrune works on the files, as with master down.
func TestDumpAndPrune(t *testing.T) {
	conf, dir := setup(t)
	rc, out, stderr, _ := runIt(t, "-C", conf, "-d")
	want := "it is NOW: 1796009662\n" +
		"id: <seed0@example.com>                     \tto: yvoamfhl8e7o98t1l85moveg\tat: 1795145662\tuid: 1\n" +
		"id: <seed1@example.com>                     \tto: yvoamfhl8e7o98t1l85moveg\tat: 1795836862\tuid: 2\n" +
		"id: <sieve-1@example.com>                   \tto: .alice@internal.sieve.\tat: 1795923262\tuid: 0\n" +
		"got 3 entries\n"
	if rc != 0 || out != want {
		t.Fatalf("-d: rc %d, stderr %q, stdout:\n%s\nwant:\n%s", rc, stderr, out, want)
	}
	// --dump and -f on the database directory give the same.
	rc, out2, _, _ := runIt(t, "-C"+conf, "--dump", "-f", filepath.Join(dir, "conf", "db", "deliver"))
	if rc != 0 || out2 != want {
		t.Fatalf("--dump -f: rc %d:\n%s", rc, out2)
	}

	rc, out, stderr, logs := runIt(t, "-C", conf, "-E", "3")
	if rc != 0 || out != "" || stderr != "" {
		t.Fatalf("-E: rc %d, %q %q", rc, out, stderr)
	}
	for _, l := range []string{"duplicate_prune: pruning back 3.00 days", "duplicate_prune: purged 1 out of 3 entries"} {
		if !strings.Contains(logs, l) {
			t.Errorf("-E log lacks %q:\n%s", l, logs)
		}
	}
	_, out, _, _ = runIt(t, "-C", conf, "-d")
	if !strings.HasSuffix(out, "got 2 entries\n") || strings.Contains(out, "seed0") {
		t.Errorf("after -E 3:\n%s", out)
	}
	// A fraction of a day, and a unit, as cyr_expire takes them.
	_, _, _, logs = runIt(t, "-C", conf, "-E", "36h")
	if !strings.Contains(logs, "pruning back 1.50 days") || !strings.Contains(logs, "purged 1 out of 2 entries") {
		t.Errorf("-E 36h:\n%s", logs)
	}
}

func TestBadConfig(t *testing.T) {
	rc, _, _, _ := runIt(t, "-C", filepath.Join(t.TempDir(), "missing.conf"), "-d")
	if rc != tool.ExitConfig {
		t.Errorf("missing imapd.conf: rc %d", rc)
	}
}
