package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/test/harness"
)

func TestParseFlags(t *testing.T) {
	for _, c := range []struct {
		name  string
		args  []string
		check func(o *options) bool
		err   string
	}{
		{"defaults", nil, func(o *options) bool {
			return o.sz == defaultSizes() && o.a.empty() && o.a.rcpt == "bench" && o.format == "table" && len(o.selected()) == len(allWorkloads())
		}, ""},
		{"smoke keeps explicit sizes", []string{"--smoke", "--idle", "3"}, func(o *options) bool {
			want := smokeSizes()
			want.Idle = 3
			return o.sz == want
		}, ""},
		{"remote with vs host", []string{"--imap", "h:1143", "--user", "u", "--vs", "other"}, func(o *options) bool {
			return o.a.imap == "h:1143" && o.b.imap == "other:143" && o.b.lmtp == "other:24" && o.b.user == "u"
		}, ""},
		{"vs ports win", []string{"--vs", "other", "--vs-imap", "x:1"}, func(o *options) bool {
			return o.b.imap == "x:1" && o.b.lmtp == ""
		}, ""},
		{"workload subset", []string{"--workloads", "pop3,lmtp1"}, func(o *options) bool {
			s := o.selected()
			return len(s) == 2 && s[0].name == "lmtp1" && s[1].name == "pop3"
		}, ""},
		{"unknown workload", []string{"--workloads", "nope"}, nil, "unknown workload"},
		{"bad format", []string{"--format", "xml"}, nil, "--format"},
		{"zero size", []string{"--big", "0"}, nil, "--big 0"},
		{"vs self with ports", []string{"--vs", "self", "--vs-imap", "x:1"}, nil, "--vs self"},
		{"stray argument", []string{"extra"}, nil, "unexpected argument"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, err := parseFlags(c.args, io.Discard)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(o) {
				t.Fatalf("options %+v", o)
			}
		})
	}
}

// TestSmoke runs every workload once with tiny sizes against a
// self-started cyrusgo and a second one (--vs self), and reads the JSON.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers; skipped with -short")
	}
	bin := harness.Bin(t)
	jsonPath := filepath.Join(t.TempDir(), "out.json")
	var stdout, stderr bytes.Buffer
	code := run([]string{"--smoke", "--bin", bin, "--vs", "self", "--json", jsonPath, "--no-progress"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	t.Logf("\n%s", stdout.String())
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	want := []string{"lmtp1", "lmtp8", "lmtp1mb", "imap-mix", "imap-idle", "select-big", "fetch-flags-big", "search-subject", "search-body", "pop3"}
	seen := map[string]int{}
	for _, r := range rep.Results {
		seen[r.Workload]++
		if r.Ops == 0 || r.OpsPerSec <= 0 || r.P50Ms <= 0 || r.P99Ms < r.P50Ms {
			t.Errorf("%s on %s: figures %+v", r.Workload, r.Server, r)
		}
		if r.RSSKiB <= 0 || r.Procs == 0 {
			t.Errorf("%s on %s: no server memory %+v", r.Workload, r.Server, r)
		}
		if r.Workload == "imap-idle" && r.RSSPerConnKiB == 0 {
			t.Errorf("imap-idle on %s: no memory per connection", r.Server)
		}
	}
	for _, w := range want {
		if seen[w] != 2 {
			t.Errorf("%s ran %d times, want once per server", w, seen[w])
		}
	}
	if len(rep.Ratios) != len(want) || len(rep.Servers) != 2 || rep.Servers[0].Name == rep.Servers[1].Name {
		t.Errorf("ratios %+v servers %+v", rep.Ratios, rep.Servers)
	}
	if !strings.Contains(stdout.String(), "ratio") {
		t.Errorf("table without ratio rows:\n%s", stdout.String())
	}
	// No server outlives the run.
	for _, s := range rep.Servers {
		if ic, err := dialIMAP(s.IMAP); err == nil {
			ic.Close()
			t.Errorf("%s still answers at %s", s.Name, s.IMAP)
		}
	}
}
