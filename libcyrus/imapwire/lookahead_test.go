package imapwire

import "testing"

func TestPeekAfterSP(t *testing.T) {
	tests := []struct {
		in string
		c  byte
		ok bool
	}{
		{"X (LAZY)\r\n", '(', true},
		{"X Y\r\n", 'Y', true},
		{"X\r\n", 0, false},
		{"X ", 0, false}, // the input ends after the space
	}
	for _, tc := range tests {
		r, _ := open(t, tc.in, testLimits())
		if a, err := r.ReadAtom(); err != nil || a != "X" {
			t.Fatalf("%q: ReadAtom = %q, %v", tc.in, a, err)
		}
		c, ok := r.PeekAfterSP()
		if c != tc.c || ok != tc.ok {
			t.Errorf("%q: PeekAfterSP = %q, %v; want %q, %v", tc.in, c, ok, tc.c, tc.ok)
		}
		if tc.ok && !r.PeekSP() {
			t.Errorf("%q: PeekAfterSP consumed the space", tc.in)
		}
	}
}
