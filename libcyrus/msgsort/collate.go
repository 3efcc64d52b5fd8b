package msgsort

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// CaseMap returns the canonical form of s under the i;unicode-casemap
// collation (RFC 5051 2), which SORT and THREAD compare strings with (RFC
// 5256 7): every character mapped to its simple titlecase, then the
// result in Unicode normalization form KD, whose letters are titlecased
// once more so that a compatibility decomposition ("ﬁ" to "fi") folds
// like the letters it stands for. Two strings are equal under
// the collation when their canonical forms are equal, and ordered as
// their canonical forms' UTF-8 octets (i;octet). Bytes that are not UTF-8
// become U+FFFD first, as RFC 5051 2 step 1 asks of invalid input.
//
// ASCII text, the common case, is only upper-cased: titlecase of an ASCII
// letter is its upper case and NFKD leaves ASCII alone.
func CaseMap(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return upperASCII(s)
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(unicode.ToTitle, norm.NFKD.String(strings.Map(unicode.ToTitle, s)))
}

func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'a' <= b[j] && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// Compare compares a and b under i;unicode-casemap: -1, 0 or +1.
func Compare(a, b string) int {
	return strings.Compare(CaseMap(a), CaseMap(b))
}
