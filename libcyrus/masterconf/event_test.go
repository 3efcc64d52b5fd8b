package masterconf

import (
	"testing"
	"time"
	_ "time/tzdata" // the DST cases must not depend on the host's zoneinfo
)

func mustLoadLocation(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestPeriodicEvent(t *testing.T) {
	start := time.Date(2024, 5, 1, 10, 17, 3, 0, time.UTC)
	e := Event{Name: "checkpoint", Cmd: "ctl_cyrusdb -c", Period: 30 * time.Minute, At: -1}
	if got := e.FirstRun(start); !got.Equal(start) {
		t.Errorf("FirstRun = %v, want the start time", got)
	}
	if got, want := e.NextRun(start), start.Add(30*time.Minute); !got.Equal(want) {
		t.Errorf("NextRun = %v, want %v", got, want)
	}

	once := Event{Name: "once", Cmd: "x", At: -1}
	if got := once.FirstRun(start); !got.Equal(start) {
		t.Errorf("period 0: FirstRun = %v, want the start time", got)
	}
	if got := once.NextRun(start); !got.IsZero() {
		t.Errorf("period 0: NextRun = %v, want never", got)
	}
}

func TestAtEvent(t *testing.T) {
	ny := mustLoadLocation(t, "America/New_York")
	berlin := mustLoadLocation(t, "Europe/Berlin")
	saoPaulo := mustLoadLocation(t, "America/Sao_Paulo")
	lordHowe := mustLoadLocation(t, "Australia/Lord_Howe")
	plus530 := time.FixedZone("IST", 5*3600+1800)
	utc := time.UTC

	tests := []struct {
		name  string
		at    int // minutes after midnight
		after time.Time
		first bool // FirstRun instead of NextRun
		want  time.Time
	}{
		{"later today", 4 * 60, time.Date(2024, 5, 1, 3, 0, 0, 0, utc), false,
			time.Date(2024, 5, 1, 4, 0, 0, 0, utc)},
		{"missed today", 4 * 60, time.Date(2024, 5, 1, 4, 0, 1, 0, utc), false,
			time.Date(2024, 5, 2, 4, 0, 0, 0, utc)},
		{"just ran", 4 * 60, time.Date(2024, 5, 1, 4, 0, 0, 0, utc), false,
			time.Date(2024, 5, 2, 4, 0, 0, 0, utc)},
		{"start on the minute runs now", 4 * 60, time.Date(2024, 5, 1, 4, 0, 0, 0, utc), true,
			time.Date(2024, 5, 1, 4, 0, 0, 0, utc)},
		{"start after the minute waits a day", 4 * 60, time.Date(2024, 5, 1, 4, 0, 0, 1, utc), true,
			time.Date(2024, 5, 2, 4, 0, 0, 0, utc)},
		{"across midnight", 4 * 60, time.Date(2024, 5, 1, 23, 30, 0, 0, utc), false,
			time.Date(2024, 5, 2, 4, 0, 0, 0, utc)},
		{"midnight", 0, time.Date(2024, 5, 1, 23, 59, 59, 0, utc), false,
			time.Date(2024, 5, 2, 0, 0, 0, 0, utc)},
		{"midnight at midnight", 0, time.Date(2024, 5, 2, 0, 0, 0, 0, utc), false,
			time.Date(2024, 5, 3, 0, 0, 0, 0, utc)},
		{"last minute", 23*60 + 59, time.Date(2024, 5, 1, 0, 0, 0, 0, utc), false,
			time.Date(2024, 5, 1, 23, 59, 0, 0, utc)},
		{"year end", 4 * 60, time.Date(2024, 12, 31, 12, 0, 0, 0, utc), false,
			time.Date(2025, 1, 1, 4, 0, 0, 0, utc)},
		{"leap day", 4 * 60, time.Date(2024, 2, 28, 12, 0, 0, 0, utc), false,
			time.Date(2024, 2, 29, 4, 0, 0, 0, utc)},
		{"after's location counts", 4 * 60, time.Date(2024, 5, 1, 3, 0, 0, 0, plus530), false,
			time.Date(2024, 5, 1, 4, 0, 0, 0, plus530)},
		{"same instant in another zone", 4 * 60, time.Date(2024, 5, 1, 3, 0, 0, 0, plus530).In(utc), false,
			time.Date(2024, 5, 1, 4, 0, 0, 0, utc)}, // after is 2024-04-30 21:30 UTC

		// New York: clocks go 02:00 EST -> 03:00 EDT on 2024-03-10 and
		// 02:00 EDT -> 01:00 EST on 2024-11-03.
		{"NY spring: day before", 4 * 60, time.Date(2024, 3, 9, 4, 0, 0, 0, ny), false,
			time.Date(2024, 3, 10, 4, 0, 0, 0, ny)},
		{"NY spring: skipped time runs after the gap", 2*60 + 30, time.Date(2024, 3, 10, 0, 0, 0, 0, ny), false,
			time.Date(2024, 3, 10, 7, 30, 0, 0, utc)}, // 03:30 EDT
		{"NY spring: skipped hour start", 2 * 60, time.Date(2024, 3, 10, 0, 0, 0, 0, ny), false,
			time.Date(2024, 3, 10, 7, 0, 0, 0, utc)}, // 03:00 EDT
		{"NY spring: day after the gap", 2*60 + 30, time.Date(2024, 3, 10, 7, 30, 0, 0, utc).In(ny), false,
			time.Date(2024, 3, 11, 2, 30, 0, 0, ny)},
		{"NY spring: start before the shifted time", 2*60 + 30, time.Date(2024, 3, 10, 3, 15, 0, 0, ny), true,
			time.Date(2024, 3, 10, 3, 30, 0, 0, ny)},
		{"NY spring: start after the shifted time", 2*60 + 30, time.Date(2024, 3, 10, 3, 45, 0, 0, ny), true,
			time.Date(2024, 3, 11, 2, 30, 0, 0, ny)},
		{"NY fall: repeated time runs at first occurrence", 60 + 30, time.Date(2024, 11, 3, 0, 0, 0, 0, ny), false,
			time.Date(2024, 11, 3, 5, 30, 0, 0, utc)}, // 01:30 EDT
		{"NY fall: not again at the second occurrence", 60 + 30, time.Date(2024, 11, 3, 5, 30, 0, 0, utc).In(ny), false,
			time.Date(2024, 11, 4, 1, 30, 0, 0, ny)},
		{"NY fall: between the occurrences", 60 + 30, time.Date(2024, 11, 3, 6, 0, 0, 0, utc).In(ny), false,
			time.Date(2024, 11, 4, 1, 30, 0, 0, ny)},
		{"NY fall: 25-hour day", 4 * 60, time.Date(2024, 11, 2, 4, 0, 0, 0, ny), false,
			time.Date(2024, 11, 3, 4, 0, 0, 0, ny)},

		// Berlin: 02:00 CET -> 03:00 CEST on 2024-03-31.
		{"Berlin spring", 2*60 + 15, time.Date(2024, 3, 30, 2, 15, 0, 0, berlin), false,
			time.Date(2024, 3, 31, 1, 15, 0, 0, utc)}, // 03:15 CEST
		{"Berlin fall", 2*60 + 15, time.Date(2024, 10, 26, 2, 15, 0, 0, berlin), false,
			time.Date(2024, 10, 27, 0, 15, 0, 0, utc)}, // 02:15 CEST, the first one

		// Sao Paulo, 2018-11-04: midnight did not exist (00:00 -> 01:00).
		{"Sao Paulo missing midnight", 0, time.Date(2018, 11, 3, 12, 0, 0, 0, saoPaulo), false,
			time.Date(2018, 11, 4, 1, 0, 0, 0, saoPaulo)},
		{"Sao Paulo day after", 0, time.Date(2018, 11, 4, 1, 0, 0, 0, saoPaulo), false,
			time.Date(2018, 11, 5, 0, 0, 0, 0, saoPaulo)},

		// Lord Howe shifts by 30 minutes: 02:00 -> 02:30 on 2024-10-06.
		{"Lord Howe half-hour gap", 2*60 + 10, time.Date(2024, 10, 5, 12, 0, 0, 0, lordHowe), false,
			time.Date(2024, 10, 6, 2, 40, 0, 0, lordHowe)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Event{Name: "prune", Cmd: "cyr_expire", Period: 24 * time.Hour, At: tt.at}
			var got time.Time
			if tt.first {
				got = e.FirstRun(tt.after)
			} else {
				got = e.NextRun(tt.after)
			}
			if !got.Equal(tt.want) {
				t.Errorf("after %v: got %v, want %v", tt.after, got, tt.want.In(tt.after.Location()))
			}
			if !tt.first && !got.After(tt.after) {
				t.Errorf("NextRun(%v) = %v is not later", tt.after, got)
			}
			if got.Location() != tt.after.Location() {
				t.Errorf("result in %v, want %v", got.Location(), tt.after.Location())
			}
		})
	}
}

