package message

import (
	"errors"
	"strings"
	"time"
)

var errBadDate = errors.New("unparseable date")

// ParseDate parses an RFC 5322 3.3 date-time leniently, as SORT DATE and
// SEARCH SENTBEFORE need it: the day of week is optional and not checked,
// seconds are optional, two- and three-digit years follow RFC 5322 4.3,
// the obsolete zone names are understood (military zones count as -0000,
// as 4.3 advises), a missing zone is UTC, comments are ignored, and the
// asctime form "Mon Jan  2 15:04:05 2006" is accepted.
func ParseDate(s string) (time.Time, error) {
	toks := dateTokens(s)
	if len(toks) > 0 && isAlpha(toks[0]) && monthOf(toks[0]) == 0 {
		toks = toks[1:] // day of week
	}
	var (
		day, month, year int
		rest             []string
	)
	switch {
	case len(toks) >= 3 && isDigits(toks[0]) && monthOf(toks[1]) > 0:
		day, month, rest = atoi(toks[0]), monthOf(toks[1]), toks[2:]
		if !isDigits(rest[0]) {
			return time.Time{}, errBadDate
		}
		year, rest = atoi(rest[0]), rest[1:]
		switch n := len(toks[2]); {
		case n == 2 && year < 50:
			year += 2000
		case n <= 3:
			year += 1900
		}
	case len(toks) >= 4 && monthOf(toks[0]) > 0 && isDigits(toks[1]) && isDigits(toks[3]):
		// asctime: month day time year [zone]
		month, day, year = monthOf(toks[0]), atoi(toks[1]), atoi(toks[3])
		rest = append([]string{toks[2]}, toks[4:]...)
	default:
		return time.Time{}, errBadDate
	}
	if len(rest) == 0 {
		return time.Time{}, errBadDate
	}
	hms := strings.Split(rest[0], ":")
	if len(hms) < 2 || len(hms) > 3 {
		return time.Time{}, errBadDate
	}
	var clock [3]int
	for i, f := range hms {
		if !isDigits(f) || len(f) > 2 {
			return time.Time{}, errBadDate
		}
		clock[i] = atoi(f)
	}
	if clock[0] > 23 || clock[1] > 59 || clock[2] > 60 {
		return time.Time{}, errBadDate
	}
	offset := 0
	if len(rest) > 1 {
		var ok bool
		if offset, ok = zoneOffset(rest[1]); !ok {
			return time.Time{}, errBadDate
		}
	}
	if day < 1 || day > 31 || year < 1 || year > 9999 {
		return time.Time{}, errBadDate
	}
	t := time.Date(year, time.Month(month), day, clock[0], clock[1], clock[2], 0, time.FixedZone("", offset))
	if t.Day() != day {
		return time.Time{}, errBadDate // 31 Feb
	}
	return t, nil
}

// dateTokens splits a date into words, dropping comments and commas and
// splitting a zone glued to the time ("12:00:00+0100").
func dateTokens(s string) []string {
	var b strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == ',':
			b.WriteByte(' ')
		case (c == '+' || c == '-') && i > 0 && s[i-1] >= '0' && s[i-1] <= '9' && i+5 <= len(s) && isDigits(s[i+1:i+5]):
			b.WriteByte(' ')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return strings.Fields(b.String())
}

func monthOf(s string) int {
	if len(s) < 3 {
		return 0
	}
	const months = "janfebmaraprmayjunjulaugsepoctnovdec"
	i := strings.Index(months, strings.ToLower(s[:3]))
	if i < 0 || i%3 != 0 {
		return 0
	}
	return i/3 + 1
}

// zoneOffset parses a zone (RFC 5322 3.3, obsolete names of 4.3) into
// seconds east of UTC.
func zoneOffset(z string) (int, bool) {
	if (z[0] == '+' || z[0] == '-') && len(z) == 5 && isDigits(z[1:]) {
		h, m := atoi(z[1:3]), atoi(z[3:5])
		if m > 59 {
			return 0, false
		}
		off := (h*60 + m) * 60
		if z[0] == '-' {
			off = -off
		}
		return off, true
	}
	switch strings.ToUpper(z) {
	case "UT", "UTC", "GMT", "Z":
		return 0, true
	case "EDT":
		return -4 * 3600, true
	case "EST", "CDT":
		return -5 * 3600, true
	case "CST", "MDT":
		return -6 * 3600, true
	case "MST", "PDT":
		return -7 * 3600, true
	case "PST":
		return -8 * 3600, true
	}
	// Military and unknown zone names: UTC, rather than no date at all.
	return 0, true
}

func isDigits(s string) bool {
	if s == "" || len(s) > 9 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
