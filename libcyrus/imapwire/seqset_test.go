package imapwire

import (
	"slices"
	"strings"
	"testing"
)

func TestReadSequenceSet(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"1 ", "1", ""},
		{"1:* ", "1:*", ""},
		{"*:4 ", "4:*", ""},
		{"5:3 ", "3:5", ""},
		{"* ", "*", ""},
		{"*:* ", "*", ""},
		{"2,4:7,9,12:* ", "2,4:7,9,12:*", ""},
		{"4294967295 ", "4294967295", ""},
		{"$ ", "$", ""},
		{"1:3)", "1:3", ""},
		{"0 ", "", "syntax"},
		{"0:5 ", "", "syntax"},
		{"01 ", "", "syntax"},
		{"4294967296 ", "", "syntax"},
		{"1, ", "", "syntax"},
		{",1 ", "", "syntax"},
		{"1,,2 ", "", "syntax"},
		{"1: ", "", "syntax"},
		{":1 ", "", "syntax"},
		{"1:2:3 ", "", "syntax"},
		{"1,$ ", "", "syntax"}, // "$" stands alone (RFC 5182)
		{"$$ ", "", "syntax"},
		{"** ", "", "syntax"},
		{"a ", "", "syntax"},
		{"\r\n", "", "syntax"},
		{strings.Repeat("1,", 49) + "1 ", strings.Repeat("1,", 49) + "1", ""},
		{strings.Repeat("1,", 50) + "1 ", "", LimitMaxWord},
	}
	for _, tt := range tests {
		r, _ := open(t, tt.in, testLimits())
		set, err := r.ReadSequenceSet()
		if errKind(err) != tt.err || err == nil && set.String() != tt.want {
			t.Errorf("ReadSequenceSet(%q) = %q, %v; want %q, %s", tt.in, set.String(), err, tt.want, tt.err)
		}
	}
}

func TestParseSeqSet(t *testing.T) {
	s, err := ParseSeqSet("3:1,*")
	if err != nil || len(s.Ranges) != 2 || s.Ranges[0] != (SeqRange{1, 3}) || s.Ranges[1] != (SeqRange{Star, Star}) {
		t.Fatalf("ParseSeqSet = %+v, %v", s, err)
	}
	if _, err := ParseSeqSet(""); !isSyntax(err) {
		t.Errorf("empty: %v", err)
	}
}

func TestSeqSetContains(t *testing.T) {
	tests := []struct {
		set     string
		max     uint32
		in, out []uint32
	}{
		{"1:3", 10, []uint32{1, 2, 3}, []uint32{0, 4, 10}},
		{"5:3", 10, []uint32{3, 4, 5}, []uint32{2, 6}},
		{"*", 10, []uint32{10}, []uint32{1, 9, 11}},
		{"8:*", 10, []uint32{8, 9, 10}, []uint32{7, 11}},
		{"*:8", 10, []uint32{8, 9, 10}, []uint32{7}},
		// RFC 3501 section 9: UID range 3291:* includes the last UID even
		// if that is lower than 3291.
		{"3291:*", 100, []uint32{100, 3291, 200}, []uint32{99, 3292}},
		{"*", 0, nil, []uint32{0, 1}},
		{"2,4:5", 10, []uint32{2, 4, 5}, []uint32{1, 3, 6}},
		{"$", 10, nil, []uint32{1, 10}},
	}
	for _, tt := range tests {
		s, err := ParseSeqSet(tt.set)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range tt.in {
			if !s.Contains(n, tt.max) {
				t.Errorf("%s with * = %d: %d not in it", tt.set, tt.max, n)
			}
		}
		for _, n := range tt.out {
			if s.Contains(n, tt.max) {
				t.Errorf("%s with * = %d: %d in it", tt.set, tt.max, n)
			}
		}
	}
}

func TestSeqSetResolveExpand(t *testing.T) {
	tests := []struct {
		set     string
		max     uint32
		resolve string
		expand  []uint32
	}{
		{"1:3", 10, "1:3", []uint32{1, 2, 3}},
		{"5,1:3,4", 10, "1:5", []uint32{1, 2, 3, 4, 5}},
		{"9:*,2", 10, "2,9:10", []uint32{2, 9, 10}},
		{"12:*", 10, "10:12", []uint32{10}},
		{"*", 0, "", nil},
		{"1:*", 0, "1", nil},
		{"20:30", 10, "20:30", nil},
		{"1:4294967295", 3, "1:4294967295", []uint32{1, 2, 3}},
		{"4294967295,1", 4294967295, "1,4294967295", []uint32{1, 4294967295}},
		{"3:6,1:4", 10, "1:6", []uint32{1, 2, 3, 4, 5, 6}},
	}
	for _, tt := range tests {
		s, _ := ParseSeqSet(tt.set)
		got := SeqSet{Ranges: s.Resolve(tt.max)}.String()
		if got != tt.resolve {
			t.Errorf("%s.Resolve(%d) = %s, want %s", tt.set, tt.max, got, tt.resolve)
		}
		if tt.max < 1000 || tt.set == "4294967295,1" {
			if got := s.Expand(tt.max); !slices.Equal(got, tt.expand) {
				t.Errorf("%s.Expand(%d) = %v, want %v", tt.set, tt.max, got, tt.expand)
			}
		}
	}
}

func TestSeqSetOf(t *testing.T) {
	tests := []struct {
		nums []uint32
		want string
	}{
		{[]uint32{1, 2, 3, 5, 7, 8}, "1:3,5,7:8"},
		{[]uint32{8, 7, 1, 3, 2, 5, 5}, "1:3,5,7:8"},
		{[]uint32{4294967295, 4294967294, 4294967295}, "4294967294:4294967295"},
		{[]uint32{0, 1}, "1"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := SeqSetOf(tt.nums).String(); got != tt.want {
			t.Errorf("SeqSetOf(%v) = %s, want %s", tt.nums, got, tt.want)
		}
	}
	s, _ := ParseSeqSet("1:*")
	if !s.HasStar() {
		t.Error("HasStar(1:*) = false")
	}
	if SeqSetOf([]uint32{1}).HasStar() {
		t.Error("HasStar(1) = true")
	}
}
