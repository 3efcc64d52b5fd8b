package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// report is everything one run measured: the JSON output as it is.
type report struct {
	Machine machine       `json:"machine"`
	Servers []serverInfo  `json:"servers"`
	Sizes   sizes         `json:"sizes"`
	Results []result      `json:"results"`
	Ratios  []ratio       `json:"ratios,omitempty"`
	Skipped []skippedWork `json:"skipped,omitempty"`
}

type machine struct {
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go"`
	Started   string `json:"started"`
}

type serverInfo struct {
	Name        string `json:"name"`
	IMAP        string `json:"imap,omitempty"`
	POP3        string `json:"pop3,omitempty"`
	LMTP        string `json:"lmtp,omitempty"`
	SelfStarted bool   `json:"self_started"`
}

type skippedWork struct {
	Workload string `json:"workload"`
	Server   string `json:"server"`
	Reason   string `json:"reason"`
}

// ratio compares a workload on the first server with the second: above
// 1 the first is faster (throughput) or takes less memory.
type ratio struct {
	Workload string `json:"workload"`
	// Throughput is first ops/s over second ops/s.
	Throughput float64 `json:"throughput"`
	// P50 is second p50 over first p50, so above 1 means the first is
	// quicker, like Throughput.
	P50 float64 `json:"p50"`
	// RSSPerConn and PssPerConn are second over first for imap-idle.
	RSSPerConn float64 `json:"rss_per_conn,omitempty"`
	PssPerConn float64 `json:"pss_per_conn,omitempty"`
}

// ratios pairs the results of the two servers by workload, in order.
func ratios(results []result, a, b string) []ratio {
	var out []ratio
	for _, ra := range results {
		if ra.Server != a {
			continue
		}
		for _, rb := range results {
			if rb.Server != b || rb.Workload != ra.Workload {
				continue
			}
			r := ratio{Workload: ra.Workload, Throughput: div(ra.OpsPerSec, rb.OpsPerSec), P50: div(rb.P50Ms, ra.P50Ms)}
			if ra.RSSPerConnKiB > 0 && rb.RSSPerConnKiB > 0 {
				r.RSSPerConn = div(rb.RSSPerConnKiB, ra.RSSPerConnKiB)
			}
			if ra.PssPerConnKiB > 0 && rb.PssPerConnKiB > 0 {
				r.PssPerConn = div(rb.PssPerConnKiB, ra.PssPerConnKiB)
			}
			out = append(out, r)
		}
	}
	return out
}

func div(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// writeTable prints the results, one row per workload and server, with
// the ratio row under each workload when two servers ran.
func (r *report) writeTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tserver\tops\tops/s\tmsgs/s\tMB/s\tp50 ms\tp99 ms\tRSS MiB\tRSS KiB/conn\tPss KiB/conn\tnote\t")
	byWork := map[string]ratio{}
	for _, ra := range r.Ratios {
		byWork[ra.Workload] = ra
	}
	for i, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			res.Workload, res.Server, res.Ops, num(res.OpsPerSec), num(res.MsgsPerSec), num(res.MBPerSec),
			num(res.P50Ms), num(res.P99Ms), mib(res.RSSKiB), num(res.RSSPerConnKiB), num(res.PssPerConnKiB), res.Note)
		last := i+1 == len(r.Results) || r.Results[i+1].Workload != res.Workload
		if ra, ok := byWork[res.Workload]; ok && last {
			fmt.Fprintf(tw, "%s\t%s\t\t%s\t\t\t%s\t\t\t%s\t%s\t%s\t\n", res.Workload, "ratio",
				num(ra.Throughput), num(ra.P50), num(ra.RSSPerConn), num(ra.PssPerConn), "above 1: first is better")
		}
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(tw, "%s\t%s\t\t\t\t\t\t\t\t\t\tskipped: %s\t\n", s.Workload, s.Server, s.Reason)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// num formats a figure with three significant digits or so; 0 is blank.
func num(f float64) string {
	switch {
	case f == 0:
		return "-"
	case f >= 100:
		return fmt.Sprintf("%.0f", f)
	case f >= 10:
		return fmt.Sprintf("%.1f", f)
	default:
		return strings.TrimSuffix(fmt.Sprintf("%.2f", f), ".00")
	}
}

func mib(kib int64) string {
	if kib == 0 {
		return "-"
	}
	return num(float64(kib) / 1024)
}