// TestAtEventYear walks a year of daily runs in zones with DST and checks
// that every run is at the configured wall-clock time (or just after a gap)
// and that there is exactly one run per calendar day.
func TestAtEventYear(t *testing.T) {
	for _, zone := range []string{"America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Sao_Paulo"} {
		loc := mustLoadLocation(t, zone)
		for _, at := range []int{0, 30, 60 + 30, 2 * 60, 2*60 + 30, 3 * 60, 4 * 60, 23*60 + 59} {
			e := Event{Name: "e", Cmd: "x", Period: 24 * time.Hour, At: at}
			run := e.FirstRun(time.Date(2018, 1, 1, 0, 0, 0, 0, loc))
			for i := 0; i < 366*2; i++ {
				next := e.NextRun(run)
				d := next.Sub(run)
				if d < 22*time.Hour || d > 26*time.Hour {
					t.Fatalf("%s at=%d: %v -> %v is %v apart", zone, at, run, next, d)
				}
				y1, m1, d1 := run.Date()
				y2, m2, d2 := next.Date()
				if time.Date(y1, m1, d1+1, 0, 0, 0, 0, time.UTC) != time.Date(y2, m2, d2, 0, 0, 0, 0, time.UTC) {
					t.Fatalf("%s at=%d: %v -> %v is not the next day", zone, at, run, next)
				}
				if mins := next.Hour()*60 + next.Minute(); mins != at && (mins < at || mins > at+60) {
					t.Fatalf("%s at=%d: run at %v", zone, at, next)
				}
				run = next
			}
		}
	}
}
