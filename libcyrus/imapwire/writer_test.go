package imapwire

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func write(f func(w *Writer)) string {
	var b bytes.Buffer
	w := NewWriter(&b)
	f(w)
	if err := w.Flush(); err != nil {
		panic(err)
	}
	return b.String()
}

func TestWriterAString(t *testing.T) {
	long := strings.Repeat("a", 1023)
	tests := []struct {
		in, want, utf8 string
	}{
		{"INBOX", "INBOX", ""},
		{"INBOX.Sent Items", `"INBOX.Sent Items"`, ""},
		{"user.bob.x]y[z", "user.bob.x]y[z", ""}, // brackets are fine bare, as Cyrus sends them
		{"", `""`, ""},
		{"NIL", `"NIL"`, ""},
		{"nil", `"nil"`, ""}, // would read back as NIL
		{"NILS", "NILS", ""},
		{"a*b", `"a*b"`, ""},
		{"a(b", `"a(b"`, ""},
		{"a{b", `"a{b"`, ""},
		{"tab\there", "\"tab\there\"", ""},
		{"a%b", "{3}\r\na%b", ""}, // Cyrus never quotes "%"
		{`a"b`, "{3}\r\na\"b", ""},
		{`a\b`, "{3}\r\na\\b", ""},
		{"a\r\nb", "{4}\r\na\r\nb", ""},
		{"a\x00b", "{3}\r\na\x00b", ""},
		{"caf\xc3\xa9", "{5}\r\ncaf\xc3\xa9", ""},
		{"caf\xc3\xa9", "\"caf\xc3\xa9\"", "utf8"},
		{"caf\xc3\xa9 x", "\"caf\xc3\xa9 x\"", "utf8"},
		{"bad\xff", "{4}\r\nbad\xff", "utf8"},
		{long, long, ""},
		{long + "a", "{1024}\r\n" + long + "a", ""},
		{long[:1022] + " ", `"` + long[:1022] + ` "`, ""},
		{long + " ", "{1024}\r\n" + long + " ", ""},
	}
	for _, tt := range tests {
		got := write(func(w *Writer) {
			w.SetUTF8Accept(tt.utf8 != "")
			w.AString(tt.in)
		})
		if got != tt.want {
			t.Errorf("AString(%q) utf8=%v = %q, want %q", tt.in, tt.utf8 != "", got, tt.want)
		}
	}
}

