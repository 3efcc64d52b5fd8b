package imapwire

import (
	"strings"
	"testing"
)

func TestReadFlagList(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{`(\Seen \Answered $Label) `, `\Seen|\Answered|$Label`, ""},
		{`(\seen) `, `\seen`, ""},
		{`() `, "", ""},
		{`(\Extension foo[bar]) `, "", "syntax"}, // "]" is no ATOM-CHAR
		{`(\Extension foo[bar) `, `\Extension|foo[bar`, ""},
		{`(\*) `, "", "syntax"},
		{`(\) `, "", "syntax"},
		{`(\\Seen) `, "", "syntax"},
		{"(\\Seen\r\n", "", "syntax"},
		{`(\Seen`, "", "io"},
		{`(a  b) `, "", "syntax"},
		{`( a) `, "", "syntax"},
		{`(a ) `, "", "syntax"},
		{`("a") `, "", "syntax"},
		{`((a)) `, "", "syntax"},
		{`\Seen `, "", "syntax"},
		{`(caf` + "\xc3\xa9" + `) `, "", "syntax"},
		{"(" + strings.Repeat("f", 100) + ") ", strings.Repeat("f", 100), ""},
		{`(\` + strings.Repeat("f", 100) + ") ", `\` + strings.Repeat("f", 100), ""},
		{"(" + strings.Repeat("f", 101) + ") ", "", LimitMaxWord},
	}
	for _, tt := range tests {
		r, _ := open(t, tt.in, testLimits())
		flags, err := r.ReadFlagList()
		if got := strings.Join(flags, "|"); got != tt.want || errKind(err) != tt.err {
			t.Errorf("ReadFlagList(%q) = %q, %v; want %q, %s", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestReadFlag(t *testing.T) {
	// STORE takes flags without parentheses too (RFC 3501 section 9,
	// store-att-flags).
	r, _ := open(t, `\Seen \Deleted kw`+"\r\n", testLimits())
	var got []string
	for {
		f, err := r.ReadFlag()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, f)
		if !r.PeekSP() {
			break
		}
		r.SP()
	}
	if s := strings.Join(got, "|"); s != `\Seen|\Deleted|kw` {
		t.Errorf("flags %s", s)
	}
	if err := r.ReadEOL(); err != nil {
		t.Fatal(err)
	}
}

// readAny reads one element of a generic list: a nested list or an
// astring.
func readAny(out *[]string) func(r *Reader) error {
	var f func(r *Reader) error
	f = func(r *Reader) error {
		c, err := r.Peek()
		if err != nil {
			return err
		}
		if c == '(' {
			*out = append(*out, "(")
			err := r.ReadList(f)
			*out = append(*out, ")")
			return err
		}
		s, err := r.ReadAString()
		*out = append(*out, s)
		return err
	}
	return f
}

func TestReadList(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"(a b c) ", "a b c", ""},
		{"() ", "", ""},
		{"(a (b (c)) {1}\r\nd \"e f\") ", "a ( b ( c ) ) d e f", ""},
		{"(()) ", "( )", ""},
		{"(a", "", "io"}, // EOF right after a token is an I/O error
		{"(a b", "a ", "io"},
		{"(a)b", "a", ""},
		{"a", "", "syntax"},
		{"(a\r\n", "a", "syntax"},
		{strings.Repeat("(", MaxListDepth) + strings.Repeat(")", MaxListDepth) + " ", strings.TrimSpace(strings.Repeat("( ", MaxListDepth-1) + strings.Repeat(") ", MaxListDepth-1)), ""},
		{strings.Repeat("(", MaxListDepth+1) + strings.Repeat(")", MaxListDepth+1) + " ", "-", "syntax"},
	}
	for _, tt := range tests {
		r, _ := open(t, tt.in, testLimits())
		var got []string
		err := r.ReadList(readAny(&got))
		if s := strings.Join(got, " "); s != tt.want && tt.want != "-" || errKind(err) != tt.err {
			t.Errorf("ReadList(%q) = %q, %v; want %q, %s", tt.in, s, err, tt.want, tt.err)
		}
	}
}
