package imapwire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestSyncLiteralContinuation(t *testing.T) {
	r, rec := newReader("a LOGIN {5}\r\nalice {4+}\r\npass\r\n", testLimits())
	r.ReadTag()
	r.SP()
	r.ReadAtom()
	r.SP()
	user, err := r.ReadAString()
	if user != "alice" || err != nil {
		t.Fatalf("user %q, %v", user, err)
	}
	if len(rec.texts) != 1 || rec.texts[0] != "go ahead" {
		t.Fatalf("continuations after sync literal: %q", rec.texts)
	}
	r.SP()
	pass, err := r.ReadAString()
	if pass != "pass" || err != nil {
		t.Fatalf("pass %q, %v", pass, err)
	}
	if len(rec.texts) != 1 {
		t.Fatalf("a non-synchronizing literal was answered with a continuation: %q", rec.texts)
	}
	if err := r.ReadEOL(); err != nil {
		t.Fatal(err)
	}
}

// TestContinuationOverConnection checks the timing over a real
// connection: the client sends a synchronizing literal's bytes only after
// "+", and a refused one gets the tagged answer without any "+".
func TestContinuationOverConnection(t *testing.T) {
	cconn, sconn := net.Pipe()
	defer cconn.Close()
	done := make(chan error, 1)
	go func() {
		defer sconn.Close()
		w := NewWriter(sconn)
		r := NewReader(bufio.NewReader(sconn), w, testLimits())
		for {
			tag, err := r.ReadTag()
			if err != nil {
				done <- err
				return
			}
			r.SP()
			cmd, _ := r.ReadAtom()
			var args []string
			for err == nil && r.PeekSP() {
				r.SP()
				var s string
				s, err = r.ReadAString()
				args = append(args, s)
			}
			if err == nil {
				err = r.ReadEOL()
			}
			switch {
			case err != nil && IsClientError(err):
				w.Tagged(tag, "BAD", "", err.Error())
				if err := r.SkipLine(); err != nil {
					done <- err
					return
				}
			case err != nil:
				done <- err
				return
			default:
				w.Tagged(tag, "OK", "", cmd+" "+strings.Join(args, ","))
			}
			if err := w.Flush(); err != nil {
				done <- err
				return
			}
		}
	}()
	cr := bufio.NewReader(cconn)
	cconn.SetDeadline(time.Now().Add(10 * time.Second))
	send := func(s string) {
		t.Helper()
		if _, err := io.WriteString(cconn, s); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(want string) {
		t.Helper()
		line, err := cr.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line != want {
			t.Fatalf("server sent %q, want %q", line, want)
		}
	}
	send("a LOGIN {5}\r\n")
	expect("+ go ahead\r\n")
	send("alice {3}\r\n")
	expect("+ go ahead\r\n")
	send("bob\r\n")
	expect("a OK LOGIN alice,bob\r\n")
	send("b LOGIN {500}\r\n")
	expect("b BAD [TOOBIG] Literal size exceeds fixed limit\r\n")
	send("c LOGIN x {3+}\r\nyyy\r\n")
	expect("c OK LOGIN x,yyy\r\n")
	cconn.Close()
	if err := <-done; !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("server ended with %v", err)
	}
}

func TestRefusedSyncLiteral(t *testing.T) {
	r, rec := newReader("a LOGIN {500}\r\nb NOOP\r\n", testLimits())
	r.ReadTag()
	r.SP()
	r.ReadAtom()
	r.SP()
	_, err := r.ReadAString()
	var lt *LiteralTooBigError
	if !errors.As(err, &lt) || lt.Size != 500 || lt.Max != 100 || lt.NonSync || lt.Limit != LimitMaxLiteral {
		t.Fatalf("ReadAString = %#v", err)
	}
	if len(rec.texts) != 0 {
		t.Fatalf("continuation sent for a refused literal: %q", rec.texts)
	}
	if !r.AtEOL() {
		t.Error("AtEOL = false after a refused synchronizing literal")
	}
	if _, err := r.ReadAString(); !isSyntax(err) {
		t.Errorf("reading on after the command ended: %v", err)
	}
	if tag := nextTag(t, r); tag != "b" {
		t.Errorf("next tag %q", tag)
	}
}

