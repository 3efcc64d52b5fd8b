package main

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, c := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value p50", ms(7), 50, 7 * time.Millisecond},
		{"one value p99", ms(7), 99, 7 * time.Millisecond},
		{"two values p50 is the lower", ms(1, 2), 50, time.Millisecond},
		{"two values p99 is the upper", ms(1, 2), 99, 2 * time.Millisecond},
		{"odd count median", ms(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{"1..100 p50", ms(hundred...), 50, 50 * time.Millisecond},
		{"1..100 p99", ms(hundred...), 99, 99 * time.Millisecond},
		{"1..100 p100", ms(hundred...), 100, 100 * time.Millisecond},
		{"tiny p is the minimum", ms(3, 4, 5), 0.001, 3 * time.Millisecond},
		{"p over 100 is the maximum", ms(3, 4, 5), 150, 5 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := percentile(c.sorted, c.p); got != c.want {
				t.Fatalf("percentile(%v, %v) = %v, want %v", c.sorted, c.p, got, c.want)
			}
		})
	}
}

func TestRecorderSummary(t *testing.T) {
	var r recorder
	// Out of order, as concurrent workers record.
	for _, d := range []int{30, 10, 20, 40} {
		r.add(time.Duration(d)*time.Millisecond, 2, 1_000_000)
	}
	res := r.summary("w", "op", 2*time.Second)
	want := result{Workload: "w", Unit: "op", Ops: 4, Seconds: 2, OpsPerSec: 2, MsgsPerSec: 4, MBPerSec: 2, P50Ms: 20, P99Ms: 40}
	if res != want {
		t.Fatalf("summary %+v, want %+v", res, want)
	}
	if got := (&recorder{}).summary("w", "op", 0); got.Ops != 0 || got.OpsPerSec != 0 || got.P50Ms != 0 {
		t.Fatalf("empty summary %+v", got)
	}
}

func TestRecorderTimeSkipsFailures(t *testing.T) {
	var r recorder
	if err := r.time(1, func() (int64, error) { return 5, nil }); err != nil {
		t.Fatal(err)
	}
	if err := r.time(1, func() (int64, error) { return 5, errTest }); err != errTest {
		t.Fatalf("err %v", err)
	}
	if len(r.lat) != 1 || r.msgs != 1 || r.bytes != 5 {
		t.Fatalf("recorded %d ops, %d msgs, %d bytes", len(r.lat), r.msgs, r.bytes)
	}
}

type testError struct{}

func (testError) Error() string { return "test" }

var errTest error = testError{}
