package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func sampleReport() *report {
	return &report{
		Machine: machine{CPUs: 2, GoVersion: "go1.26", Started: "2026-01-01T00:00:00Z"},
		Servers: []serverInfo{{Name: "a", IMAP: "127.0.0.1:1", SelfStarted: true}, {Name: "b", IMAP: "127.0.0.1:2"}},
		Sizes:   smokeSizes(),
		Results: []result{
			{Workload: "lmtp1", Server: "a", Ops: 10, Unit: "message", Seconds: 1, OpsPerSec: 10, MsgsPerSec: 10, MBPerSec: 0.1, P50Ms: 4, P99Ms: 9, RSSKiB: 2048, Procs: 3},
			{Workload: "lmtp1", Server: "b", Ops: 10, Unit: "message", Seconds: 2, OpsPerSec: 5, MsgsPerSec: 5, MBPerSec: 0.05, P50Ms: 8, P99Ms: 20},
			{Workload: "imap-idle", Server: "a", Ops: 4, Unit: "connection", OpsPerSec: 2, P50Ms: 1, P99Ms: 2, RSSPerConnKiB: 100, PssPerConnKiB: 50},
			{Workload: "imap-idle", Server: "b", Ops: 4, Unit: "connection", OpsPerSec: 4, P50Ms: 1, P99Ms: 2, RSSPerConnKiB: 400},
		},
	}
}

func TestRatios(t *testing.T) {
	r := sampleReport()
	got := ratios(r.Results, "a", "b")
	want := []ratio{
		{Workload: "lmtp1", Throughput: 2, P50: 2},
		{Workload: "imap-idle", Throughput: 0.5, P50: 1, RSSPerConn: 4},
	}
	if len(got) != len(want) {
		t.Fatalf("ratios %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("ratio %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if got := ratios(r.Results[:1], "a", "b"); len(got) != 0 {
		t.Errorf("unpaired: %+v", got)
	}
}

// TestJSONOutput pins the JSON field names scripts read, and that the
// output parses back to the same report.
func TestJSONOutput(t *testing.T) {
	r := sampleReport()
	r.Ratios = ratios(r.Results, "a", "b")
	r.Skipped = []skippedWork{{Workload: "pop3", Server: "b", Reason: "needs pop3 and imap"}}
	var buf bytes.Buffer
	if err := r.writeJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, buf.String())
	}
	for _, k := range []string{"machine", "servers", "sizes", "results", "ratios", "skipped"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("no %q in %s", k, buf.String())
		}
	}
	first := raw["results"].([]any)[0].(map[string]any)
	for _, k := range []string{"workload", "server", "ops", "unit", "seconds", "ops_per_sec", "msgs_per_sec", "mb_per_sec", "p50_ms", "p99_ms", "server_rss_kib", "server_procs"} {
		if _, ok := first[k]; !ok {
			t.Errorf("result lacks %q: %v", k, first)
		}
	}
	idle := raw["results"].([]any)[2].(map[string]any)
	if idle["rss_per_conn_kib"] != 100.0 || idle["pss_per_conn_kib"] != 50.0 {
		t.Errorf("idle result %v", idle)
	}
	var back report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Results) != 4 || back.Results[0] != r.Results[0] || back.Sizes != r.Sizes || back.Ratios[1] != r.Ratios[1] {
		t.Fatalf("round trip: %+v", back)
	}
}

func TestTable(t *testing.T) {
	r := sampleReport()
	r.Ratios = ratios(r.Results, "a", "b")
	var buf bytes.Buffer
	if err := r.writeTable(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	// Header, two rows and a ratio row per workload.
	if len(lines) != 7 {
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	if f := strings.Fields(lines[3]); f[0] != "lmtp1" || f[1] != "ratio" || f[2] != "2" {
		t.Errorf("ratio row %q", lines[3])
	}
	if !strings.Contains(lines[1], "2") || !strings.Contains(lines[5], "400") {
		t.Errorf("table:\n%s", buf.String())
	}
}

func TestNum(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want string
	}{{0, "-"}, {1, "1"}, {1.234, "1.23"}, {12.34, "12.3"}, {1234.5, "1234"}} {
		if got := num(c.f); got != c.want {
			t.Errorf("num(%v) = %q, want %q", c.f, got, c.want)
		}
	}
}

func TestGroupByWorkload(t *testing.T) {
	in := []result{{Workload: "select-big", Server: "a"}, {Workload: "fetch", Server: "a"}, {Workload: "select-big", Server: "b"}, {Workload: "fetch", Server: "b"}}
	got := groupByWorkload(in)
	var s []string
	for _, r := range got {
		s = append(s, r.Workload+"/"+r.Server)
	}
	if strings.Join(s, " ") != "select-big/a select-big/b fetch/a fetch/b" {
		t.Fatalf("order %v", s)
	}
}