func TestRefusedNonSyncLiteral(t *testing.T) {
	payload := strings.Repeat("b DELETE INBOX\r\n", 20)
	in := fmt.Sprintf("a LOGIN {%d+}\r\n%s pw\r\nd NOOP\r\n", len(payload), payload)
	r, rec := newReader(in, testLimits())
	r.ReadTag()
	r.SP()
	r.ReadAtom()
	r.SP()
	_, err := r.ReadAString()
	var lt *LiteralTooBigError
	if !errors.As(err, &lt) || !lt.NonSync || lt.Size != int64(len(payload)) {
		t.Fatalf("ReadAString = %#v", err)
	}
	if len(rec.texts) != 0 {
		t.Fatalf("continuation sent: %q", rec.texts)
	}
	if tag := nextTag(t, r); tag != "d" {
		t.Errorf("next tag %q: the literal's bytes were read as a command", tag)
	}
}

// TestSkipLine checks that SkipLine, called wherever the engine gave up on
// a command, never lets literal bytes be read as commands.
func TestSkipLine(t *testing.T) {
	evil := "b DELETE INBOX\r\n"
	tests := []struct {
		name, in string
	}{
		{"plain", "a BOGUS x y z\r\nz NOOP\r\n"},
		{"bare LF", "a BOGUS x\nz NOOP\r\n"},
		{"nonsync", fmt.Sprintf("a BOGUS {%d+}\r\n%s\r\nz NOOP\r\n", len(evil), evil)},
		{"nonsync LF", fmt.Sprintf("a BOGUS {%d+}\n%s\r\nz NOOP\r\n", len(evil), evil)},
		{"two nonsync", fmt.Sprintf("a BOGUS {%d+}\r\n%s {%d+}\r\n%s\r\nz NOOP\r\n", len(evil), evil, len(evil), evil)},
		{"literal8", fmt.Sprintf("a BOGUS ~{%d+}\r\n%s\r\nz NOOP\r\n", len(evil), evil)},
		{"empty nonsync", "a BOGUS {0+}\r\n\r\nz NOOP\r\n"},
		{"sync ends command", "a BOGUS {16}\r\nz NOOP\r\n"},
		{"brace not at end", "a BOGUS {5+} x\r\nz NOOP\r\n"},
		{"double brace", "a BOGUS {5+}}\r\nz NOOP\r\n"},
		{"no digits", "a BOGUS {+}\r\nz NOOP\r\n"},
		{"nested brace", "a BOGUS {{3+}\r\nabc\r\nz NOOP\r\n"},
		{"CR CR", "a BOGUS {3+}\r\r\nz NOOP\r\n"},
	}
	for _, tt := range tests {
		r, _ := newReader(tt.in, testLimits())
		r.ReadTag()
		r.SP()
		r.ReadAtom()
		if tag := nextTag(t, r); tag != "z" {
			t.Errorf("%s: next tag %q", tt.name, tag)
		}
	}
}

// TestSkipLineMidLiteral: the engine gives up while streaming a literal
// (say, over quota); the rest of it is discarded.
func TestSkipLineMidLiteral(t *testing.T) {
	msg := strings.Repeat("b DELETE INBOX\r\n", 100)
	in := fmt.Sprintf("a APPEND INBOX {%d+}\r\n%s {%d+}\r\n%s\r\nz NOOP\r\n", len(msg), msg, len(msg), msg)
	r, _ := newReader(in, DefaultLimits())
	r.ReadTag()
	r.SP()
	r.ReadAtom()
	r.SP()
	r.ReadAString()
	r.SP()
	lr, _, err := r.ReadLiteralReader(0)
	if err != nil {
		t.Fatal(err)
	}
	io.CopyN(io.Discard, lr, 100)
	if tag := nextTag(t, r); tag != "z" {
		t.Errorf("next tag %q", tag)
	}
}

