package msgsort

import "testing"

func TestCaseMap(t *testing.T) {
	tests := []struct{ a, b string }{
		{"abc", "ABC"},
		{"Hello World", "hELLO wORLD"},
		{"café", "CAFÉ"},       // simple titlecase beyond ASCII
		{"café", "cafe\u0301"}, // NFKD: precomposed equals combining
		{"ǆ", "Ǆ"},             // titlecase of a digraph
		{"ﬁle", "FILE"},        // compatibility decomposition of the ligature
		{"straße", "STRAßE"},   // no full case folding: ß stays ß
		{"Ωmega", "ωMEGA"},
		{"caf\xe9", "CAF\uFFFD"}, // bytes that are not UTF-8
	}
	for _, tt := range tests {
		if x, y := CaseMap(tt.a), CaseMap(tt.b); x != y {
			t.Errorf("CaseMap(%q) = %q, CaseMap(%q) = %q; want equal", tt.a, x, tt.b, y)
		}
	}
	order := []string{"", "A", "a b", "ab", "Abc", "b", "é", "Ω"}
	for i := 0; i+1 < len(order); i++ {
		if Compare(order[i], order[i+1]) >= 0 {
			t.Errorf("Compare(%q, %q) >= 0, want < 0", order[i], order[i+1])
		}
	}
	if Compare("STRASSE", "straße") == 0 {
		t.Errorf("i;unicode-casemap does not fold ß to SS")
	}
}
