package message

import "github.com/cyrusgo/cyrusgo/libcyrus/msgsort"

// decodeHeader decodes the RFC 2047 encoded-words of an unfolded header
// value to UTF-8, as msgsort.DecodeWords does.
func decodeHeader(s string) string { return msgsort.DecodeWords(s) }

// BaseSubject returns the base subject of a Subject value (RFC 5256 2.1),
// as msgsort.BaseSubject extracts it.
func BaseSubject(s string) string {
	base, _ := msgsort.BaseSubject(s)
	return base
}