func TestLiteralMinus(t *testing.T) {
	lim := Limits{MaxLine: 20000, MaxLiteral: 10000, LiteralMinus: true}
	small := strings.Repeat("s", 4096)
	r, rec := open(t, "{4096+}\r\n"+small+" {4097+}\r\n"+strings.Repeat("x", 4097)+"\r\nb NOOP\r\n", lim)
	if s, err := r.ReadAString(); s != small || err != nil {
		t.Fatalf("4096-byte non-synchronizing literal: %v", err)
	}
	r.SP()
	_, err := r.ReadAString()
	var lt *LiteralTooBigError
	if !errors.As(err, &lt) || lt.Limit != LimitLiteralMinus || !lt.NonSync || lt.Max != 4096 {
		t.Fatalf("4097-byte non-synchronizing literal: %#v", err)
	}
	if err.Error() != "[TOOBIG] Non-synchronizing literal size exceeds 4K" {
		t.Errorf("text %q", err.Error())
	}
	if tag := nextTag(t, r); tag != "b" {
		t.Fatalf("next tag %q", tag)
	}
	if len(rec.texts) != 0 {
		t.Fatalf("continuations %q", rec.texts)
	}

	// Synchronizing literals of any size are fine with LITERAL-.
	r, rec = open(t, "{5000}\r\n"+strings.Repeat("y", 5000)+"\r\n", lim)
	if s, err := r.ReadAString(); len(s) != 5000 || err != nil {
		t.Fatalf("5000-byte synchronizing literal: %v", err)
	}
	if len(rec.texts) != 1 {
		t.Fatalf("continuations %q", rec.texts)
	}

	// And for APPEND.
	r, _ = open(t, "{5000+}\r\n"+strings.Repeat("y", 5000)+"\r\nb NOOP\r\n", lim)
	if _, _, err := r.ReadLiteralReader(0); limitOf(err) != LimitLiteralMinus {
		t.Fatalf("APPEND with 5000-byte non-synchronizing literal: %v", err)
	}
	if tag := nextTag(t, r); tag != "b" {
		t.Fatalf("next tag %q", tag)
	}
}

func TestBigLiteralNumber(t *testing.T) {
	tests := []struct {
		in      string
		size    int64
		nonsync bool
	}{
		{"{99999999999}\r\n", 99999999999, false},
		{"{99999999999+}\r\n", 99999999999, true},
		{"{4294967296}\r\n", 4294967296, false},
		{"{99999999999999999999999999999}\r\n", math.MaxInt64, false},
		{"{99999999999999999999999999999+}\r\n", math.MaxInt64, true},
	}
	for _, tt := range tests {
		for _, appendLit := range []bool{false, true} {
			r, rec := open(t, tt.in+"b NOOP\r\n", Limits{})
			var err error
			if appendLit {
				_, _, err = r.ReadLiteralReader(0)
			} else {
				_, err = r.ReadAString()
			}
			var lt *LiteralTooBigError
			if !errors.As(err, &lt) || lt.Size != tt.size || lt.NonSync != tt.nonsync {
				t.Errorf("%q (append %v): %#v", tt.in, appendLit, err)
				continue
			}
			if appendLit && (lt.Max != MaxLiteralSize || lt.Limit != LimitMaxMessageSize) {
				t.Errorf("%q: limit %s %d", tt.in, lt.Limit, lt.Max)
			}
			if len(rec.texts) != 0 {
				t.Errorf("%q: continuation sent", tt.in)
			}
			err = r.SkipLine()
			if tt.nonsync {
				// The announced bytes never come: the line cannot end.
				if !errors.Is(err, io.EOF) {
					t.Errorf("%q: SkipLine = %v, want EOF", tt.in, err)
				}
			} else if tag, _ := r.ReadTag(); err != nil || tag != "b" {
				t.Errorf("%q: SkipLine %v, next tag %q", tt.in, err, tag)
			}
		}
	}
}

