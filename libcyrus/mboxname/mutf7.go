package mboxname

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Modified UTF-7, RFC 3501 section 5.1.3, the encoding of mailbox names on
// the IMAP wire (and of Cyrus's own mailboxes.db keys and spool directory
// names):
//
//   - printable US-ASCII (0x20-0x7e) other than "&" stands for itself;
//   - "&" is written "&-";
//   - every other character is written as UTF-16 in modified BASE64 (RFC
//     2152 with "," instead of "/", no "=" padding) between "&" and "-".
//
// The decoder is strict, because a lenient one would give one mailbox
// several spellings: it refuses raw 8-bit and control bytes, a shift
// sequence that is not closed, characters outside the modified BASE64
// alphabet, padding bits that are not zero or a superfluous BASE64
// character, an odd number of UTF-16 bytes, unpaired surrogates, printable
// ASCII written in BASE64 (it must stand for itself), "&" written other than
// "&-", and two shift sequences back to back (RFC 3501 asks for the shortest
// form, so they must be one sequence). With that, a string that decodes is
// exactly EncodeMUTF7 of its decoding.

// mod64 is the modified BASE64 alphabet of RFC 3501 section 5.1.3.
const mod64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,"

// mod64Value maps a byte to its value in mod64, or -1.
func mod64Value(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 26
	case c >= '0' && c <= '9':
		return int(c-'0') + 52
	case c == '+':
		return 62
	case c == ',':
		return 63
	}
	return -1
}

// printable reports whether r may stand for itself in modified UTF-7.
func printable(r rune) bool { return r >= 0x20 && r <= 0x7e }

// EncodeMUTF7 returns the modified UTF-7 form of the UTF-8 string s (RFC
// 3501 5.1.3), always in the shortest form, so DecodeMUTF7 gives s back.
// Bytes of s that are not valid UTF-8 are encoded as U+FFFD.
func EncodeMUTF7(s string) string {
	// Fast path: names are nearly always plain ASCII without "&".
	plain := true
	for i := 0; i < len(s); i++ {
		if !printable(rune(s[i])) || s[i] == '&' {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	var run []rune
	flush := func() {
		if len(run) == 0 {
			return
		}
		b.WriteByte('&')
		writeMod64(&b, utf16.Encode(run))
		b.WriteByte('-')
		run = run[:0]
	}
	for _, r := range s {
		if printable(r) {
			flush()
			if r == '&' {
				b.WriteString("&-")
			} else {
				b.WriteRune(r)
			}
			continue
		}
		run = append(run, r)
	}
	flush()
	return b.String()
}

// writeMod64 writes the UTF-16BE bytes of units in modified BASE64, without
// padding; the unused low bits of the last character are zero.
func writeMod64(b *strings.Builder, units []uint16) {
	var acc uint32
	bits := 0
	for _, u := range units {
		acc = acc<<16 | uint32(u)
		bits += 16
		for bits >= 6 {
			bits -= 6
			b.WriteByte(mod64[(acc>>uint(bits))&0x3f])
		}
		acc &= 1<<uint(bits) - 1
	}
	if bits > 0 {
		b.WriteByte(mod64[(acc<<uint(6-bits))&0x3f])
	}
}

// DecodeMUTF7 decodes the modified UTF-7 string s (RFC 3501 5.1.3) into
// UTF-8. It is strict (see the rules at the top of this file); any
// violation is a *NameError naming s and the byte offset of the fault.
func DecodeMUTF7(s string) (string, error) {
	plain := true
	for i := 0; i < len(s); i++ {
		if !printable(rune(s[i])) || s[i] == '&' {
			plain = false
			break
		}
	}
	if plain {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	prevShift := false // the previous item was a non-empty shift sequence
	for i := 0; i < len(s); {
		c := s[i]
		if c != '&' {
			if !printable(rune(c)) {
				return "", mutf7Error(s, i, "byte 0x%02x must be encoded", c)
			}
			b.WriteByte(c)
			prevShift = false
			i++
			continue
		}
		end := strings.IndexByte(s[i+1:], '-')
		if end < 0 {
			return "", mutf7Error(s, i, "unterminated shift sequence")
		}
		enc := s[i+1 : i+1+end]
		if enc == "" {
			b.WriteByte('&')
			prevShift = false
			i += 2
			continue
		}
		if prevShift {
			return "", mutf7Error(s, i, "adjacent shift sequences must be merged")
		}
		if err := decodeRun(&b, s, i+1, enc); err != nil {
			return "", err
		}
		prevShift = true
		i += end + 2
	}
	return b.String(), nil
}

// decodeRun decodes the modified BASE64 text enc, which starts at offset off
// of s, and appends its characters to b.
func decodeRun(b *strings.Builder, s string, off int, enc string) error {
	units := make([]uint16, 0, len(enc)*6/16)
	var acc uint32
	bits := 0
	for j := 0; j < len(enc); j++ {
		v := mod64Value(enc[j])
		if v < 0 {
			return mutf7Error(s, off+j, "%q is not a modified BASE64 character", enc[j])
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 16 {
			bits -= 16
			units = append(units, uint16(acc>>uint(bits)))
			acc &= 1<<uint(bits) - 1
		}
	}
	// Minimal form: what is left over are the zero padding bits of the last
	// character, fewer than 6 of them, and no half UTF-16 unit.
	if bits >= 6 {
		return mutf7Error(s, off, "shift sequence has an incomplete UTF-16 unit")
	}
	if acc != 0 {
		return mutf7Error(s, off, "shift sequence has non-zero padding bits")
	}
	for k := 0; k < len(units); k++ {
		u := units[k]
		var r rune
		switch {
		case utf16.IsSurrogate(rune(u)):
			if u >= 0xdc00 || k+1 >= len(units) {
				return mutf7Error(s, off, "unpaired UTF-16 surrogate")
			}
			r = utf16.DecodeRune(rune(u), rune(units[k+1]))
			if r == utf8.RuneError {
				return mutf7Error(s, off, "unpaired UTF-16 surrogate")
			}
			k++
		default:
			r = rune(u)
		}
		if printable(r) {
			return mutf7Error(s, off, "printable ASCII %q must not be encoded", r)
		}
		b.WriteRune(r)
	}
	return nil
}

func mutf7Error(s string, off int, format string, args ...any) error {
	return nameErrorf(s, "invalid modified UTF-7 at byte %d: "+format, append([]any{off}, args...)...)
}
