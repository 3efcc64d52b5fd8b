package message

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestBaseSubject(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Re: [tag] Fwd: subj (fwd)", "subj"},
		{"subj", "subj"},
		{"Re: subj", "subj"},
		{"RE: re: Re:subj", "subj"},
		{"Fw: FWD: fwd : subj", "subj"},
		{"Re[2]: subj", "subj"},        // subj-refwd may carry a blob
		{"Re [2]: subj", "subj"},       // ... after blanks
		{"[list] Re: subj", "subj"},    // blobs before a refwd go with it
		{"[PATCH] subj", "subj"},       // step (4): a leading blob
		{"[PATCH]", "[PATCH]"},         // ... unless nothing would be left
		{"[a] [b] subj", "subj"},       // steps (3)-(5) repeat
		{"subj (fwd) (FWD)  ", "subj"}, // step (2) repeats
		{"[fwd: subj]", "subj"},        // step (6)
		{"[Fwd: Re: [list] subj (fwd)]", "subj"},
		{"Re:", ""},
		{"", ""},
		{"  lots \t of\r\n  blanks  ", "lots of blanks"},
		{"Reply to this", "Reply to this"}, // "Re" must be followed by ":"
		{"Fwd subj", "Fwd subj"},
		{"=?utf-8?q?Re=3A_caf=C3=A9?=", "café"}, // step (1) decodes first
		{"Re: =?iso-8859-1?q?caf=E9?= (fwd)", "café"},
		{"[unterminated subj", "[unterminated subj"},
	}
	// Long runs of blobs take linear time (a quadratic walk would not
	// finish here).
	tests = append(tests,
		struct{ in, want string }{strings.Repeat("[a]", 300000), "[a]"},
		struct{ in, want string }{strings.Repeat("[a] ", 300000) + "x", "x"},
		struct{ in, want string }{strings.Repeat("[fwd: ", 100000) + "x" + strings.Repeat("]", 100000), "x"},
	)
	for _, tt := range tests {
		if got := BaseSubject(tt.in); got != tt.want {
			t.Errorf("BaseSubject(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Mon, 01 Jan 2024 00:00:00 +0000", "2024-01-01T00:00:00Z"},
		{"Tue, 2 Jan 2024 10:30:00 -0500 (EST)", "2024-01-02T10:30:00-05:00"},
		{"2 Jan 2024 10:30 +0100", "2024-01-02T10:30:00+01:00"},
		{"9 Jan 24 12:34 EST", "2024-01-09T12:34:00-05:00"}, // RFC 5322 4.3
		{"9 Jan 99 12:34:56 GMT", "1999-01-09T12:34:56Z"},
		{"9 Jan 101 12:34:56 PDT", "2001-01-09T12:34:56-07:00"},
		{"Thu, 04 Jan 2024 12:00:00 Z", "2024-01-04T12:00:00Z"},
		{"Thu, 04 Jan 2024 12:00:00", "2024-01-04T12:00:00Z"},
		{"Thu, 04 Jan 2024 12:00:00+0200", "2024-01-04T12:00:00+02:00"},
		{"Thu,04 Jan 2024 12:00:00 +0200", "2024-01-04T12:00:00+02:00"},
		{"Thu Jan  4 12:00:00 2024", "2024-01-04T12:00:00Z"}, // asctime
		{"4 January 2024 12:00:00 +0000", "2024-01-04T12:00:00Z"},
		{"31 Feb 2024 12:00:00 +0000", ""},
		{"32 Jan 2024 12:00:00 +0000", ""},
		{"1 Jan 2024 25:00:00 +0000", ""},
		{"yesterday", ""},
		{"", ""},
	}
	for _, tt := range tests {
		d, err := ParseDate(tt.in)
		got := ""
		if err == nil {
			got = d.Format(time.RFC3339)
		}
		if got != tt.want {
			t.Errorf("ParseDate(%q) = %q (%v), want %q", tt.in, got, err, tt.want)
		}
	}
}

func addr(name, adl, mailbox, host string) Address {
	n := func(s string) NString {
		if s == "\x00" {
			return NString{}
		}
		return Str(s)
	}
	return Address{Name: n(name), ADL: n(adl), Mailbox: n(mailbox), Host: n(host)}
}

const nil0 = "\x00"

