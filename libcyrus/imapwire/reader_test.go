package imapwire

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadTag(t *testing.T) {
	tests := []struct {
		in, tag, err string
	}{
		{"a1 NOOP\r\n", "a1", ""},
		{"A.b-c_9 NOOP\r\n", "A.b-c_9", ""},
		{"x]y NOOP\r\n", "x]y", ""}, // resp-specials are ASTRING-CHARs
		{"a1\r\n", "a1", ""},        // missing command: the engine's BAD
		{"\r\n", "", "syntax"},      // Null command
		{"\n", "", "syntax"},
		{" a NOOP\r\n", "", "syntax"},
		{"+a NOOP\r\n", "", "syntax"},
		{"a+b NOOP\r\n", "", "syntax"},
		{"* NOOP\r\n", "", "syntax"},
		{"a*b NOOP\r\n", "", "syntax"},
		{"a%b NOOP\r\n", "", "syntax"},
		{"a\"b NOOP\r\n", "", "syntax"},
		{"(a NOOP\r\n", "", "syntax"},
		{"{3}\r\n", "", "syntax"},
		{"\xc3\xa9 NOOP\r\n", "", "syntax"},
		{strings.Repeat("t", 100) + " NOOP\r\n", strings.Repeat("t", 100), ""},
		{strings.Repeat("t", 101) + " NOOP\r\n", "", LimitMaxWord},
		{"", "", "io"},
		{"abc", "", "io"},
	}
	for _, tt := range tests {
		r, _ := newReader(tt.in, testLimits())
		tag, err := r.ReadTag()
		if tag != tt.tag || errKind(err) != tt.err {
			t.Errorf("ReadTag(%q) = %q, %v; want %q, %s", tt.in, tag, err, tt.tag, tt.err)
		}
	}
}

func TestReadTagMessages(t *testing.T) {
	r, _ := newReader("\r\n+ x\r\nok NOOP\r\n", testLimits())
	if _, err := r.ReadTag(); err == nil || err.Error() != "Null command" {
		t.Errorf("empty line: %v", err)
	}
	if _, err := r.ReadTag(); err == nil || err.Error() != "Invalid tag" {
		t.Errorf("+ tag: %v", err)
	}
	if tag, err := r.ReadTag(); tag != "ok" || err != nil {
		t.Errorf("third line: %q, %v", tag, err)
	}
}

func TestEOF(t *testing.T) {
	r, _ := newReader("", testLimits())
	_, err := r.ReadTag()
	if !errors.Is(err, io.EOF) || IsClientError(err) {
		t.Fatalf("ReadTag at EOF = %v, want io.EOF", err)
	}
	// Sticky.
	if _, err2 := r.ReadTag(); err2 != err {
		t.Errorf("second ReadTag = %v, want %v", err2, err)
	}
	if err2 := r.SkipLine(); err2 != err {
		t.Errorf("SkipLine = %v", err2)
	}
}