func TestMaxArgs(t *testing.T) {
	lim := testLimits()
	lim.MaxArgs = 200
	lit := strings.Repeat("L", 50)
	// "t X" (3) + 3 * " {50+}\r\n" (8) and 50 bytes = 177; the fourth
	// literal's header brings 185, and its 50 bytes would be 235.
	in := "X" + strings.Repeat(" {50+}\r\n"+lit, 4) + "\r\nb NOOP\r\n"
	r, _ := open(t, in, lim)
	r.ReadAtom()
	var err error
	n := 0
	for err == nil {
		r.SP()
		_, err = r.ReadAString()
		n++
	}
	var lt *LiteralTooBigError
	if !errors.As(err, &lt) || lt.Limit != LimitMaxArgsSize || n != 4 || !lt.NonSync {
		t.Fatalf("literal %d: %#v", n, err)
	}
	if err.Error() != "[TOOBIG] Command arguments total size exceeds fixed limit" {
		t.Errorf("text %q", err.Error())
	}
	if tag := nextTag(t, r); tag != "b" {
		t.Fatalf("next tag %q", tag)
	}

	// Text alone.
	r, _ = open(t, strings.Repeat("x ", 150)+"\r\nb NOOP\r\n", lim)
	for err = nil; err == nil; {
		if _, err = r.ReadAtom(); err == nil {
			err = r.SP()
		}
	}
	if limitOf(err) != LimitMaxArgsSize {
		t.Fatalf("long text: %v", err)
	}
	if tag := nextTag(t, r); tag != "b" {
		t.Fatalf("next tag %q", tag)
	}

	// Streamed literals count too: a MULTIAPPEND is one command.
	lim.MaxArgs = 1000
	in = "INBOX {400}\r\n" + strings.Repeat("m", 400) + " {400}\r\n" + strings.Repeat("m", 400) + " {400}\r\n"
	r, rec := open(t, in, lim)
	r.ReadAString()
	for i := 0; ; i++ {
		r.SP()
		lr, _, err := r.ReadLiteralReader(0)
		if err != nil {
			if i != 2 || limitOf(err) != LimitMaxArgsSize {
				t.Fatalf("literal %d: %v", i, err)
			}
			break
		}
		io.Copy(io.Discard, lr)
	}
	if len(rec.texts) != 2 {
		t.Errorf("continuations %q", rec.texts)
	}
}

func TestMaxLine(t *testing.T) {
	// Many literals, each under maxliteral, add up past MaxLine even with
	// maxargssize unlimited (Cyrus's default).
	lim := testLimits()
	in := "X" + strings.Repeat(" {90+}\r\n"+strings.Repeat("L", 90), 20) + "\r\nb NOOP\r\n"
	r, _ := open(t, in, lim)
	r.ReadAtom()
	var err error
	total := 0
	for err == nil {
		r.SP()
		var s string
		s, err = r.ReadAString()
		total += len(s)
	}
	if limitOf(err) != LimitMaxLine || total > lim.MaxLine {
		t.Fatalf("after %d bytes: %v", total, err)
	}
	if tag := nextTag(t, r); tag != "b" {
		t.Fatalf("next tag %q", tag)
	}

	// A long line of short atoms.
	r, _ = open(t, strings.Repeat("x ", 1000)+"\r\nb NOOP\r\n", lim)
	for err = nil; err == nil; {
		if _, err = r.ReadAtom(); err == nil {
			err = r.SP()
		}
	}
	if limitOf(err) != LimitMaxLine {
		t.Fatalf("long line: %v", err)
	}
	if tag := nextTag(t, r); tag != "b" {
		t.Fatalf("next tag %q", tag)
	}
}

