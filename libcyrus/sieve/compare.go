package sieve

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Comparators (RFC 4790 9.1 i;octet, 9.2 i;ascii-casemap, 9.3
// i;ascii-numeric), match types (RFC 5228 2.7.1: :is, :contains,
// :matches; the regex draft: :regex) and relational matches (RFC 5231:
// :value, :count).

// matcher is one test's COMPARATOR and MATCH-TYPE with its keys expanded.
type matcher struct {
	r    *run
	cmp  string
	typ  string
	rel  string
	keys []string
	line int
	// capture: set match variables on success (RFC 5229 3.2), only when
	// the script uses variables.
	capture bool
	globs   [][]globTok
	res     []*regexp.Regexp
}

func (r *run) newMatcher(n *Node, keys []string) *matcher {
	m := &matcher{r: r, cmp: n.Comparator, typ: n.Match, rel: n.Relation, keys: keys, line: n.Line}
	if m.cmp == "" {
		m.cmp = defaultCmp
	}
	if m.typ == "" {
		m.typ = defaultType
	}
	m.capture = r.frame().vars != nil
	switch m.typ {
	case "matches":
		m.globs = make([][]globTok, len(keys))
		for i, k := range keys {
			m.globs[i] = parseGlob(k)
		}
	case "regex":
		m.res = make([]*regexp.Regexp, len(keys))
		for i, k := range keys {
			m.res[i] = r.regex(n.Line, k, m.cmp)
		}
	}
	return m
}

// any reports whether any value matches any key; for :count, whether the
// number of values compares with a key.
func (m *matcher) any(values []string) bool {
	if m.typ == "count" {
		return m.count(len(values))
	}
	for _, v := range values {
		if m.one(v) {
			return true
		}
	}
	return false
}

// count compares n with the keys (RFC 5231 4.1: as a decimal string,
// with the comparator).
func (m *matcher) count(n int) bool {
	s := strconv.Itoa(n)
	for _, k := range m.keys {
		if relate(compare(m.cmp, s, k), m.rel) {
			return true
		}
	}
	return false
}

// one reports whether v matches any key.
func (m *matcher) one(v string) bool {
	m.r.step(1 + int64(len(v))/16)
	for i, k := range m.keys {
		switch m.typ {
		case "is":
			if compare(m.cmp, v, k) == 0 {
				return true
			}
		case "contains":
			m.r.step(int64(len(v)))
			if m.cmp == cmpOctet {
				if strings.Contains(v, k) {
					return true
				}
			} else if strings.Contains(asciiLower(v), asciiLower(k)) {
				return true
			}
		case "matches":
			var caps []string
			var cp *[]string
			if m.capture {
				cp = &caps
			}
			if globMatch(m.globs[i], v, m.cmp != cmpOctet, cp, m.r) {
				if m.capture {
					m.r.matchVars = append([]string{v}, caps...)
				}
				return true
			}
		case "regex":
			m.r.step(int64(len(v)))
			re := m.res[i]
			if m.capture {
				if sub := re.FindStringSubmatch(v); sub != nil {
					m.r.matchVars = sub
					return true
				}
			} else if re.MatchString(v) {
				return true
			}
		case "value":
			if relate(compare(m.cmp, v, k), m.rel) {
				return true
			}
		}
	}
	return false
}

// relate applies a relational operator to a comparison result.
func relate(c int, rel string) bool {
	switch rel {
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	case "eq":
		return c == 0
	case "ne":
		return c != 0
	}
	return false
}

// compare orders a and b under a comparator.
func compare(cmp, a, b string) int {
	switch cmp {
	case cmpOctet:
		return strings.Compare(a, b)
	case cmpNumeric:
		return compareNumeric(a, b)
	}
	return strings.Compare(asciiLower(a), asciiLower(b))
}

// compareNumeric is i;ascii-numeric (RFC 4790 9.3): the value of a string
// is its leading decimal digits; a string without one is positive
// infinity, equal to any other such string.
func compareNumeric(a, b string) int {
	da, db := leadingDigits(a), leadingDigits(b)
	switch {
	case da == "" && db == "":
		return 0
	case da == "":
		return 1
	case db == "":
		return -1
	}
	da, db = strings.TrimLeft(da, "0"), strings.TrimLeft(db, "0")
	if len(da) != len(db) {
		if len(da) < len(db) {
			return -1
		}
		return 1
	}
	return strings.Compare(da, db)
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i]
}

