package imapwire

import (
	"slices"
	"strconv"
)

// Star is the value standing for "*" in a SeqRange: the largest number in
// use (RFC 3501 section 9, seq-number). 0 is free for it because sequence
// numbers and UIDs are nz-numbers.
const Star uint32 = 0

// SeqRange is one seq-number or seq-range of a sequence set. Start and
// Stop are equal for a single number. Ranges of two numbers are kept with
// Start <= Stop ("5:3" is 3:5, RFC 3501 section 9); a range with "*" keeps
// the number in Start and Star in Stop ("*:4" is 4:*), because which end
// is lower depends on the value of "*" at the time of use.
type SeqRange struct {
	Start, Stop uint32
}

// resolve returns the bounds of g with "*" standing for max, lower first,
// and 0 raised to 1.
func (g SeqRange) resolve(star uint32) (lo, hi uint32) {
	lo, hi = g.Start, g.Stop
	if lo == Star {
		lo = star
	}
	if hi == Star {
		hi = star
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return max(lo, 1), hi
}

// SeqSet is a sequence-set (RFC 3501 section 9) of message sequence
// numbers or UIDs, or the "$" of SEARCHRES (RFC 5182 section 2): Dollar is
// set and Ranges is empty, and the engine substitutes the saved result.
type SeqSet struct {
	Ranges []SeqRange
	Dollar bool
}

// ReadSequenceSet reads a sequence-set: seq-numbers ("*" included) and
// seq-ranges separated by commas, or "$" alone (RFC 5182 section 2; RFC
// 9051 section 9, seq-last-command). Zero is not a seq-number. The set is
// bounded like an atom (maxword), as Cyrus reads it.
func (r *Reader) ReadSequenceSet() (SeqSet, error) {
	if err := r.begin(); err != nil {
		return SeqSet{}, err
	}
	tok, err := r.scan(seqChars, r.lim.MaxWord, LimitMaxWord)
	if err != nil {
		return SeqSet{}, err
	}
	if len(tok) == 0 {
		return SeqSet{}, r.unexpected("sequence set")
	}
	s, ok := parseSeqSet(tok)
	if !ok {
		return SeqSet{}, syntaxErr("invalid sequence set " + strconv.Quote(string(tok)))
	}
	return s, nil
}

// ParseSeqSet parses the text of a sequence-set, as ReadSequenceSet reads
// it.
func ParseSeqSet(s string) (SeqSet, error) {
	set, ok := parseSeqSet([]byte(s))
	if !ok {
		return SeqSet{}, syntaxErr("invalid sequence set " + strconv.Quote(s))
	}
	return set, nil
}

func parseSeqSet(b []byte) (SeqSet, bool) {
	if len(b) == 1 && b[0] == '$' {
		return SeqSet{Dollar: true}, true
	}
	n := 1
	for _, c := range b {
		if c == ',' {
			n++
		}
	}
	set := SeqSet{Ranges: make([]SeqRange, 0, n)}
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != ',' {
			i++
		}
		g, ok := parseSeqRange(b[:i])
		if !ok {
			return SeqSet{}, false
		}
		set.Ranges = append(set.Ranges, g)
		if i == len(b) {
			break
		}
		b = b[i+1:]
		if len(b) == 0 { // trailing comma
			return SeqSet{}, false
		}
	}
	return set, len(set.Ranges) > 0
}

func parseSeqRange(b []byte) (SeqRange, bool) {
	for i, c := range b {
		if c == ':' {
			lo, ok1 := parseSeqNumber(b[:i])
			hi, ok2 := parseSeqNumber(b[i+1:])
			if !ok1 || !ok2 {
				return SeqRange{}, false
			}
			switch {
			case lo == Star:
				lo, hi = hi, lo
			case hi != Star && lo > hi:
				lo, hi = hi, lo
			}
			return SeqRange{Start: lo, Stop: hi}, true
		}
	}
	n, ok := parseSeqNumber(b)
	return SeqRange{Start: n, Stop: n}, ok
}

