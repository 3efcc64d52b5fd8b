package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/config/internal/table"
)

// parseValue converts the text of an option into its typed value: string,
// bool, int64 (Int and Size, in bytes), time.Duration, the canonical word of
// an Enum or []string for a List. Warnings describe values that are
// accepted but spelled in a deprecated or non-standard way.
func parseValue(o *table.Option, s string) (v any, warnings []string, err error) {
	if s == "" && o.Kind != table.String && o.Kind != table.List {
		return nil, nil, errors.New("empty value")
	}
	switch o.Kind {
	case table.String:
		return s, nil, nil
	case table.Bool:
		b, warn, err := parseBool(s)
		if warn != "" {
			warnings = append(warnings, warn)
		}
		return b, warnings, err
	case table.Int:
		n, err := parseInt(s)
		return n, nil, err
	case table.Duration:
		d, err := parseDuration(s, o.Unit)
		return d, nil, err
	case table.Size:
		n, err := parseSize(s, o.Unit)
		return n, nil, err
	case table.Enum:
		return parseEnum(o, s)
	case table.List:
		return parseList(o, s)
	}
	return nil, nil, fmt.Errorf("option of unknown kind %d", o.Kind)
}

// parseBool accepts the words imapd.conf(5) documents, in any case. Cyrus
// itself only looks at the first letter ("yessir" is yes), so a value that
// Cyrus would accept is accepted with a warning rather than breaking a
// configuration that works with Cyrus.
func parseBool(s string) (b bool, warning string, err error) {
	switch strings.ToLower(s) {
	case "1", "yes", "on", "t", "true":
		return true, "", nil
	case "0", "no", "off", "f", "false":
		return false, "", nil
	}
	// lib/libconfig.c config_parse_switch, case-sensitive as there.
	switch {
	case s[0] == '0' || s[0] == 'n' || s[0] == 'f' || strings.HasPrefix(s, "of"):
		return false, fmt.Sprintf("non-standard boolean %q read as no", s), nil
	case s[0] == '1' || s[0] == 'y' || s[0] == 't' || strings.HasPrefix(s, "on"):
		return true, fmt.Sprintf("non-standard boolean %q read as yes", s), nil
	}
	return false, "", fmt.Errorf("invalid boolean %q (want yes/no, on/off, true/false, t/f or 1/0)", s)
}

// parseInt reads a 32-bit integer as C strtol with base 0 does (decimal,
// 0x hex, leading-0 octal), since Cyrus stores INT options in an int32.
func parseInt(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 0, 32)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("integer %q out of range", s)
		}
		return 0, fmt.Errorf("invalid integer %q", s)
	}
	return n, nil
}

// parseDuration reads a duration as Cyrus's config_parseduration: an
// optional minus sign, then numbers each followed by d, h, m or s, summed;
// a trailing bare number is in defUnit. Cyrus keeps durations in an int32
// of seconds, and so do the bounds here.
func parseDuration(s, defUnit string) (time.Duration, error) {
	bad := func(why string) (time.Duration, error) {
		return 0, fmt.Errorf("invalid duration %q: %s", s, why)
	}
	p := s
	neg := false
	if strings.HasPrefix(p, "-") {
		neg = true
		p = p[1:]
	}
	if p == "" || !isDigit(p[0]) {
		return bad("no number")
	}
	var total, num int64
	sawDigit := false
	for i := 0; i <= len(p); i++ {
		var c byte
		if i == len(p) {
			if !sawDigit {
				break
			}
			c = defUnit[0] // a bare number takes the option's unit
		} else {
			c = p[i]
		}
		if isDigit(c) {
			num = num*10 + int64(c-'0')
			if num > math.MaxInt32 {
				return bad("too large")
			}
			sawDigit = true
			continue
		}
		if !sawDigit {
			return bad(fmt.Sprintf("no number before %q", c))
		}
		var mult int64
		switch c {
		case 'd', 'D':
			mult = 86400
		case 'h', 'H':
			mult = 3600
		case 'm', 'M':
			mult = 60
		case 's', 'S':
			mult = 1
		default:
			return bad(fmt.Sprintf("unknown unit %q (want d, h, m or s)", c))
		}
		total += num * mult
		if total > math.MaxInt32 {
			return bad("too large")
		}
		num, sawDigit = 0, false
	}
	if neg {
		total = -total
	}
	return time.Duration(total) * time.Second, nil
}

