package message

import (
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"

	"github.com/cyrusgo/cyrusgo/libcyrus/msgsort"
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

// BaseSubject returns the base subject of a Subject value (RFC 5256 2.1),
// as msgsort.BaseSubject extracts it.
func BaseSubject(s string) string {
	base, _ := msgsort.BaseSubject(s)
	return base
}