// parseSeqNumber parses seq-number = nz-number / "*".
func parseSeqNumber(b []byte) (uint32, bool) {
	if len(b) == 1 && b[0] == '*' {
		return Star, true
	}
	if len(b) == 0 || b[0] == '0' {
		return 0, false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, ok := parseUint(b, 1<<32-1)
	return uint32(n), ok
}

// Contains reports whether n is in s when "*" is max (the number of
// messages, or the highest UID in the mailbox). A "$" set contains
// nothing: the engine substitutes the saved result first.
func (s SeqSet) Contains(n, max uint32) bool {
	for _, g := range s.Ranges {
		lo, hi := g.resolve(max)
		if n >= lo && n <= hi {
			return true
		}
	}
	return false
}

// HasStar reports whether s uses "*", so that its meaning depends on the
// state of the mailbox.
func (s SeqSet) HasStar() bool {
	for _, g := range s.Ranges {
		if g.Start == Star || g.Stop == Star {
			return true
		}
	}
	return false
}

// Resolve returns the ranges of s with "*" replaced by star, sorted, with
// overlapping and adjacent ranges merged. Numbers above star are kept: for
// message sequence numbers they are the engine's BAD (RFC 3501 section 9,
// seq-number), for UIDs they just match nothing. With star 0 (an empty
// mailbox) a lone "*" resolves to nothing.
func (s SeqSet) Resolve(star uint32) []SeqRange {
	out := make([]SeqRange, 0, len(s.Ranges))
	for _, g := range s.Ranges {
		lo, hi := g.resolve(star)
		if hi == 0 {
			continue
		}
		out = append(out, SeqRange{Start: lo, Stop: hi})
	}
	slices.SortFunc(out, func(a, b SeqRange) int {
		switch {
		case a.Start < b.Start:
			return -1
		case a.Start > b.Start:
			return 1
		}
		return 0
	})
	merged := out[:0]
	for _, g := range out {
		if k := len(merged) - 1; k >= 0 && (g.Start <= merged[k].Stop || uint64(g.Start) == uint64(merged[k].Stop)+1) {
			merged[k].Stop = max(merged[k].Stop, g.Stop)
			continue
		}
		merged = append(merged, g)
	}
	return merged
}

// Expand returns the numbers of s from 1 to max, ascending and without
// duplicates; at most max of them, so it suits message sequence numbers.
// UID sets, whose max may be huge, are better walked with Resolve.
func (s SeqSet) Expand(max uint32) []uint32 {
	var out []uint32
	for _, g := range s.Resolve(max) {
		if g.Start > max {
			break
		}
		for n := g.Start; ; n++ {
			out = append(out, n)
			if n == min(g.Stop, max) {
				break
			}
		}
	}
	return out
}

// String returns s in the wire form, "$" or ranges like "1:3,5,7:*".
func (s SeqSet) String() string { return string(s.AppendTo(nil)) }

// AppendTo appends the wire form of s to b.
func (s SeqSet) AppendTo(b []byte) []byte {
	if s.Dollar {
		return append(b, '$')
	}
	for i, g := range s.Ranges {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendSeqNumber(b, g.Start)
		if g.Stop != g.Start {
			b = append(b, ':')
			b = appendSeqNumber(b, g.Stop)
		}
	}
	return b
}

func appendSeqNumber(b []byte, n uint32) []byte {
	if n == Star {
		return append(b, '*')
	}
	return strconv.AppendUint(b, uint64(n), 10)
}

// SeqSetOf returns the smallest set of ranges holding exactly nums, which
// need not be sorted (zeros are ignored): the form of the UID sets in
// COPYUID and APPENDUID (RFC 4315) and of ESEARCH ALL (RFC 4731).
func SeqSetOf(nums []uint32) SeqSet {
	sorted := slices.Clone(nums)
	slices.Sort(sorted)
	var s SeqSet
	for _, n := range sorted {
		if n == 0 {
			continue
		}
		if k := len(s.Ranges) - 1; k >= 0 {
			last := &s.Ranges[k]
			if n <= last.Stop { // a duplicate
				continue
			}
			if n == last.Stop+1 {
				last.Stop = n
				continue
			}
		}
		s.Ranges = append(s.Ranges, SeqRange{Start: n, Stop: n})
	}
	return s
}
