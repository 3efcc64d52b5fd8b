package imapwire

import (
	"strconv"
	"time"
)

// The longest date-time is 26 bytes and the longest date 11; anything
// longer is refused before it is parsed.
const (
	maxDateTime = 32
	maxDate     = 16
)

// months are the date-month names (RFC 3501 section 9), matched without
// regard to case.
var months = [12]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// ReadDateTime reads a date-time (RFC 3501 section 9), the APPEND internal
// date: DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone
// DQUOTE, such as "17-Jul-1996 02:44:25 -0700". A one-digit day without
// its leading space is accepted too. The time is returned in the zone given.
func (r *Reader) ReadDateTime() (time.Time, error) {
	if err := r.begin(); err != nil {
		return time.Time{}, err
	}
	c, err := r.peek()
	if err != nil {
		return time.Time{}, err
	}
	if c != '"' {
		return time.Time{}, syntaxErr("expected quoted date-time, got " + describe(c))
	}
	b, err := r.readQuoted(maxDateTime, LimitMaxQuoted)
	if err != nil {
		if _, ok := err.(*LimitError); ok {
			return time.Time{}, syntaxErr("invalid date-time")
		}
		return time.Time{}, err
	}
	t, ok := parseDateTime(b)
	if !ok {
		return time.Time{}, syntaxErr("invalid date-time " + strconv.Quote(string(b)))
	}
	return t, nil
}

// ReadDate reads a date (RFC 3501 section 9), as the SEARCH keys BEFORE,
// ON, SINCE and their SENT variants take it: date-text or DQUOTE date-text
// DQUOTE, date-text being date-day "-" date-month "-" date-year with a
// one- or two-digit day, such as 1-Feb-1994. The date is returned as
// midnight UTC of that day; the engine compares it with dates "disregarding
// time and timezone" (RFC 3501 section 6.4.4).
func (r *Reader) ReadDate() (time.Time, error) {
	if err := r.begin(); err != nil {
		return time.Time{}, err
	}
	c, err := r.peek()
	if err != nil {
		return time.Time{}, err
	}
	var b []byte
	if c == '"' {
		b, err = r.readQuoted(maxDate, LimitMaxQuoted)
	} else {
		b, err = r.scan(atomChars, maxDate, LimitMaxWord)
		if err == nil && len(b) == 0 {
			return time.Time{}, r.unexpected("date")
		}
	}
	if err != nil {
		if _, ok := err.(*LimitError); ok {
			return time.Time{}, syntaxErr("invalid date")
		}
		return time.Time{}, err
	}
	y, m, d, rest, ok := parseDateText(b, false)
	if !ok || len(rest) != 0 {
		return time.Time{}, syntaxErr("invalid date " + strconv.Quote(string(b)))
	}
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
}

// parseDateText parses date-day "-" date-month "-" date-year at the start
// of b and returns what follows. With fixed, the day is date-day-fixed
// ((SP DIGIT) / 2DIGIT) or, leniently, a single digit.
func parseDateText(b []byte, fixed bool) (year int, month time.Month, day int, rest []byte, ok bool) {
	if fixed && len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	day, b, ok = digits(b, 1, 2)
	if !ok || len(b) < 5 || b[0] != '-' || b[4] != '-' {
		return 0, 0, 0, nil, false
	}
	m := -1
	for i, name := range months {
		if lower(b[1]) == name[0] && lower(b[2]) == name[1] && lower(b[3]) == name[2] {
			m = i
			break
		}
	}
	if m < 0 {
		return 0, 0, 0, nil, false
	}
	year, b, ok = digits(b[5:], 4, 4)
	if !ok || !validDay(year, time.Month(m+1), day) {
		return 0, 0, 0, nil, false
	}
	return year, time.Month(m + 1), day, b, true
}

// parseDateTime parses the contents of a date-time.
func parseDateTime(b []byte) (time.Time, bool) {
	y, mon, d, b, ok := parseDateText(b, true)
	if !ok || len(b) != 15 || b[0] != ' ' || b[3] != ':' || b[6] != ':' || b[9] != ' ' {
		return time.Time{}, false
	}
	h, _, ok1 := digits(b[1:3], 2, 2)
	m, _, ok2 := digits(b[4:6], 2, 2)
	s, _, ok3 := digits(b[7:9], 2, 2)
	zh, _, ok4 := digits(b[11:13], 2, 2)
	zm, _, ok5 := digits(b[13:15], 2, 2)
	sign := b[10]
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || sign != '+' && sign != '-' ||
		h > 23 || m > 59 || s > 60 || zh > 23 || zm > 59 {
		return time.Time{}, false
	}
	offset := (zh*60 + zm) * 60
	if sign == '-' {
		offset = -offset
	}
	var loc *time.Location
	if offset == 0 {
		loc = time.UTC
	} else {
		loc = time.FixedZone("", offset)
	}
	// A leap second (60) becomes the next minute's first second.
	return time.Date(y, mon, d, h, m, s, 0, loc), true
}

// digits parses between lo and hi decimal digits at the start of b.
func digits(b []byte, lo, hi int) (n int, rest []byte, ok bool) {
	i := 0
	for i < len(b) && i < hi && b[i] >= '0' && b[i] <= '9' {
		n = n*10 + int(b[i]-'0')
		i++
	}
	return n, b[i:], i >= lo
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// validDay reports whether day exists in that month.
func validDay(year int, month time.Month, day int) bool {
	return day >= 1 && time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Day() == day
}