// endless is an endless stream of one byte.
type endless byte

func (e endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(e)
	}
	return len(p), nil
}

// TestEndlessInput: an endless atom, quoted string or line ends in an
// error with bounded memory, and SkipLine discards a very long line
// without keeping it.
func TestEndlessInput(t *testing.T) {
	for _, start := range []string{"", "\"", "x (", "{3}\r\nabc "} {
		in := io.MultiReader(strings.NewReader("a X "+start), io.LimitReader(endless('a'), 50<<20))
		r := NewReader(bufio.NewReader(in), nil, DefaultLimits())
		r.ReadTag()
		r.SP()
		r.ReadAtom()
		r.SP()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var err error
		for err == nil {
			switch c, _ := r.Peek(); c {
			case '(':
				err = r.ReadList(func(r *Reader) error { _, err := r.ReadAtom(); return err })
			default:
				_, err = r.ReadAString()
			}
		}
		if !IsClientError(err) {
			t.Errorf("%q...: %v", start, err)
		}
		if err := r.SkipLine(); !errors.Is(err, io.EOF) {
			t.Errorf("%q...: SkipLine = %v", start, err)
		}
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 2<<20 {
			t.Errorf("%q...: %d bytes allocated for 50 MB of input", start, grew)
		}
	}
}

func TestReadLiteralReader(t *testing.T) {
	body := strings.Repeat("0123456789", 1000) // larger than bufio's buffer
	in := fmt.Sprintf("a APPEND INBOX {%d}\r\n%s\r\nb NOOP\r\n", len(body), body)
	r, rec := newReader(in, Limits{MaxAppendLiteral: 20000})
	r.ReadTag()
	r.SP()
	r.ReadAtom()
	r.SP()
	r.ReadAString()
	r.SP()
	lr, size, err := r.ReadLiteralReader(0)
	if err != nil || size != int64(len(body)) {
		t.Fatalf("ReadLiteralReader = %d, %v", size, err)
	}
	if len(rec.texts) != 1 {
		t.Fatalf("continuations %q", rec.texts)
	}
	var got bytes.Buffer
	if n, err := io.Copy(&got, lr); n != size || err != nil || got.String() != body {
		t.Fatalf("copied %d, %v", n, err)
	}
	if err := r.ReadEOL(); err != nil {
		t.Fatal(err)
	}
	if tag, _ := r.ReadTag(); tag != "b" {
		t.Fatalf("next tag %q", tag)
	}

	// Read with Read, in small pieces.
	r, _ = open(t, "{11+}\r\nhello world\r\n", Limits{})
	lr, _, _ = r.ReadLiteralReader(0)
	b, err := io.ReadAll(io.LimitReader(struct{ io.Reader }{lr}, 100))
	if string(b) != "hello world" || err != nil {
		t.Fatalf("ReadAll = %q, %v", b, err)
	}
	if err := r.ReadEOL(); err != nil {
		t.Fatal(err)
	}
}

func TestReadLiteralReaderLimits(t *testing.T) {
	tests := []struct {
		name, in string
		lim      Limits
		max      int64
		limit    string
		limMax   int64
	}{
		{"max argument", "{11}\r\n", Limits{}, 5, LimitMaxMessageSize, 5},
		{"maxmessagesize", "{501}\r\n", testLimits(), 0, LimitMaxMessageSize, 500},
		{"smaller of both", "{401}\r\n", testLimits(), 400, LimitMaxMessageSize, 400},
		{"maxliteral does not apply", "{200}\r\n", testLimits(), 0, "", 0},
		{"32-bit cap", "{4294967296}\r\n", Limits{}, 0, LimitMaxMessageSize, MaxLiteralSize},
		{"32-bit ok", "{4294967295}\r\n", Limits{}, 0, "", 0},
		{"nonsync over", "{600+}\r\n", testLimits(), 0, LimitMaxMessageSize, 500},
	}
	for _, tt := range tests {
		r, rec := open(t, tt.in, tt.lim)
		_, _, err := r.ReadLiteralReader(tt.max)
		var lt *LiteralTooBigError
		if tt.limit == "" {
			if err != nil || len(rec.texts) != 1 {
				t.Errorf("%s: %v, continuations %q", tt.name, err, rec.texts)
			}
			continue
		}
		if !errors.As(err, &lt) || lt.Limit != tt.limit || lt.Max != tt.limMax {
			t.Errorf("%s: %#v", tt.name, err)
		}
		if len(rec.texts) != 0 {
			t.Errorf("%s: continuation sent", tt.name)
		}
	}
}

