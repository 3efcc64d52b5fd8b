package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/tool"
	"github.com/cyrusgo/cyrusgo/libcyrus/tool/tooltest"
)

// The set-up every tool test shares lives in package tooltest.
var (
	admin     = tooltest.Admin
	setup     = tooltest.Setup
	withStore = tooltest.WithStore
)

func ctl(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e, l bytes.Buffer
	code = run(args, strings.NewReader(stdin), &o, &e, tool.Options{LogWriter: &l, Euid: func() int { return 1000 }})
	return code, o.String(), e.String() + l.String()
}

func TestDumpUndump(t *testing.T) {
	conf, _ := setup(t, "")
	withStore(t, conf, func(s *mailbox.Store) {
		for _, n := range []string{"user.alice", "user.alice.Sent", "shared.news"} {
			if _, err := s.Create(admin, n, mailbox.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		s.SetSpecialUse(admin, "user.alice.Sent", `\Sent`)
	})
	code, dump, errs := ctl(t, "", "-C", conf, "-d")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(dump, "\n")
	// "{", three members, "}", and the final newline.
	if len(lines) != 6 || lines[0] != "{" || lines[4] != "}" || lines[5] != "" {
		t.Fatalf("dump layout:\n%s", dump)
	}
	if !strings.HasPrefix(lines[1], `"shared.news": {"name": "shared.news", "mtime": "`) ||
		!strings.HasSuffix(lines[1], `"name_history": []},`) ||
		!strings.Contains(lines[2], `"mbtype": "e", "partition": "default", "acl": {"alice": "lrswipkxtecdan"}, "uniqueid": "`) ||
		!strings.Contains(lines[3], `"legacy_specialuse": "\\Sent"`) {
		t.Fatalf("dump:\n%s", dump)
	}
	var parsed map[string]map[string]any
	if err := json.Unmarshal([]byte(dump), &parsed); err != nil || len(parsed) != 3 {
		t.Fatalf("not JSON: %v", err)
	}
	// -x removes what it dumps; -u puts it back as it was.
	if code, _, errs := ctl(t, "", "-C", conf, "-d", "-x", "-p", "default"); code != 0 {
		t.Fatalf("-x: %d %s", code, errs)
	}
	if _, empty, _ := ctl(t, "", "-C", conf, "-d"); empty != "{\n\n}\n" {
		t.Fatalf("after -x: %q", empty)
	}
	if code, _, errs := ctl(t, dump, "-C", conf, "-u"); code != 0 || errs != "" {
		t.Fatalf("-u: %d %s", code, errs)
	}
	if _, again, _ := ctl(t, "", "-C", conf, "-d"); again != dump {
		t.Fatalf("round trip:\n%s\nvs\n%s", dump, again)
	}
}

// TestUndumpCyrus loads a dump in Cyrus 3.6's layout, remote and
// tombstone entries included.
func TestUndumpCyrus(t *testing.T) {
	conf, _ := setup(t, "")
	in := `{
"user.bob": {"mtime": "1690000000", "uidvalidity": "1690000001", "createdmodseq": "1", "foldermodseq": "4", "mbtype": "e", "partition": "default", "acl": {"bob": "lrswipkxtecdan", "anyone": "p"}, "uniqueid": "6a1b0c4e-1234", "name_history": []},
"user.gone": {"mtime": "1690000000", "uidvalidity": "1", "mbtype": "ed", "partition": "default", "acl": {}, "uniqueid": "x"},
"user.far": {"mtime": "1690000000", "uidvalidity": "1", "mbtype": "er", "server": "other", "partition": "default", "acl": {}, "uniqueid": "y"},
"user.nouid": {"mbtype": "e", "partition": "default", "acl": {}}
}`
	code, _, errs := ctl(t, in, "-C", conf, "-u")
	if code != 0 || !strings.Contains(errs, "missing uniqueid for user.nouid") || !strings.Contains(errs, "user.far: remote mailbox skipped") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	withStore(t, conf, func(s *mailbox.Store) {
		e, err := s.Lookup("user.bob")
		if err != nil || e.UIDValidity != 1690000001 || e.UniqueID != "6a1b0c4e-1234" || e.ACL != "bob\tlrswipkxtecdan\tanyone\tp\t" {
			t.Fatalf("entry %+v %v", e, err)
		}
		if _, err := s.Lookup("user.gone"); err == nil {
			t.Fatal("tombstone loaded")
		}
	})
	if code, _, _ := ctl(t, "{", "-C", conf, "-u"); code != 1 {
		t.Fatalf("bad JSON: exit %d", code)
	}
}

func TestDumpFile(t *testing.T) {
	conf, dir := setup(t, "")
	withStore(t, conf, func(s *mailbox.Store) { s.Create(admin, "user.zed", mailbox.CreateOptions{}) })
	code, out, errs := ctl(t, "", "-C", conf, "-d", "-f", filepath.Join(cyrusdb.DBDir(dir+"/conf"), cyrusdb.Mailboxes))
	if code != 0 || !strings.Contains(out, `"user.zed": {`) {
		t.Fatalf("exit %d out %q %s", code, out, errs)
	}
}

func TestUsage(t *testing.T) {
	conf, _ := setup(t, "")
	for _, args := range [][]string{{}, {"-d", "-u"}, {"-u", "-x"}, {"-d", "extra"}} {
		if code, _, errs := ctl(t, "", append([]string{"-C", conf}, args...)...); code != tool.ExitUsage || !strings.Contains(errs, "usage: ctl_mboxlist") {
			t.Errorf("%q: exit %d %q", args, code, errs)
		}
	}
}

func TestJSONString(t *testing.T) {
	for in, want := range map[string]string{
		"user.a/b":   `"user.a/b"`,
		"q\"\\":      `"q\"\\"`,
		"tab\there":  `"tab\there"`,
		"\x01":       `"\u0001"`,
		"Entwürfe":   `"Entwürfe"`,
		"bad\xffutf": `"bad\u00ffutf"`,
	} {
		if got := jsonString(in); got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
}