// parseSize reads a byte size as Cyrus's config_parsebytesize: a decimal
// number, optional spaces, an optional K, M or G multiplier (powers of
// 1024, optionally written Ki, Mi, Gi) and an optional B; a bare number is
// in defUnit ("B" or "K").
func parseSize(s, defUnit string) (int64, error) {
	bad := func(why string) (int64, error) {
		return 0, fmt.Errorf("invalid size %q: %s", s, why)
	}
	p := s
	neg := false
	if p[0] == '-' || p[0] == '+' {
		neg = p[0] == '-'
		p = p[1:]
	}
	i := 0
	for i < len(p) && isDigit(p[i]) {
		i++
	}
	if i == 0 {
		return bad("no number")
	}
	n, err := strconv.ParseInt(p[:i], 10, 64)
	if err != nil {
		return bad("too large")
	}
	rest := strings.TrimLeft(p[i:], " \t")
	if rest == "" {
		rest = defUnit
	}
	shift := 0
	switch rest[0] {
	case 'g', 'G':
		shift = 30
	case 'm', 'M':
		shift = 20
	case 'k', 'K':
		shift = 10
	}
	if shift > 0 {
		rest = rest[1:]
		if rest != "" && (rest[0] == 'i' || rest[0] == 'I') {
			rest = rest[1:]
		}
	}
	if rest != "" && (rest[0] == 'b' || rest[0] == 'B') {
		rest = rest[1:]
	}
	if rest != "" {
		return bad(fmt.Sprintf("unknown unit %q (want K, M or G)", rest))
	}
	if n > math.MaxInt64>>shift {
		return bad("too large")
	}
	n <<= shift
	if neg {
		n = -n
	}
	return n, nil
}

// parseEnum returns the canonical spelling of one allowed word. As in
// Cyrus, the boolean words stand for "on" and "off" where those are
// allowed (virtdomains: yes is on).
func parseEnum(o *table.Option, s string) (any, []string, error) {
	words, spell := canonical(o)
	w := strings.ToLower(s)
	boolWord := false
	if _, ok := spell["on"]; ok {
		switch w {
		case "1", "yes", "t", "true":
			w, boolWord = "on", true
		case "0", "no", "f", "false":
			w, boolWord = "off", true
		}
	}
	c, ok := spell[w]
	if !ok {
		return nil, nil, fmt.Errorf("invalid value %q (allowed: %s)", s, strings.Join(words, ", "))
	}
	var warnings []string
	if !boolWord && !strings.EqualFold(c, w) {
		warnings = append(warnings, fmt.Sprintf("value %q is deprecated in favor of %q", s, c))
	}
	return c, warnings, nil
}

// parseList splits a whitespace-separated list. When the option has a set
// of allowed words (Cyrus's bit fields), every word must be one of them;
// the result holds each canonical word once, in the order first given.
func parseList(o *table.Option, s string) (any, []string, error) {
	fields := strings.Fields(s)
	if len(o.Values) == 0 {
		return fields, nil, nil
	}
	words, spell := canonical(o)
	var warnings []string
	out := make([]string, 0, len(fields))
	seen := make(map[string]bool, len(fields))
	for _, f := range fields {
		c, ok := spell[strings.ToLower(f)]
		if !ok {
			return nil, nil, fmt.Errorf("invalid value %q (allowed: %s)", f, strings.Join(words, ", "))
		}
		if !strings.EqualFold(c, f) {
			warnings = append(warnings, fmt.Sprintf("value %q is deprecated in favor of %q", f, c))
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out, warnings, nil
}

// spellings caches table.Option.Canonical for every option with values,
// so parsing a value does not rebuild its map. Built once, never modified.
var spellings = func() map[string]spelling {
	m := make(map[string]spelling)
	for _, o := range table.Options() {
		if len(o.Values) > 0 {
			words, spell := o.Canonical()
			m[o.Name] = spelling{words, spell}
		}
	}
	return m
}()

type spelling struct {
	words []string
	spell map[string]string
}

func canonical(o *table.Option) ([]string, map[string]string) {
	if s, ok := spellings[o.Name]; ok {
		return s.words, s.spell
	}
	return o.Canonical()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