func TestLiteral8(t *testing.T) {
	r, rec := open(t, "~{3}\r\na\x00b ~{2+}\r\n\x00\x01\r\n", Limits{})
	for _, want := range []string{"a\x00b", "\x00\x01"} {
		if c, _ := r.Peek(); c != '~' {
			t.Fatalf("Peek = %q", c)
		}
		lr, _, err := r.ReadLiteralReader(0)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(lr)
		if string(b) != want {
			t.Errorf("literal8 = %q, want %q", b, want)
		}
		r.Accept(' ')
	}
	if err := r.ReadEOL(); err != nil {
		t.Fatal(err)
	}
	if len(rec.texts) != 1 {
		t.Errorf("continuations %q", rec.texts)
	}
	// "~" alone, or "~" before something else.
	r, _ = open(t, "~x\r\n", Limits{})
	if _, _, err := r.ReadLiteralReader(0); !isSyntax(err) {
		t.Errorf("~x: %v", err)
	}
}

func TestLiteralReaderEOF(t *testing.T) {
	r, _ := open(t, "{10+}\r\nabc", Limits{})
	lr, _, _ := r.ReadLiteralReader(0)
	_, err := io.ReadAll(lr)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("ReadAll = %v", err)
	}
	r, _ = open(t, "{10+}\r\nabc", Limits{})
	lr, _, _ = r.ReadLiteralReader(0)
	if _, err := io.Copy(io.Discard, lr); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Copy = %v", err)
	}
}

func TestStaleLiteralReader(t *testing.T) {
	r, _ := open(t, "{3+}\r\nabc {3+}\r\ndef\r\n", Limits{})
	first, _, _ := r.ReadLiteralReader(0)
	io.ReadAll(first)
	r.SP()
	second, _, _ := r.ReadLiteralReader(0)
	if n, err := first.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Errorf("stale reader read %d, %v", n, err)
	}
	if b, _ := io.ReadAll(second); string(b) != "def" {
		t.Errorf("second = %q", b)
	}
}

// TestUnreadLiteralDrained: literal bytes the engine does not read are
// skipped by the next read, never parsed.
func TestUnreadLiteralDrained(t *testing.T) {
	r, _ := open(t, "{16+}\r\nb DELETE INBOX\r\n\r\nc NOOP\r\n", Limits{})
	if _, _, err := r.ReadLiteralReader(0); err != nil {
		t.Fatal(err)
	}
	if err := r.ReadEOL(); err != nil {
		t.Fatal(err)
	}
	if tag, _ := r.ReadTag(); tag != "c" {
		t.Errorf("next tag %q", tag)
	}
}

type failingContinuer struct{}

func (failingContinuer) Continue(string) error { return errors.New("broken pipe") }

func TestContinuationError(t *testing.T) {
	r := NewReader(bufio.NewReader(strings.NewReader("a LOGIN {3}\r\nabc\r\n")), failingContinuer{}, Limits{})
	r.ReadTag()
	r.SP()
	r.ReadAtom()
	r.SP()
	_, err := r.ReadAString()
	if err == nil || IsClientError(err) {
		t.Fatalf("ReadAString = %v", err)
	}
	if _, err2 := r.ReadTag(); err2 != err {
		t.Errorf("not sticky: %v", err2)
	}
}
