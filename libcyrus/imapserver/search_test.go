package imapserver

import (
	"strings"
	"testing"
	"testing/iotest"
)

func TestSearchTranscript(t *testing.T) { t.Parallel(); runTranscript(t, "search.txt") }

func TestFoldAppend(t *testing.T) {
	for in, want := range map[string]string{
		"Hello WORLD": "hello world",
		"GRÜßE":       "grüße",
		"ÀÉÎ\xff":     "àéî\xff",
		"":            "",
	} {
		if got := string(foldAppend(nil, []byte(in))); got != want {
			t.Errorf("foldAppend(%q) = %q, want %q", in, got, want)
		}
	}
}

// The streaming matcher finds needles across read boundaries, also
// when a read splits a multi-byte character.
func TestReaderContains(t *testing.T) {
	text := strings.Repeat("x", 40000) + "Schöne GRÜSSE" + strings.Repeat("y", 100)
	var e searchEval
	for _, tc := range []struct {
		needle string
		want   bool
	}{
		{"schöne grüsse", true},
		{"xschö", true},
		{"grüssey", true},
		{"schöne  grüsse", false},
		{"z", false},
	} {
		for _, rd := range []func() interface{ Read([]byte) (int, error) }{
			func() interface{ Read([]byte) (int, error) } { return strings.NewReader(text) },
			func() interface{ Read([]byte) (int, error) } {
				return iotest.OneByteReader(strings.NewReader(text))
			},
			func() interface{ Read([]byte) (int, error) } {
				return iotest.HalfReader(strings.NewReader(text))
			},
		} {
			got, err := e.readerContains(rd(), foldAppend(nil, []byte(tc.needle)))
			if err != nil || got != tc.want {
				t.Errorf("%q: got %v %v", tc.needle, got, err)
			}
		}
	}
}

func TestCompleteRunes(t *testing.T) {
	for in, want := range map[string]int{"abc": 3, "ab\xc3": 2, "a\xe2\x82": 1, "a\xe2\x82\xac": 4, "\xff": 1} {
		if got := completeRunes([]byte(in)); got != want {
			t.Errorf("completeRunes(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestESearchTranscript(t *testing.T) { t.Parallel(); runTranscript(t, "esearch.txt") }
