package masterconf

import "time"

// FirstRun returns when master, started at start, first runs the event.
// Cyrus's add_event schedules an event without at= for "now", so such an
// event runs as soon as master is up (this is what makes a checkpoint event
// run at every start); an event with at= waits for its next occurrence at or
// after start, in start's location.
func (e Event) FirstRun(start time.Time) time.Time {
	if e.At < 0 {
		return start
	}
	return e.nextAt(start, true)
}

// NextRun returns when the event runs next, given that it last ran, or was
// last considered, at after. The result is always later than after, or the
// zero Time when the event never runs again.
//
// Without at=, that is after plus Period, the interval counting from the
// previous run as in Cyrus's spawn_schedule; with Period 0 the event ran
// once at startup and never again (zero Time).
//
// With at=, it is the next time the wall clock in after's location shows
// that hour and minute. The time is kept across daylight-saving changes, as
// Cyrus's "timezone shift" correction does, rather than stepping by 24h: a
// time that occurs twice on the night clocks go back runs at its first
// occurrence, and a time skipped on the night clocks go forward runs as much
// later as the clocks jumped (02:30 runs at 03:30 after a one-hour jump).
func (e Event) NextRun(after time.Time) time.Time {
	if e.At >= 0 {
		return e.nextAt(after, false)
	}
	if e.Period <= 0 {
		return time.Time{}
	}
	return after.Add(e.Period)
}

// nextAt returns the first daily occurrence of e.At after t, or at t too
// when inclusive is set.
func (e Event) nextAt(t time.Time, inclusive bool) time.Time {
	hh, mm := e.At/60, e.At%60
	loc := t.Location()
	y, m, d := t.Date()
	// The occurrence on t's own day or the next is the answer; a further
	// day is only for a zone that skips a whole calendar day.
	for i := 0; i < 4; i++ {
		c := wallClock(y, m, d+i, hh, mm, loc)
		if c.After(t) || inclusive && c.Equal(t) {
			return c
		}
	}
	return t.Add(24 * time.Hour)
}

// wallClock returns the earliest instant at which the clock in loc shows
// the given date and time; if that time does not exist on that date
// (daylight-saving gap), the instant the time would have had under the
// offset in force before the change. time.Date leaves both choices
// unspecified, so they are made here explicitly.
func wallClock(y int, m time.Month, d, hh, mm int, loc *time.Location) time.Time {
	naive := time.Date(y, m, d, hh, mm, 0, 0, time.UTC)
	guess := time.Date(y, m, d, hh, mm, 0, 0, loc)
	_, offBefore := guess.Add(-24 * time.Hour).Zone()
	_, offGuess := guess.Zone()
	_, offAfter := guess.Add(24 * time.Hour).Zone()
	var best time.Time
	for _, off := range [...]int{offBefore, offGuess, offAfter} {
		c := naive.Add(-time.Duration(off) * time.Second).In(loc)
		if sameWallClock(c, naive) && (best.IsZero() || c.Before(best)) {
			best = c
		}
	}
	if best.IsZero() {
		best = naive.Add(-time.Duration(offBefore) * time.Second).In(loc)
	}
	return best
}

func sameWallClock(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd &&
		a.Hour() == b.Hour() && a.Minute() == b.Minute() && a.Second() == b.Second()
}