func TestParseAddressList(t *testing.T) {
	tests := []struct {
		in   string
		want []Address
	}{
		{"alice", []Address{addr(nil0, nil0, "alice", "unspecified-domain")}},
		{"Joe <joe@example.com>", []Address{addr("Joe", nil0, "joe", "example.com")}},
		{`"Doe, John" <john@example.com>, jane@example.com (Jane D.)`, []Address{
			addr("Doe, John", nil0, "john", "example.com"), addr("Jane D.", nil0, "jane", "example.com")}},
		{"=?utf-8?q?Zo=C3=AB?= <z@example.com>", []Address{addr("=?utf-8?q?Zo=C3=AB?=", nil0, "z", "example.com")}},
		{"A Group: a@example.com, B <b@example.com>;", []Address{
			addr(nil0, nil0, "A Group", nil0), addr(nil0, nil0, "a", "example.com"),
			addr("B", nil0, "b", "example.com"), addr(nil0, nil0, nil0, nil0)}},
		{"empty:;", []Address{addr(nil0, nil0, "empty", nil0), addr(nil0, nil0, nil0, nil0)}},
		{"open: a@example.com", []Address{addr(nil0, nil0, "open", nil0), addr(nil0, nil0, "a", "example.com"), addr(nil0, nil0, nil0, nil0)}},
		{"<@r1.example,@r2.example:u@example.com>", []Address{addr(nil0, "@r1.example,@r2.example", "u", "example.com")}},
		{"<>", []Address{addr(nil0, nil0, "", "unspecified-domain")}},
		{`"quoted local"@example.com`, []Address{addr(nil0, nil0, "quoted local", "example.com")}},
		{"joe@EXAMPLE.com.", []Address{addr(nil0, nil0, "joe", "EXAMPLE.com")}},
		{"joe@[192.0.2.1]", []Address{addr(nil0, nil0, "joe", "[192.0.2.1]")}},
		{"Joe\r\n Folded <joe@example.com>", []Address{addr("Joe Folded", nil0, "joe", "example.com")}},
		{`"unbalanced <u@example.com>`, nil},
		{"", nil},
		{" , ,", nil},
	}
	for _, tt := range tests {
		if got := ParseAddressList(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseAddressList(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
		}
	}
}

func TestAppendString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"plain text", `"plain text"`},
		{"a\"b", "{3}\r\na\"b"},
		{`a\b`, "{3}\r\na\\b"},
		{"100%", "{4}\r\n100%"},
		{"caf\xc3\xa9", "{5}\r\ncaf\xc3\xa9"},
		{"a\r\nb", "{4}\r\na\r\nb"},
		{"tab\there", "\"tab\there\""},
		{strings.Repeat("x", 1023), `"` + strings.Repeat("x", 1023) + `"`},
		{strings.Repeat("x", 1024), "{1024}\r\n" + strings.Repeat("x", 1024)},
	}
	for _, tt := range tests {
		if got := string(AppendString(nil, tt.in)); got != tt.want {
			t.Errorf("AppendString(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := string(AppendNString([]byte("x "), NString{})); got != "x NIL" {
		t.Errorf("AppendNString(NIL) = %q", got)
	}
}

func TestParseParams(t *testing.T) {
	tests := []struct {
		in   string
		want []Param
	}{
		{`text/plain; charset="utf-8"`, []Param{{"CHARSET", "utf-8"}}},
		{`text/plain; charset=utf-8 (comment); format=flowed`, []Param{{"CHARSET", "utf-8"}, {"FORMAT", "flowed"}}},
		{"text/plain; name=\"a\\\"b\"", []Param{{"NAME", `a"b`}}},
		{"text/plain; name=\"folded\r\n value\"", []Param{{"NAME", "folded value"}}},
		{`x/y; a*0="one"; a*1="two"`, []Param{{"A", "onetwo"}}},
		{`x/y; a*1="two"; a*0="one"`, []Param{{"A", "onetwo"}}},
		{`x/y; a*0*=utf-8''%E2%82; a*1*=%AC`, []Param{{"A*", "utf-8''%E2%82%AC"}}},
		{`x/y; a*0="p q"; a*1*=%41`, []Param{{"A*", "''p%20q%41"}}},
		{`x/y; a*0*=''x; a*1="y z"`, []Param{{"A*", "''xy%20z"}}},
		{`x/y; bad; a=1; =2; b="unterminated`, []Param{{"A", "1"}}},
		{`x/y; a=b c; d=e`, []Param{{"D", "e"}}},
	}
	for _, tt := range tests {
		_, _, got, ok := parseContentType([]byte(tt.in))
		if !ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("params of %q = %v (ok %v), want %v", tt.in, got, ok, tt.want)
		}
	}
	for _, bad := range []string{"", "text", "text/", "/plain", "te xt/plain", "text/plain garbage", "text/pl@in", "tëxt/plain"} {
		if _, _, _, ok := parseContentType([]byte(bad)); ok {
			t.Errorf("parseContentType(%q) accepted", bad)
		}
	}
	if typ, sub, _, ok := parseContentType([]byte(" (c) Text / HTML (c)")); !ok || typ != "TEXT" || sub != "HTML" {
		t.Errorf("comments and blanks: %q %q %v", typ, sub, ok)
	}
}

