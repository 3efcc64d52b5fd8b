package sieve

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// RFC 5229 3: variable-ref = "${" [namespace] variable-name "}", where
// variable-name is an identifier or a number (a match variable).

// scanRef looks for a variable reference at s[i:] (which starts with
// "${"); it returns the name and the index after "}", or ok false.
func scanRef(s string, i int) (name string, end int, ok bool) {
	j := i + 2
	start := j
	for j < len(s) {
		c := s[j]
		if isAlpha(c) || isDigit(c) || c == '_' || c == '.' {
			j++
			continue
		}
		break
	}
	if j >= len(s) || s[j] != '}' || j == start {
		return "", 0, false
	}
	name = s[start:j]
	if !validRefName(name) {
		return "", 0, false
	}
	return name, j + 1, true
}

// validRefName: digits only, or dot-separated identifiers.
func validRefName(name string) bool {
	allDigits := true
	for i := 0; i < len(name); i++ {
		if !isDigit(name[i]) {
			allDigits = false
			break
		}
	}
	if allDigits {
		return true
	}
	for _, part := range strings.Split(name, ".") {
		if !isIdentifier(part) {
			// the last part may be a number ("ns.1")
			if part == "" || strings.Trim(part, "0123456789") != "" {
				return false
			}
		}
	}
	return true
}

// varRefs returns the names referenced in s.
func varRefs(s string) []string {
	var out []string
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '$' && s[i+1] == '{' {
			if name, end, ok := scanRef(s, i); ok {
				out = append(out, name)
				i = end - 1
			}
		}
	}
	return out
}

func hasVarRef(s string) bool {
	return strings.Contains(s, "${") && len(varRefs(s)) > 0
}

// expandVars substitutes the references in s with lookup's values. The
// result is cut at max bytes (at a character boundary), so that a script
// cannot build strings without bound by repeating references.
func expandVars(s string, lookup func(name string) string, max int) string {
	if !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i+1 < len(s); i++ {
		if s[i] != '$' || s[i+1] != '{' {
			continue
		}
		name, end, ok := scanRef(s, i)
		if !ok {
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(lookup(name))
		last = end
		i = end - 1
		if b.Len() > max {
			break
		}
	}
	if last < len(s) && b.Len() <= max {
		b.WriteString(s[last:])
	}
	return truncateUTF8(b.String(), max)
}

// truncateUTF8 cuts s to at most max bytes without splitting a UTF-8
// sequence (RFC 5229 6: "truncated to a length that is not less than the
// maximum ... in characters").
func truncateUTF8(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && i < len(s) && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// applyModifiers applies the set modifiers given as tags, highest
// precedence first (RFC 5229 4.1: 40 :lower/:upper, 30
// :lowerfirst/:upperfirst, 20 :quotewildcard (and :quoteregex), 15
// :encodeurl (RFC 5435 4.1), 10 :length).
func applyModifiers(v string, tags map[string]Arg) string {
	has := func(t string) bool { _, ok := tags[t]; return ok }
	switch {
	case has("lower"):
		v = strings.ToLower(v)
	case has("upper"):
		v = strings.ToUpper(v)
	}
	switch {
	case has("lowerfirst"):
		v = mapFirst(v, unicode.ToLower)
	case has("upperfirst"):
		v = mapFirst(v, unicode.ToUpper)
	}
	switch {
	case has("quotewildcard"):
		v = quoteChars(v, `*?\`)
	case has("quoteregex"):
		v = quoteChars(v, `\.*+?^$()[]{}|`)
	}
	if has("encodeurl") {
		v = encodeURL(v)
	}
	if has("length") {
		v = strconv.Itoa(utf8.RuneCountInString(v))
	}
	return v
}

func mapFirst(s string, f func(rune) rune) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(f(r)) + s[n:]
}

func quoteChars(s, special string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(special, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// encodeURL percent-encodes everything but RFC 3986 unreserved
// characters (RFC 5435 4.1).
func encodeURL(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// decodeAll applies encoded-character (RFC 5228 2.4.2.4) to every string
// of the script, reporting invalid Unicode scalar values.
func decodeAll(v *validator, cmds []*Node) {
	var walk func(ns []*Node)
	walk = func(ns []*Node) {
		for _, n := range ns {
			for i := range n.Args {
				a := &n.Args[i]
				for j, s := range a.Strs {
					d, err := decodeEncoded(s)
					if err != nil {
						v.errorf(a.Line, "%v", err)
						continue
					}
					a.Strs[j] = d
				}
			}
			walk(n.Tests)
			walk(n.Block)
		}
	}
	walk(cmds)
}

// decodeEncoded replaces "${hex:...}" and "${unicode:...}". Sequences that
// do not fit the syntax stay as they are.
func decodeEncoded(s string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	last := 0
	for i := 0; i+1 < len(s); i++ {
		if s[i] != '$' || s[i+1] != '{' {
			continue
		}
		colon := strings.IndexByte(s[i:], ':')
		if colon < 0 {
			break
		}
		kind := strings.ToLower(s[i+2 : i+colon])
		if kind != "hex" && kind != "unicode" {
			continue
		}
		end := strings.IndexByte(s[i+colon:], '}')
		if end < 0 {
			break
		}
		body := s[i+colon+1 : i+colon+end]
		out, ok, err := decodeSeq(kind, body)
		if err != nil {
			return "", err
		}
		if !ok {
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(out)
		last = i + colon + end + 1
		i = last - 1
	}
	b.WriteString(s[last:])
	return b.String(), nil
}

func decodeSeq(kind, body string) (string, bool, error) {
	fields := strings.FieldsFunc(body, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' })
	if len(fields) == 0 {
		return "", false, nil
	}
	var b strings.Builder
	for _, f := range fields {
		if kind == "hex" && len(f) > 2 {
			return "", false, nil
		}
		if len(f) > 8 {
			return "", false, nil
		}
		n, err := strconv.ParseUint(f, 16, 32)
		if err != nil {
			return "", false, nil
		}
		if kind == "hex" {
			b.WriteByte(byte(n))
			continue
		}
		if n > 0x10FFFF || (n >= 0xD800 && n <= 0xDFFF) {
			return "", false, fmt.Errorf("invalid Unicode character U+%X in encoded-character", n)
		}
		b.WriteRune(rune(n))
	}
	return b.String(), true, nil
}