// asciiLower folds only A-Z: i;ascii-casemap leaves other octets alone.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func foldRune(r rune) rune {
	if r >= 'A' && r <= 'Z' {
		return r + 'a' - 'A'
	}
	return r
}

// globTok is one element of a :matches pattern.
type globTok struct {
	kind byte // 'l' literal, '*' any sequence, '?' one character
	r    rune
}

// parseGlob reads a :matches key (RFC 5228 2.7.1): "*" and "?" are
// wildcards, "\" quotes the next character.
func parseGlob(p string) []globTok {
	var out []globTok
	for i := 0; i < len(p); {
		c := p[i]
		switch c {
		case '*':
			out = append(out, globTok{kind: '*'})
			i++
		case '?':
			out = append(out, globTok{kind: '?'})
			i++
		case '\\':
			if i+1 < len(p) {
				r, n := utf8.DecodeRuneInString(p[i+1:])
				out = append(out, globTok{kind: 'l', r: r})
				i += 1 + n
			} else {
				out = append(out, globTok{kind: 'l', r: '\\'})
				i++
			}
		default:
			r, n := utf8.DecodeRuneInString(p[i:])
			out = append(out, globTok{kind: 'l', r: r})
			i += n
		}
	}
	return out
}

// globMatch matches s against pat. It backtracks only to the most recent
// "*", which bounds the work to len(pat)*len(s) steps (never exponential)
// and gives each wildcard the shortest text that lets the rest match, in
// order, which is RFC 5229 3.2's non-greedy rule for match variables.
func globMatch(pat []globTok, str string, fold bool, caps *[]string, r *run) bool {
	s := []rune(str)
	var starts, ends []int
	wild := make([]int, len(pat)) // index of each wildcard among wildcards
	nw := 0
	for i, t := range pat {
		wild[i] = nw
		if t.kind != 'l' {
			nw++
		}
	}
	if caps != nil {
		starts, ends = make([]int, nw), make([]int, nw)
	}
	eq := func(a, b rune) bool {
		if fold {
			return foldRune(a) == foldRune(b)
		}
		return a == b
	}
	pi, si := 0, 0
	starP, starS := -1, 0
	n := int64(0)
	for pi < len(pat) || si < len(s) {
		n++
		if n&1023 == 0 {
			r.step(1024)
		}
		if pi < len(pat) {
			t := pat[pi]
			switch t.kind {
			case '*':
				starP, starS = pi, si
				if caps != nil {
					starts[wild[pi]], ends[wild[pi]] = si, si
				}
				pi++
				continue
			case '?':
				if si < len(s) {
					if caps != nil {
						starts[wild[pi]], ends[wild[pi]] = si, si+1
					}
					pi++
					si++
					continue
				}
			default:
				if si < len(s) && eq(t.r, s[si]) {
					pi++
					si++
					continue
				}
			}
		}
		if starP >= 0 && starS < len(s) {
			starS++
			si, pi = starS, starP+1
			if caps != nil {
				ends[wild[starP]] = starS
			}
			continue
		}
		return false
	}
	r.step(n & 1023)
	if caps != nil {
		out := make([]string, nw)
		for i := range out {
			out[i] = string(s[starts[i]:ends[i]])
		}
		*caps = out
	}
	return true
}

// regex compiles a :regex key once per run.
func (r *run) regex(line int, pat, cmp string) *regexp.Regexp {
	key := cmp + "\x00" + pat
	if re, ok := r.regexes[key]; ok {
		return re
	}
	r.step(int64(len(pat)) * 4)
	re, err := compileRegex(pat, cmp, r.lim.MaxRegex)
	if err != nil {
		throwf(line, "%v", err)
	}
	if len(r.regexes) >= 256 {
		clear(r.regexes)
	}
	r.regexes[key] = re
	return re
}
