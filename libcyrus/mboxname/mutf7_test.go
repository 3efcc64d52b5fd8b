package mboxname

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf16"
)

func TestMUTF7RoundTrip(t *testing.T) {
	tests := []struct {
		name, wire, text string
	}{
		// RFC 3501 5.1.3.
		{"rfc3501 example", "~peter/mail/&U,BTFw-/&ZeVnLIqe-", "~peter/mail/台北/日本語"},
		{"ampersand", "&-", "&"},
		{"ampersands", "a&-b&-&-", "a&b&&"},
		{"plain", "INBOX.Sent Items", "INBOX.Sent Items"},
		{"empty", "", ""},
		{"latin", "Entw&APw-rfe", "Entwürfe"},
		{"run of two", "&AOQA9g-", "äö"},
		{"ampersand after run", "&AOQ-&-", "ä&"},
		{"astral", "&2D3eAA-", "😀"},
		{"control char", "a&AAk-b", "a\tb"},
		{"del", "&AH8-", "\x7f"},
		{"tilde and space", "~ x", "~ x"},
		{"all printable", printableASCII(), strings.ReplaceAll(printableASCII(), "&-", "&")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EncodeMUTF7(tt.text); got != tt.wire {
				t.Errorf("EncodeMUTF7(%q) = %q, want %q", tt.text, got, tt.wire)
			}
			got, err := DecodeMUTF7(tt.wire)
			if err != nil || got != tt.text {
				t.Errorf("DecodeMUTF7(%q) = %q, %v; want %q", tt.wire, got, err, tt.text)
			}
		})
	}
}

func printableASCII() string {
	var b strings.Builder
	for c := byte(0x20); c <= 0x7e; c++ {
		b.WriteByte(c)
		if c == '&' {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// mod64Of returns the modified BASE64 of the UTF-16 units, for building
// invalid inputs.
func mod64Of(units ...uint16) string {
	var b strings.Builder
	writeMod64(&b, units)
	return b.String()
}

func TestMUTF7Invalid(t *testing.T) {
	tests := []struct {
		name, wire, reason string
	}{
		{"unterminated", "&AOQ", "unterminated"},
		{"lone ampersand", "a&", "unterminated"},
		{"incomplete unit", "&AO-", "incomplete"},
		{"non-zero padding", "&AOR-", "padding"},
		{"superfluous character", "&AOQA-", "incomplete"},
		{"encoded printable", "&AGE-", "printable"},
		{"encoded ampersand", "&ACY-", "printable"},
		{"encoded printable in run", "&" + mod64Of(0xe4, 'a') + "-", "printable"},
		{"slash not in alphabet", "&AOQ/-", "BASE64"},
		{"padding sign", "&AOQ=-", "BASE64"},
		{"adjacent runs", "&AOQ-&APY-", "adjacent"},
		{"raw 8-bit", "Entwürfe", "must be encoded"},
		{"raw tab", "a\tb", "must be encoded"},
		{"raw nul", "a\x00b", "must be encoded"},
		{"raw del", "a\x7f", "must be encoded"},
		{"lone high surrogate", "&" + mod64Of(0xd83d) + "-", "surrogate"},
		{"lone low surrogate", "&" + mod64Of(0xde00) + "-", "surrogate"},
		{"reversed surrogates", "&" + mod64Of(0xde00, 0xd83d) + "-", "surrogate"},
		{"high then bmp", "&" + mod64Of(0xd83d, 0xe4) + "-", "surrogate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeMUTF7(tt.wire)
			if err == nil {
				t.Fatalf("DecodeMUTF7(%q) = %q, want an error", tt.wire, got)
			}
			var ne *NameError
			if !errors.As(err, &ne) || ne.Name != tt.wire {
				t.Fatalf("error %v is not a *NameError for %q", err, tt.wire)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
		})
	}
}

// TestMUTF7Exhaustive encodes and decodes every BMP character and a
// sample of astral ones, alone and between ASCII.
func TestMUTF7Exhaustive(t *testing.T) {
	for r := rune(0); r <= 0x10ffff; r++ {
		if utf16.IsSurrogate(r) || (r > 0xffff && r%251 != 0) {
			continue
		}
		for _, s := range []string{string(r), "a" + string(r) + "b", string(r) + string(r) + "&"} {
			enc := EncodeMUTF7(s)
			dec, err := DecodeMUTF7(enc)
			if err != nil || dec != s {
				t.Fatalf("round trip of %q via %q gave %q, %v", s, enc, dec, err)
			}
		}
	}
}
