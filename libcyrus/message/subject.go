package message

import (
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
)

// decodeHeader decodes the RFC 2047 encoded-words of an unfolded header
// value to UTF-8. Words in unknown charsets stay encoded; raw 8-bit text
// that is not UTF-8 has its bad bytes replaced by U+FFFD.
func decodeHeader(s string) string {
	if strings.Contains(s, "=?") {
		d := mime.WordDecoder{CharsetReader: charset.Reader}
		if out, err := d.DecodeHeader(s); err == nil {
			s = out
		}
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

// BaseSubject returns the base subject of a Subject value as RFC 5256 2.1
// defines it for SORT SUBJECT and THREAD=ORDEREDSUBJECT: encoded-words
// decoded, blanks collapsed, and reply/forward markers ("Re:", "Fwd:",
// "[list]" tags, "(fwd)" trailers, "[fwd: ...]" wrappers) removed. Case is
// kept; the comparison (i;ascii-casemap) is the caller's.
func BaseSubject(s string) string {
	// (1) Decode, and turn tabs and line breaks into single spaces.
	s = decodeHeader(unfold(s))
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteByte(c)
	}
	s = b.String() // no leading or trailing blank any more
	for {
		// (2) Remove trailing "(fwd)" and blanks.
		for {
			s = strings.TrimRight(s, " ")
			if n := len(s); n >= 5 && strings.EqualFold(s[n-5:], "(fwd)") {
				s = s[:n-5]
				continue
			}
			break
		}
		s = stripLeaders(s)
		// (6) "[fwd: ...]" wrapping: unwrap and start again.
		if n := len(s); n >= 6 && strings.EqualFold(s[:5], "[fwd:") && s[n-1] == ']' {
			s = s[5 : n-1]
			continue
		}
		return s
	}
}

// stripLeaders applies steps (3) to (5) of RFC 5256 2.1: remove every
// subj-leader ((*subj-blob subj-refwd) / WSP), then a leading subj-blob
// unless nothing else is left, and repeat.
//
// A subj-refwd starts with a letter and a subj-blob with "[", so a leader
// can only end at the end of the run of blobs at the start. When no
// subj-refwd follows the run, step (4) removes its blobs one by one and
// step (3) keeps failing at the same place; doing that in one go keeps the
// work linear in the length of the subject.
func stripLeaders(s string) string {
	for {
		s = strings.TrimLeft(s, " ")
		end, last := 0, 0 // end of the blob run, start of its last blob
		for {
			n := subjBlob(s, end)
			if n == 0 {
				break
			}
			last, end = end, end+n
		}
		if n := subjRefwd(s, end); n > 0 {
			s = s[end+n:]
			continue
		}
		switch {
		case end == 0:
		case strings.TrimLeft(s[end:], " ") != "":
			s = s[end:]
		default:
			s = s[last:]
		}
		return s
	}
}

// subjRefwd returns the length of a subj-refwd at s[i:]:
// ("re" / ("fw" ["d"])) *WSP [subj-blob] ":".
func subjRefwd(s string, i int) int {
	j := i
	switch {
	case hasFold(s[j:], "re"):
		j += 2
	case hasFold(s[j:], "fwd"):
		j += 3
	case hasFold(s[j:], "fw"):
		j += 2
	default:
		return 0
	}
	for j < len(s) && s[j] == ' ' {
		j++
	}
	j += subjBlob(s, j)
	if j < len(s) && s[j] == ':' {
		return j + 1 - i
	}
	return 0
}

// subjBlob returns the length of a subj-blob at s[i:]: "[" *BLOBCHAR "]"
// *WSP, where BLOBCHAR is any CHAR but the brackets.
func subjBlob(s string, i int) int {
	if i >= len(s) || s[i] != '[' {
		return 0
	}
	j := i + 1
	for j < len(s) && s[j] != '[' && s[j] != ']' {
		j++
	}
	if j >= len(s) || s[j] != ']' {
		return 0
	}
	j++
	for j < len(s) && s[j] == ' ' {
		j++
	}
	return j - i
}

func hasFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
