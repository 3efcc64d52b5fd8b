package tool

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
)

func TestStatus(t *testing.T) {
	cases := []struct {
		err          error
		setup, after int
	}{
		{fmt.Errorf("%w", ErrRoot), ExitNoPerm, ExitNoPerm},
		{fmt.Errorf("open: %w", cyrusdb.ErrLocked), ExitConfig, ExitTempFail},
		{errors.New("no configdirectory"), ExitConfig, 1},
	}
	for _, c := range cases {
		if got := SetupStatus(c.err); got != c.setup {
			t.Errorf("SetupStatus(%v) = %d, want %d", c.err, got, c.setup)
		}
		if got := Status(c.err); got != c.after {
			t.Errorf("Status(%v) = %d, want %d", c.err, got, c.after)
		}
	}
}

func TestFlags(t *testing.T) {
	var stderr bytes.Buffer
	fs, conf := Flags("quota", &stderr)
	if *conf != config.DefaultPath {
		t.Fatalf("default -C %q", *conf)
	}
	if err := fs.Parse([]string{"-C", "/etc/alt.conf", "user.alice"}); err != nil {
		t.Fatal(err)
	}
	if *conf != "/etc/alt.conf" || fs.NArg() != 1 {
		t.Fatalf("-C %q, args %q", *conf, fs.Args())
	}
	// The tool prints its own error and usage; pflag prints nothing.
	if err := fs.Parse([]string{"--nosuchflag"}); err == nil || stderr.Len() != 0 {
		t.Fatalf("err %v, stderr %q", err, stderr.String())
	}
}

func TestOpenStore(t *testing.T) {
	dir := t.TempDir()
	o := Options{Euid: func() int { return 1000 }}
	good := writeConf(t, "configdirectory: "+dir+"/conf\npartition-default: "+dir+"/spool\n")

	var logs, stderr bytes.Buffer
	o.LogWriter = &logs
	env, code := OpenStore("quota", good, &stderr, o)
	if env == nil || code != 0 {
		t.Fatalf("OpenStore: %d, log %q", code, logs.String())
	}
	if env.Config == nil || env.Logger == nil || env.DBs == nil || env.Store == nil {
		t.Fatalf("env %+v", env)
	}

	// The files are held: a second opener gets EX_TEMPFAIL, reported.
	logs.Reset()
	if e, code := OpenDBs("quota", good, &stderr, o); e != nil || code != ExitTempFail || !strings.Contains(logs.String(), "held by another process") {
		t.Fatalf("second OpenDBs: %v %d, log %q", e, code, logs.String())
	}
	if err := env.Close(); err != nil {
		t.Fatal(err)
	}
	if e, code := OpenDBs("quota", good, &stderr, o); e == nil || code != 0 || e.Store != nil {
		t.Fatalf("OpenDBs after Close: %v %d", e, code)
	} else {
		e.Close()
	}

	// Set-up failures exit with SetupStatus; a store without a partition
	// exits 1; each is logged, and not printed when a LogWriter is set.
	noPart := writeConf(t, "configdirectory: "+dir+"/conf\n")
	cases := []struct {
		path  string
		euid  int
		code  int
		start bool // Start succeeds
	}{
		{filepath.Join(dir, "none.conf"), 1000, ExitConfig, false},
		{good, 0, ExitNoPerm, false},
		{noPart, 1000, 1, true},
	}
	for _, c := range cases {
		logs.Reset()
		o.Euid = func() int { return c.euid }
		if e, code := OpenStore("quota", c.path, &stderr, o); e != nil || code != c.code || logs.Len() == 0 {
			t.Errorf("OpenStore(%s, euid %d): %v %d, log %q", c.path, c.euid, e, code, logs.String())
		}
		if e, _ := Start("quota", c.path, &stderr, o); (e != nil) != c.start {
			t.Errorf("Start(%s, euid %d): %v", c.path, c.euid, e)
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("printed with a LogWriter: %q", stderr.String())
	}

	// After Close of a failed store the files are free again.
	o.Euid = func() int { return 1000 }
	if e, code := OpenDBs("quota", noPart, &stderr, o); e == nil || code != 0 {
		t.Fatalf("OpenDBs after a failed OpenStore: %d, log %q", code, logs.String())
	} else {
		e.Close()
	}
}