func TestWriterString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"INBOX", `"INBOX"`},
		{"", `""`},
		{"NIL", `"NIL"`},
		{"a\nb", "{3}\r\na\nb"},
	}
	for _, tt := range tests {
		if got := write(func(w *Writer) { w.String(tt.in) }); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := write(func(w *Writer) { w.StringBytes([]byte(tt.in)) }); got != tt.want {
			t.Errorf("StringBytes(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := write(func(w *Writer) { w.NString("", true); w.SP(); w.NString("", false); w.SP(); w.NString("x", false) }); got != `NIL "" "x"` {
		t.Errorf("NString: %q", got)
	}
}

func TestWriterQuoted(t *testing.T) {
	tests := []struct{ in, want string }{
		{".", `"."`},
		{`a"b\c`, `"a\"b\\c"`},
		{`\`, `"\\"`},
		{"a%b", `"a%b"`},
		{"a\rb", "{3}\r\na\rb"},
		{"\xc3\xa9", "{2}\r\n\xc3\xa9"},
	}
	for _, tt := range tests {
		if got := write(func(w *Writer) { w.Quoted(tt.in) }); got != tt.want {
			t.Errorf("Quoted(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestWriterRoundTrip: whatever AString, String and Quoted write, the
// Reader reads back unchanged.
func TestWriterRoundTrip(t *testing.T) {
	values := []string{"INBOX", "", "NIL", "nil", "a b", `a"b\c`, "a%b*", "x\r\ny", "caf\xc3\xa9", strings.Repeat("z", 2000), "]", "a]b[c", "\t"}
	for _, utf := range []bool{false, true} {
		for _, v := range values {
			for _, form := range []string{"astring", "string", "quoted"} {
				out := write(func(w *Writer) {
					w.SetUTF8Accept(utf)
					switch form {
					case "astring":
						w.AString(v)
					case "string":
						w.String(v)
					default:
						w.Quoted(v)
					}
				})
				r, _ := open(t, out+"\r\n", DefaultLimits())
				var got string
				var err error
				if form == "astring" {
					got, err = r.ReadAString()
				} else {
					got, err = r.ReadString()
				}
				if err != nil || got != v {
					t.Errorf("%s(%q) wrote %q, read back %q, %v", form, v, out, got, err)
				}
			}
		}
	}
}

func TestWriterResponses(t *testing.T) {
	got := write(func(w *Writer) {
		w.UntaggedStatus("OK", "UIDVALIDITY 3857529045", "UIDs valid")
		w.Untagged()
		w.Number(172)
		w.SP()
		w.Atom("EXISTS")
		w.CRLF()
		w.Tagged("a1", "OK", "", "Completed")
		w.Tagged("a2", "NO", "TRYCREATE", "Mailbox does not exist")
		w.Tagged("a3", "BAD", "", "bad\r\nb OK injected")
		w.Tagged("a4", "OK", "READ-ONLY", "")
	})
	want := "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n" +
		"* 172 EXISTS\r\n" +
		"a1 OK Completed\r\n" +
		"a2 NO [TRYCREATE] Mailbox does not exist\r\n" +
		"a3 BAD bad  b OK injected\r\n" +
		"a4 OK [READ-ONLY]\r\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestWriterFetch(t *testing.T) {
	s, _ := ParseSeqSet("1:3,5,9:*")
	got := write(func(w *Writer) {
		w.Untagged()
		w.Number(12)
		w.Atom(" FETCH ")
		w.List(func() {
			w.Atom("UID ")
			w.Number(4294967295)
			w.Atom(" MODSEQ (")
			w.Number64(18446744073709551615)
			w.Atom(") FLAGS ")
			w.List(func() { w.Atom(`\Seen`); w.SP(); w.Atom("$Label") })
			w.Atom(" BODY[] ")
			w.Literal(strings.NewReader("hello\r\n"), 7)
			w.Atom(" BINARY[] ")
			w.Literal8(strings.NewReader("a\x00"), 2)
			w.Atom(" X ")
			w.LiteralBytes([]byte("ab"))
			w.Atom(" Y ")
			w.Nil()
		})
		w.CRLF()
		w.Tagged("t", "OK", "", "")
		w.Atom("[COPYUID 1 ")
		w.SeqSet(s)
		w.SP()
		w.SeqSet(SeqSet{Dollar: true})
		w.Byte(']')
	})
	want := "* 12 FETCH (UID 4294967295 MODSEQ (18446744073709551615) FLAGS (\\Seen $Label) BODY[] {7}\r\nhello\r\n BINARY[] ~{2}\r\na\x00 X {2}\r\nab Y NIL)\r\nt OK\r\n[COPYUID 1 1:3,5,9:* $]"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestWriterContinue(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	w.Untagged()
	w.Atom("OK x")
	w.CRLF()
	if err := w.Continue("go ahead"); err != nil {
		t.Fatal(err)
	}
	// Continue flushes everything.
	if b.String() != "* OK x\r\n+ go ahead\r\n" || w.Buffered() != 0 {
		t.Errorf("%q, %d buffered", b.String(), w.Buffered())
	}
	var _ Continuer = w
}

// failWriter accepts n bytes, then fails.
type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) <= f.n {
		f.n -= len(p)
		return len(p), nil
	}
	k := f.n
	f.n = 0
	return k, errors.New("connection reset")
}

func TestWriterErrorSticky(t *testing.T) {
	fw := &failWriter{n: 10}
	w := NewWriter(fw)
	w.Atom(strings.Repeat("x", 20000)) // more than the buffer: writes through
	err := w.Err()
	if err == nil {
		t.Fatal("no error")
	}
	fw.n = 1 << 30 // the connection "recovers"; the Writer must not
	w.Atom("y")
	w.CRLF()
	if w.Flush() != err || w.Continue("x") != err || w.Literal(strings.NewReader("abc"), 3) != err {
		t.Error("error not sticky")
	}
}

func TestWriterShortLiteral(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	err := w.Literal(strings.NewReader("abc"), 10)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("Literal of a short reader = %v", err)
	}
	if w.Flush() != err {
		t.Error("not sticky")
	}
}

// TestWriterLargeLiteral streams a literal larger than the buffer.
func TestWriterLargeLiteral(t *testing.T) {
	body := strings.Repeat("0123456789", 100000)
	var b bytes.Buffer
	w := NewWriter(&b)
	if err := w.Literal(strings.NewReader(body), int64(len(body))); err != nil {
		t.Fatal(err)
	}
	w.CRLF()
	w.Flush()
	if b.String() != "{1000000}\r\n"+body+"\r\n" {
		t.Error("wrong output")
	}
}

func TestWriterStringBytes(t *testing.T) {
	tests := []struct {
		in   []byte
		utf8 bool
		want string
	}{
		{[]byte("caf\xc3\xa9"), false, "{5}\r\ncaf\xc3\xa9"},
		{[]byte("caf\xc3\xa9"), true, "\"caf\xc3\xa9\""},
		{[]byte("\xff"), true, "{1}\r\n\xff"},
		{[]byte("a\x00"), true, "{2}\r\na\x00"},
		{bytes.Repeat([]byte("x"), 1024), false, "{1024}\r\n" + strings.Repeat("x", 1024)},
	}
	for _, tt := range tests {
		got := write(func(w *Writer) { w.SetUTF8Accept(tt.utf8); w.StringBytes(tt.in) })
		if got != tt.want {
			t.Errorf("StringBytes(%q) utf8=%v = %q, want %q", tt.in, tt.utf8, got, tt.want)
		}
	}
	if got := write(func(w *Writer) { w.Raw("* OK"); w.Text("a\x00b") }); got != "* OKa b" {
		t.Errorf("Raw/Text: %q", got)
	}
}
