package sieve

import (
	"fmt"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/message"
)

// The date and currentdate tests (RFC 5260 4, 5).

var dateParts = []string{"year", "month", "day", "date", "julian", "hour", "minute",
	"second", "time", "iso8601", "std11", "zone", "weekday"}

func validDatePart(s string) bool {
	l := strings.ToLower(s)
	for _, p := range dateParts {
		if p == l {
			return true
		}
	}
	return false
}

// parseZone reads RFC 5260 4.1's time-zone, ("+" / "-") 4DIGIT.
func parseZone(s string) (*time.Location, bool) {
	if len(s) != 5 || (s[0] != '+' && s[0] != '-') {
		return nil, false
	}
	for i := 1; i < 5; i++ {
		if !isDigit(s[i]) {
			return nil, false
		}
	}
	h := int(s[1]-'0')*10 + int(s[2]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 {
		return nil, false
	}
	off := (h*60 + m) * 60
	if s[0] == '-' {
		off = -off
	}
	return time.FixedZone(s, off), true
}

// zoneString formats an offset as "+hhmm"; zero is "+0000" (RFC 5260 4.2).
func zoneString(t time.Time) string {
	_, off := t.Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%c%02d%02d", sign, off/3600, off%3600/60)
}

// datePart renders one date-part of t (RFC 5260 4.2).
func datePart(t time.Time, part string) string {
	switch strings.ToLower(part) {
	case "year":
		return fmt.Sprintf("%04d", t.Year())
	case "month":
		return fmt.Sprintf("%02d", int(t.Month()))
	case "day":
		return fmt.Sprintf("%02d", t.Day())
	case "date":
		return t.Format("2006-01-02")
	case "julian":
		// Modified Julian Day: days since 1858-11-17 (Appendix A).
		y, m, d := t.Date()
		day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		epoch := time.Date(1858, 11, 17, 0, 0, 0, 0, time.UTC)
		return fmt.Sprintf("%d", int64(day.Sub(epoch).Hours())/24)
	case "hour":
		return fmt.Sprintf("%02d", t.Hour())
	case "minute":
		return fmt.Sprintf("%02d", t.Minute())
	case "second":
		return fmt.Sprintf("%02d", t.Second())
	case "time":
		return t.Format("15:04:05")
	case "iso8601":
		// RFC 3339 date-time, "Z" for a zero offset.
		if _, off := t.Zone(); off == 0 {
			return t.Format("2006-01-02T15:04:05Z")
		}
		return t.Format("2006-01-02T15:04:05-07:00")
	case "std11":
		return t.Format("Mon, 02 Jan 2006 15:04:05 ") + zoneString(t)
	case "zone":
		return zoneString(t)
	case "weekday":
		return fmt.Sprintf("%d", int(t.Weekday()))
	}
	return ""
}

// headerDate extracts the date of a field: the whole value, or what
// follows the last ";" as in Received (RFC 5260 4).
func headerDate(v string) (time.Time, bool) {
	v = strings.TrimSpace(unfold(v))
	if t, err := message.ParseDate(v); err == nil {
		return t, true
	}
	if i := strings.LastIndexByte(v, ';'); i >= 0 {
		if t, err := message.ParseDate(strings.TrimSpace(v[i+1:])); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// dateZone applies :zone / :originalzone / the local zone.
func (r *run) dateZone(t *Node, d time.Time) time.Time {
	if z, ok := r.tagStr(t, "zone"); ok {
		loc, ok := parseZone(z)
		if !ok {
			throwf(t.Line, "invalid time zone %q", z)
		}
		return d.In(loc)
	}
	if t.tag("originalzone") {
		return d
	}
	return d.In(r.loc)
}

func (r *run) dateTest(t *Node) bool {
	name, part := r.str(t, 0), r.str(t, 1)
	if !validDatePart(part) {
		throwf(t.Line, "date: unknown date part %q", part)
	}
	m := r.newMatcher(t, r.list(t, 2))
	vals := r.fieldValues(t, r.header, []string{name})
	if !t.tag("index") && len(vals) > 1 {
		vals = vals[:1] // RFC 5260 4: only the first field
	}
	var dates []string
	for _, v := range vals {
		if d, ok := headerDate(v); ok {
			dates = append(dates, datePart(r.dateZone(t, d), part))
		}
	}
	return m.any(dates)
}

func (r *run) currentDateTest(t *Node) bool {
	part := r.str(t, 0)
	if !validDatePart(part) {
		throwf(t.Line, "currentdate: unknown date part %q", part)
	}
	m := r.newMatcher(t, r.list(t, 1))
	d := r.now.In(r.loc)
	if z, ok := r.tagStr(t, "zone"); ok {
		loc, ok := parseZone(z)
		if !ok {
			throwf(t.Line, "invalid time zone %q", z)
		}
		d = r.now.In(loc)
	}
	return m.any([]string{datePart(d, part)})
}

// secondsDuration converts a script's number of seconds, capped so that
// the multiplication cannot overflow.
func secondsDuration(n uint64) time.Duration {
	const max = uint64(1<<63-1) / uint64(time.Second)
	if n > max {
		n = max
	}
	return time.Duration(n) * time.Second
}