func TestNoCommandOpen(t *testing.T) {
	r, _ := newReader("a NOOP\r\nb NOOP\r\n", testLimits())
	if _, err := r.ReadAtom(); !isSyntax(err) {
		t.Errorf("ReadAtom before ReadTag = %v", err)
	}
	if !r.AtEOL() || r.PeekSP() {
		t.Errorf("AtEOL/PeekSP before ReadTag")
	}
	r.ReadTag()
	r.SP()
	r.ReadAtom()
	if err := r.ReadEOL(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadAtom(); !isSyntax(err) {
		t.Errorf("ReadAtom after ReadEOL = %v", err)
	}
	if tag, _ := r.ReadTag(); tag != "b" {
		t.Errorf("next tag = %q", tag)
	}
}

func TestReadAtom(t *testing.T) {
	tests := []struct {
		in, want, err, rest string
	}{
		{"FETCH 1", "FETCH", "", " 1"},
		{"uid\r\n", "uid", "", "\r\n"},
		{"BODY.PEEK[HEADER.FIELDS (A)]", "BODY.PEEK[HEADER.FIELDS", "", " (A)]"},
		{"BODY[TEXT]<0.10>", "BODY[TEXT", "", "]<0.10>"},
		{"+FLAGS.SILENT (", "+FLAGS.SILENT", "", " ("},
		{"a/b ", "a/b", "", " "},
		{"(", "", "syntax", "("},
		{")", "", "syntax", ")"},
		{"\"x\"", "", "syntax", "\"x\""},
		{"{3}", "", "syntax", "{3}"},
		{"*", "", "syntax", "*"},
		{"%", "", "syntax", "%"},
		{"\\Seen", "", "syntax", "\\Seen"},
		{" x", "", "syntax", " x"},
		{"\r\n", "", "syntax", "\r\n"},
		{"\xff", "", "syntax", "\xff"},
		{"\x00", "", "syntax", "\x00"},
		{strings.Repeat("a", 100) + " ", strings.Repeat("a", 100), "", " "},
		{strings.Repeat("a", 101) + " ", "", LimitMaxWord, ""},
	}
	for _, tt := range tests {
		r, _ := open(t, tt.in, testLimits())
		got, err := r.ReadAtom()
		if got != tt.want || errKind(err) != tt.err {
			t.Errorf("ReadAtom(%q) = %q, %v; want %q, %s", tt.in, got, err, tt.want, tt.err)
			continue
		}
		if tt.rest != "" {
			rest := restOf(r)
			if rest != tt.rest {
				t.Errorf("ReadAtom(%q) left %q, want %q", tt.in, rest, tt.rest)
			}
		}
	}
}

// restOf returns the unread input.
func restOf(r *Reader) string {
	b, _ := io.ReadAll(r.br)
	return string(b)
}

func TestReadAtomFunc(t *testing.T) {
	r, _ := open(t, "BODY.PEEK[1]", testLimits())
	name, err := r.ReadAtomFunc(func(c byte) bool { return IsAtomChar(c) && c != '[' })
	if name != "BODY.PEEK" || err != nil {
		t.Fatalf("ReadAtomFunc = %q, %v", name, err)
	}
	if err := r.Expect('['); err != nil {
		t.Fatal(err)
	}
	if n, err := r.ReadNumber(); n != 1 || err != nil {
		t.Fatalf("section = %d, %v", n, err)
	}
	if err := r.Expect(']'); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadAtomFunc(IsAtomChar); err == nil {
		t.Errorf("at EOF: %v", err)
	}
}

func TestExpectAccept(t *testing.T) {
	r, _ := open(t, "(x)", testLimits())
	if r.Accept(')') {
		t.Error("Accept(')') on '('")
	}
	if !r.Accept('(') {
		t.Error("Accept('(')")
	}
	if err := r.Expect(')'); !isSyntax(err) {
		t.Errorf("Expect(')') on 'x' = %v", err)
	}
	if c, err := r.Peek(); c != 'x' || err != nil {
		t.Errorf("Peek = %q, %v", c, err)
	}
}

func TestReadAString(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"INBOX ", "INBOX", ""},
		{"INBOX.Sent]x ", "INBOX.Sent]x", ""}, // "]" is an ASTRING-CHAR
		{"caf\xc3\xa9 ", "caf\xc3\xa9", ""},   // 8-bit atom, as Cyrus takes it
		{`"hello world" `, "hello world", ""},
		{`"" `, "", ""},
		{`"a\"b\\c" `, `a"b\c`, ""},
		{"\"caf\xc3\xa9\" ", "caf\xc3\xa9", ""},
		{"\"tab\there\" ", "tab\there", ""},
		{`"a\b" `, "", "syntax"}, // only \" and \\ escapes
		{"\"abc\r\n", "", "syntax"},
		{"\"ab\x00c\" ", "", "syntax"},
		{"{5}\r\nab\r\nc ", "ab\r\nc", ""},
		{"{5+}\r\nhello ", "hello", ""},
		{"{5}\nhello ", "hello", ""}, // bare LF tolerated
		{"{0}\r\n ", "", ""},
		{"{3}\r\na\x00b ", "", "syntax"},
		{"{3}x\r\nabc", "", "syntax"},
		{"{}\r\n", "", "syntax"},
		{"{+}\r\n", "", "syntax"},
		{"{3\r\nabc", "", "syntax"},
		{"{3}\rabc", "", "syntax"},
		{"~{3}\r\nabc", "~", ""}, // "~" is an atom; a literal8 is read only by ReadLiteralReader
		{"(a)", "", "syntax"},
		{")", "", "syntax"},
		{"\r\n", "", "syntax"},
		{"*", "", "syntax"},
		{`"` + strings.Repeat("q", 100) + `" `, strings.Repeat("q", 100), ""},
		{`"` + strings.Repeat("q", 101) + `" `, "", LimitMaxQuoted},
		{`"` + strings.Repeat(`\\`, 101) + `" `, "", LimitMaxQuoted},
		{"{101}\r\n" + strings.Repeat("l", 101), "", LimitMaxLiteral},
		{`"abc`, "", "io"},
		{"{5}\r\nab", "", "io"},
	}
	for _, tt := range tests {
		r, _ := open(t, tt.in, testLimits())
		got, err := r.ReadAString()
		if got != tt.want || errKind(err) != tt.err {
			t.Errorf("ReadAString(%q) = %q, %v; want %q, %s", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestReadString(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{`"x" `, "x", ""},
		{"{1}\r\nx ", "x", ""},
		{"x ", "", "syntax"},
		{"NIL ", "", "syntax"},
	}
	for _, tt := range tests {
		r, _ := open(t, tt.in, testLimits())
		got, err := r.ReadString()
		if got != tt.want || errKind(err) != tt.err {
			t.Errorf("ReadString(%q) = %q, %v; want %q, %s", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestReadNString(t *testing.T) {
	tests := []struct {
		in, want string
		isNil    bool
		err      string
	}{
		{"NIL ", "", true, ""},
		{"nil)", "", true, ""},
		{`"NIL" `, "NIL", false, ""},
		{"{3}\r\nNIL ", "NIL", false, ""},
		{`"" `, "", false, ""},
		{"NILS ", "", false, "syntax"},
		{"NI ", "", false, "syntax"},
		{"x ", "", false, "syntax"},
	}
	for _, tt := range tests {
		r, _ := open(t, tt.in, testLimits())
		got, isNil, err := r.ReadNString()
		if got != tt.want || isNil != tt.isNil || errKind(err) != tt.err {
			t.Errorf("ReadNString(%q) = %q, %v, %v; want %q, %v, %s", tt.in, got, isNil, err, tt.want, tt.isNil, tt.err)
		}
	}
}

func TestReadListMailbox(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"* ", "*", ""},
		{"INBOX.% ", "INBOX.%", ""},
		{"user.*]x ", "user.*]x", ""},
		{`"a b*" `, "a b*", ""},
		{"{2}\r\n%* ", "%*", ""},
		{"( ", "", "syntax"},
	}
	for _, tt := range tests {
		r, _ := open(t, tt.in, testLimits())
		got, err := r.ReadListMailbox()
		if got != tt.want || errKind(err) != tt.err {
			t.Errorf("ReadListMailbox(%q) = %q, %v; want %q, %s", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestReadNumber(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
		err  string
	}{
		{"0 ", 0, ""},
		{"007 ", 7, ""},
		{"4294967295 ", 4294967295, ""},
		{"4294967296 ", 0, "syntax"},
		{"99999999999999999999999999 ", 0, "syntax"},
		{"-1 ", 0, "syntax"},
		{"+1 ", 0, "syntax"},
		{"x ", 0, "syntax"},
		{"\r\n", 0, "syntax"},
		{strings.Repeat("0", 101) + " ", 0, LimitMaxWord},
	}
	for _, tt := range tests {
		r, _ := open(t, tt.in, testLimits())
		got, err := r.ReadNumber()
		if got != tt.want || errKind(err) != tt.err {
			t.Errorf("ReadNumber(%q) = %d, %v; want %d, %s", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestReadNumber64(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		err  string
	}{
		{"0 ", 0, ""},
		{"4294967296 ", 4294967296, ""},
		{"9223372036854775807 ", 9223372036854775807, ""},
		{"18446744073709551615 ", 18446744073709551615, ""},
		{"18446744073709551616 ", 0, "syntax"},
		{"184467440737095516150 ", 0, "syntax"},
		{"a ", 0, "syntax"},
	}
	for _, tt := range tests {
		r, _ := open(t, tt.in, testLimits())
		got, err := r.ReadNumber64()
		if got != tt.want || errKind(err) != tt.err {
			t.Errorf("ReadNumber64(%q) = %d, %v; want %d, %s", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestReadEOL(t *testing.T) {
	tests := []struct {
		in, err string
	}{
		{"\r\n", ""},
		{"\n", ""},
		{"\r", "io"},
		{"\rx\n", "syntax"},
		{" \r\n", "syntax"},
		{"x\r\n", "syntax"},
		{"", "io"},
	}
	for _, tt := range tests {
		r, _ := open(t, tt.in, testLimits())
		atEOL := r.AtEOL()
		err := r.ReadEOL()
		if errKind(err) != tt.err {
			t.Errorf("ReadEOL(%q) = %v; want %s", tt.in, err, tt.err)
		}
		if want := tt.err == "" || tt.in == "\r" || tt.in == "\rx\n" || tt.in == ""; atEOL != want {
			t.Errorf("AtEOL(%q) = %v", tt.in, atEOL)
		}
	}
}

func TestPeekSP(t *testing.T) {
	r, _ := open(t, " x\r\n", testLimits())
	if !r.PeekSP() {
		t.Fatal("PeekSP = false")
	}
	r.SP()
	if r.PeekSP() || r.AtEOL() {
		t.Fatal("PeekSP or AtEOL before x")
	}
	r.ReadAtom()
	if !r.AtEOL() {
		t.Fatal("AtEOL = false")
	}
}

// TestCommand reads a whole FETCH command as the engine would.
func TestCommand(t *testing.T) {
	in := "A001 UID FETCH 1:4,7,10:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (From {7+}\r\nSubject)])\r\n"
	r, _ := newReader(in, DefaultLimits())
	var got []string
	must := func(s string, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	must(r.ReadTag())
	r.SP()
	must(r.ReadAtom())
	r.SP()
	must(r.ReadAtom())
	r.SP()
	set, err := r.ReadSequenceSet()
	must(set.String(), err)
	r.SP()
	var section func(r *Reader) error
	section = func(r *Reader) error {
		c, _ := r.Peek()
		if c == '(' {
			return r.ReadList(section)
		}
		s, err := r.ReadAString()
		got = append(got, s)
		return err
	}
	err = r.ReadList(func(r *Reader) error {
		name, err := r.ReadAtomFunc(func(c byte) bool { return IsAtomChar(c) && c != '[' })
		got = append(got, name)
		if err != nil || !r.Accept('[') {
			return err
		}
		sec, err := r.ReadAtom()
		got = append(got, sec)
		if err != nil {
			return err
		}
		if err := r.SP(); err != nil {
			return err
		}
		if err := section(r); err != nil {
			return err
		}
		return r.Expect(']')
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.ReadEOL(); err != nil {
		t.Fatal(err)
	}
	want := "A001|UID|FETCH|1:4,7,10:*|UID|FLAGS|BODY.PEEK|HEADER.FIELDS|From|Subject"
	if s := strings.Join(got, "|"); s != want {
		t.Errorf("tokens %s\nwant   %s", s, want)
	}
}

func TestNonIMAP(t *testing.T) {
	// An HTTP request is a syntax error at the command level at the
	// latest; the engine decides to say BYE.
	r, _ := newReader("GET / HTTP/1.1\r\nHost: x\r\n\r\n", testLimits())
	tag, err := r.ReadTag()
	if err != nil || tag != "GET" {
		t.Fatalf("tag %q, %v", tag, err)
	}
	r.SP()
	if cmd, err := r.ReadAtom(); cmd != "/" || err != nil {
		t.Fatalf("command %q, %v", cmd, err)
	}
	if tag := nextTag(t, r); tag != "Host:" {
		t.Errorf("second line tag %q", tag)
	}
	if _, err := r.ReadTag(); !isSyntax(err) { // the implicit skip, then "\r\n"
		t.Errorf("empty line: %v", err)
	}
}

func TestReadLine(t *testing.T) {
	r, _ := newReader("a AUTHENTICATE PLAIN\r\nAGFsaWNlAHBhc3M=\r\nDONE\n"+strings.Repeat("x", 5000)+"\r\n*\r\nb NOOP\r\n", testLimits())
	r.ReadTag()
	r.SP()
	r.ReadAtom()
	r.SP()
	r.ReadAtom()
	if err := r.ReadEOL(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"AGFsaWNlAHBhc3M=", "DONE"} {
		if line, err := r.ReadLine(0); line != want || err != nil {
			t.Fatalf("ReadLine = %q, %v; want %q", line, err, want)
		}
	}
	if _, err := r.ReadLine(0); limitOf(err) != LimitMaxLine {
		t.Fatalf("long line: %v", err)
	}
	if line, err := r.ReadLine(1); line != "*" || err != nil {
		t.Fatalf("ReadLine(1) = %q, %v", line, err)
	}
	if tag, err := r.ReadTag(); tag != "b" || err != nil {
		t.Fatalf("ReadTag = %q, %v", tag, err)
	}
	if _, err := r.ReadLine(0); !errors.Is(err, io.EOF) { // skips " NOOP\r\n" first
		t.Fatalf("ReadLine at EOF = %v", err)
	}
}

func TestBuffered(t *testing.T) {
	r, _ := newReader("a STARTTLS\r\nb LOGIN x y\r\n", testLimits())
	r.ReadTag()
	r.SP()
	r.ReadAtom()
	r.ReadEOL()
	if r.Buffered() == 0 {
		t.Error("Buffered = 0 with a pipelined command after STARTTLS")
	}
}
