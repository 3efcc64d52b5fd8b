package msgsort

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzBaseSubject checks what RFC 5256 2.1 promises of every subject: the
// base is valid UTF-8 with single blanks and none at either end, never
// longer than the decoded input, carries no leader or trailer any more,
// and extracting it again changes nothing (unless decoding produced
// encoded-word text, which step (1) would decode again).
func FuzzBaseSubject(f *testing.F) {
	for _, s := range []string{
		"Re: [list] Fwd: subj (fwd)", "[fwd: Re: subj]", "[PATCH]", "[a] [b]",
		"=?utf-8?q?Re=3A_caf=C3=A9?=", "Re [2]: x", "x\t(fwd)\r\n (FWD)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		base, _ := BaseSubject(s)
		if !utf8.ValidString(base) {
			t.Fatalf("BaseSubject(%q) = %q: not UTF-8", s, base)
		}
		if strings.HasPrefix(base, " ") || strings.HasSuffix(base, " ") || strings.Contains(base, "  ") {
			t.Fatalf("BaseSubject(%q) = %q: stray blanks", s, base)
		}
		if strings.ContainsAny(base, "\t\r\n") {
			t.Fatalf("BaseSubject(%q) = %q: tab or line break left", s, base)
		}
		if n := len(collapseBlanks(DecodeWords(s))); len(base) > n {
			t.Fatalf("BaseSubject(%q) = %q: longer than the decoded subject", s, base)
		}
		if strings.Contains(base, "=?") {
			return
		}
		again, reply := BaseSubject(base)
		if again != base || reply {
			t.Fatalf("BaseSubject(%q) = %q, but BaseSubject(%q) = %q, %v", s, base, base, again, reply)
		}
	})
}
