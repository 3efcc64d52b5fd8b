package main

import (
	"math"
	"slices"
	"sync"
	"time"
)

// recorder collects the latency of every operation of a workload, and
// the messages and bytes they moved. Safe for concurrent use.
type recorder struct {
	mu    sync.Mutex
	lat   []time.Duration
	msgs  int64
	bytes int64
}

// add records one operation that took d and moved msgs messages of
// bytes bytes in all.
func (r *recorder) add(d time.Duration, msgs, bytes int64) {
	r.mu.Lock()
	r.lat = append(r.lat, d)
	r.msgs += msgs
	r.bytes += bytes
	r.mu.Unlock()
}

// time runs fn as one operation and records it when it succeeds.
func (r *recorder) time(msgs int64, fn func() (int64, error)) error {
	start := time.Now()
	bytes, err := fn()
	if err != nil {
		return err
	}
	r.add(time.Since(start), msgs, bytes)
	return nil
}

// percentile is the nearest-rank p-th percentile (0 < p <= 100) of
// sorted latencies: the smallest value at least p% of them do not pass.
// It is 0 for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// result is one workload's figures on one server: the row of the table
// and the object of the JSON output.
type result struct {
	Workload   string  `json:"workload"`
	Server     string  `json:"server"`
	Ops        int     `json:"ops"`
	Unit       string  `json:"unit"` // what one op is
	Seconds    float64 `json:"seconds"`
	OpsPerSec  float64 `json:"ops_per_sec"`
	MsgsPerSec float64 `json:"msgs_per_sec,omitempty"`
	MBPerSec   float64 `json:"mb_per_sec,omitempty"`
	P50Ms      float64 `json:"p50_ms"`
	P99Ms      float64 `json:"p99_ms"`
	// Server memory after the workload, summed over its processes; 0
	// when the server's processes cannot be seen (another machine).
	RSSKiB int64 `json:"server_rss_kib,omitempty"`
	PssKiB int64 `json:"server_pss_kib,omitempty"`
	Procs  int   `json:"server_procs,omitempty"`
	// The idle workload: memory the connections added, per connection.
	RSSPerConnKiB float64 `json:"rss_per_conn_kib,omitempty"`
	PssPerConnKiB float64 `json:"pss_per_conn_kib,omitempty"`
	Note          string  `json:"note,omitempty"`
}

// summary turns what r holds, measured over elapsed, into a result.
func (r *recorder) summary(workload, unit string, elapsed time.Duration) result {
	r.mu.Lock()
	defer r.mu.Unlock()
	sorted := slices.Clone(r.lat)
	slices.Sort(sorted)
	res := result{Workload: workload, Unit: unit, Ops: len(sorted), Seconds: elapsed.Seconds()}
	if s := elapsed.Seconds(); s > 0 {
		res.OpsPerSec = float64(len(sorted)) / s
		res.MsgsPerSec = float64(r.msgs) / s
		res.MBPerSec = float64(r.bytes) / 1e6 / s
	}
	res.P50Ms = ms(percentile(sorted, 50))
	res.P99Ms = ms(percentile(sorted, 99))
	return res
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
