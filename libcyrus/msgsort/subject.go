package msgsort

import (
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
)

// BaseSubject returns the base subject of a Subject header value as RFC
// 5256 2.1 defines it for SORT SUBJECT and threading, and whether the
// extraction found the message to be a reply or forward (RFC 5256 3,
// REFERENCES: it removed a subj-refwd, a "(fwd)" subj-trailer or a
// subj-fwd-hdr/subj-fwd-trl pair).
//
// Step (1) decodes RFC 2047 encoded-words to UTF-8 (words in unknown
// charsets stay as they are, bytes that are not UTF-8 become U+FFFD) and
// turns tabs, line breaks and runs of blanks into single spaces. Case is
// kept: the comparison (i;unicode-casemap, see CaseMap) is the caller's.
func BaseSubject(s string) (base string, reply bool) {
	s = collapseBlanks(DecodeWords(s))
	for {
		// (2) Remove subj-trailers, "(fwd)" and WSP, until none is left.
		for {
			s = strings.TrimRight(s, " ")
			if n := len(s); n >= 5 && strings.EqualFold(s[n-5:], "(fwd)") {
				s = s[:n-5]
				reply = true
				continue
			}
			break
		}
		var refwd bool
		s, refwd = stripLeaders(s)
		reply = reply || refwd
		// (6) A "[fwd:" ... "]" wrapper: unwrap and start again at (2).
		if n := len(s); n >= 6 && strings.EqualFold(s[:5], "[fwd:") && s[n-1] == ']' {
			s = s[5 : n-1]
			reply = true
			continue
		}
		return s, reply
	}
}

// DecodeWords decodes the RFC 2047 encoded-words of s to UTF-8; words in
// unknown charsets stay encoded, and bytes that are not UTF-8 become U+FFFD.
func DecodeWords(s string) string {
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

// collapseBlanks turns every run of SP, HTAB, CR and LF into one space
// and drops leading and trailing ones (step (1); the leading and trailing
// blanks would go in steps (2) and (3) anyway).
func collapseBlanks(s string) string {
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
	return b.String()
}

// stripLeaders applies steps (3) to (5): remove every subj-leader
// ((*subj-blob subj-refwd) / WSP), then a leading subj-blob unless
// nothing else would be left, and repeat. refwd reports whether a
// subj-refwd was removed.
//
// A subj-refwd starts with a letter and a subj-blob with "[", so a leader
// can only end at the end of the run of blobs at the start. When no
// subj-refwd follows the run, step (4) removes its blobs one by one and
// step (3) keeps failing at the same place; doing that in one go keeps the
// work linear in the length of the subject.
func stripLeaders(s string) (out string, refwd bool) {
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
			refwd = true
			continue
		}
		switch {
		case end == 0:
		case strings.TrimLeft(s[end:], " ") != "":
			s = s[end:]
		default:
			s = s[last:]
		}
		return s, refwd
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
// *WSP, where BLOBCHAR is any CHAR8 but the brackets.
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