func TestParseSection(t *testing.T) {
	good := []struct {
		in   string
		want SectionSpec
	}{
		{"", SectionSpec{}},
		{"HEADER", SectionSpec{Specifier: "HEADER"}},
		{"text", SectionSpec{Specifier: "TEXT"}},
		{"1", SectionSpec{Path: []int{1}}},
		{"1.2.3", SectionSpec{Path: []int{1, 2, 3}}},
		{"1.2.MIME", SectionSpec{Path: []int{1, 2}, Specifier: "MIME"}},
		{"4.header", SectionSpec{Path: []int{4}, Specifier: "HEADER"}},
		{"HEADER.FIELDS (From To)", SectionSpec{Specifier: "HEADER.FIELDS", Fields: []string{"From", "To"}}},
		{`2.HEADER.FIELDS.NOT ("Subject" x-y)`, SectionSpec{Path: []int{2}, Specifier: "HEADER.FIELDS.NOT", Fields: []string{"Subject", "x-y"}}},
		{"HEADER.FIELDS ({4}\r\nDate)", SectionSpec{Specifier: "HEADER.FIELDS", Fields: []string{"Date"}}},
	}
	for _, tt := range good {
		got, err := ParseSection(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseSection(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"0", "01", "1.", "1..2", ".1", "MIME", "1.BOGUS", "HEADER.FIELDS", "HEADER.FIELDS ()",
		"HEADER.FIELDS (a", "HEADER.FIELDS (a) x", "HEADERX", "TEXT (a)", "99999999999", "1.2.HEADER.FIELDS(\"a)"} {
		if _, err := ParseSection(bad); !errors.Is(err, ErrBadSection) {
			t.Errorf("ParseSection(%q): %v, want ErrBadSection", bad, err)
		}
	}
}

func TestFilterHeader(t *testing.T) {
	h := []byte("From: a\r\nSubject: one\r\n two\r\nX-Y: z\r\ngarbage line\r\nsubject : again\r\n\r\nbody: no\r\n")
	tests := []struct {
		fields []string
		not    bool
		want   string
	}{
		{[]string{"SUBJECT"}, false, "Subject: one\r\n two\r\nsubject : again\r\n\r\n"},
		{[]string{"subject", "from"}, true, "X-Y: z\r\n\r\n"},
		{[]string{"body"}, false, "\r\n"},
		{[]string{"nothing"}, true, "From: a\r\nSubject: one\r\n two\r\nX-Y: z\r\nsubject : again\r\n\r\n"},
	}
	for _, tt := range tests {
		if got := string(FilterHeader(h, tt.fields, tt.not)); got != tt.want {
			t.Errorf("FilterHeader(%v, %v) = %q, want %q", tt.fields, tt.not, got, tt.want)
		}
	}
	if got := string(FilterHeader([]byte("A: 1\r\nB: 2"), []string{"b"}, false)); got != "B: 2\r\n\r\n" {
		t.Errorf("unterminated last field: %q", got)
	}
}

func TestBareLF(t *testing.T) {
	raw := "From: a@example.com\nSubject: lf\nContent-Type: multipart/mixed; boundary=b\n\n" +
		"--b\nContent-Type: text/plain\n\none\ntwo\n--b\r\n\r\nmixed\r\n--b--\n"
	s, err := Parse(strings.NewReader(raw), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.BareLF {
		t.Error("BareLF not set")
	}
	want := `(("TEXT" "PLAIN" NIL NIL NIL "7BIT" 7 1 NIL NIL NIL NIL)("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 5 0 NIL NIL NIL NIL) "MIXED" ("BOUNDARY" "b") NIL NIL NIL)`
	if got := string(s.BodyStructure(true)); got != want {
		t.Errorf("BODYSTRUCTURE\n got %s\nwant %s", got, want)
	}
	ra := strings.NewReader(raw)
	for spec, want := range map[string]string{
		"HEADER":                  "From: a@example.com\nSubject: lf\nContent-Type: multipart/mixed; boundary=b\n\n",
		"1":                       "one\ntwo",
		"1.MIME":                  "Content-Type: text/plain\n\n",
		"2":                       "mixed",
		"2.MIME":                  "\r\n",
		"HEADER.FIELDS (subject)": "Subject: lf\n\r\n",
	} {
		ref, err := s.Section(spec)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		got, err := ref.Read(ra)
		if err != nil || string(got) != want {
			t.Errorf("BODY[%s] = %q, %v; want %q", spec, got, err, want)
		}
	}

	s, err = Parse(strings.NewReader("Subject: crlf\r\n\r\nbody\r\n"), Options{})
	if err != nil || s.BareLF {
		t.Errorf("CRLF message: BareLF %v, %v", s.BareLF, err)
	}
}

func TestNoBody(t *testing.T) {
	for _, raw := range []string{"", "Subject: only a header", "Subject: only a header\r\n", "\r\n", "no colon at all"} {
		s, err := Parse(strings.NewReader(raw), Options{})
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		if s.Size != int64(len(raw)) || s.Root.HeaderLen+s.Root.BodyLen != s.Size {
			t.Errorf("%q: size %d header %d body %d", raw, s.Size, s.Root.HeaderLen, s.Root.BodyLen)
		}
		want := `("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 0 0)`
		if got := string(s.BodyStructure(false)); got != want {
			t.Errorf("%q: BODY %s", raw, got)
		}
	}
}

func TestDecodedText(t *testing.T) {
	tests := []struct {
		header, body, want string
	}{
		{"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n",
			"Caf=E9 au=\r\n lait =3D ok=\nx = y =ZZ=", "Café au lait = okx = y =ZZ="},
		{"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n",
			"Q2Fmw6kg\r\nYXUg bGFp!dA", "Café au lait"},
		{"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n", "YQ==YmM=", "abc"},
		{"Content-Type: text/plain; charset=windows-1252\r\n", "\x93quoted\x94", "\u201cquoted\u201d"},
		{"Content-Type: text/plain; charset=x-unknown\r\n", "raw \xff", "raw \xff"},
		{"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: BASE64\r\n", "AAEC", "\x00\x01\x02"},
		{"Content-Type: text/plain; charset=iso-2022-jp\r\n", "\x1b$B$3$s$K$A$O\x1b(B", "こんにちは"},
	}
	for _, tt := range tests {
		raw := tt.header + "\r\n" + tt.body
		s, err := Parse(strings.NewReader(raw), Options{})
		if err != nil {
			t.Fatal(err)
		}
		r, err := DecodedText(strings.NewReader(raw), s.Root)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(iotest.OneByteReader(r))
		if err != nil || string(got) != tt.want {
			t.Errorf("%q: decoded %q, %v; want %q", tt.header, got, err, tt.want)
		}
	}
	if _, err := DecodedText(strings.NewReader(""), nil); err == nil {
		t.Error("nil part accepted")
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("disk on fire")
	}
	if len(p) > f.n {
		p = p[:f.n]
	}
	for i := range p {
		p[i] = "Subject: x\r\n"[i%12]
	}
	f.n -= len(p)
	return len(p), nil
}

func TestReadError(t *testing.T) {
	for _, n := range []int{0, 5, 100, 100000} {
		_, err := Parse(&failingReader{n: n}, Options{})
		if err == nil || !strings.Contains(err.Error(), "disk on fire") {
			t.Errorf("after %d bytes: %v", n, err)
		}
	}
	// A short read with io.EOF is just the end.
	s, err := Parse(iotest.DataErrReader(strings.NewReader("Subject: x\r\n\r\nbody")), Options{})
	if err != nil || s.Root.BodyLen != 4 {
		t.Errorf("DataErrReader: %v", err)
	}
}

func TestSectionErrors(t *testing.T) {
	s, _ := parseFile(t, "rfc822.eml")
	for _, spec := range []string{"4", "1.1", "1.HEADER", "2.3", "3.2", "2.1.1", "1.TEXT", "3.1.1"} {
		if _, err := s.Section(spec); !errors.Is(err, ErrNoSuchPart) {
			t.Errorf("BODY[%s]: %v, want ErrNoSuchPart", spec, err)
		}
	}
	if _, err := s.Section("1.x"); !errors.Is(err, ErrBadSection) {
		t.Errorf("bad spec: %v", err)
	}
	ref, err := s.Section("2.2")
	if err != nil || ref.Part == nil || ref.Part.Subtype != "HTML" {
		t.Fatalf("2.2: %+v %v", ref, err)
	}
	r, err := ref.Reader(bytes.NewReader(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r); err != nil {
		t.Fatal(err)
	}
	if _, err := ref.Read(bytes.NewReader(nil)); err == nil {
		t.Error("read past the end of the file: no error")
	}
}
