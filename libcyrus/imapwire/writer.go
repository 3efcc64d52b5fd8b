package imapwire

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxQuotedOut is the length from which Writer sends strings as literals
// rather than quoted, as Cyrus's prot_printstring does (MAXQSTRING).
const maxQuotedOut = 1024

// Writer writes server responses (RFC 3501 section 7) into a buffer that
// Flush sends. The token methods do not return errors: the first write
// error is kept, every later call does nothing, and Flush, Continue,
// Literal and Err return it.
//
// Strings are written the way Cyrus writes them, so that transcripts
// match: String sends a quoted string unless the value is 1024 bytes or
// longer or holds a byte that Cyrus never quotes (CR, LF, NUL, DQUOTE, "\",
// "%" or, unless SetUTF8Accept is on, 8-bit), and then a literal; AString
// sends an atom when it can.
type Writer struct {
	bw   *bufio.Writer
	err  error
	utf8 bool
	num  [20]byte
}

// NewWriter returns a Writer buffering into w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{bw: bufio.NewWriterSize(w, 16<<10)}
}

// SetUTF8Accept lets quoted strings carry valid UTF-8 (RFC 6855 section
// 3, after ENABLE UTF8=ACCEPT) instead of forcing a literal.
func (w *Writer) SetUTF8Accept(on bool) { w.utf8 = on }

func (w *Writer) setErr(err error) {
	if err != nil && w.err == nil {
		w.err = fmt.Errorf("imapwire: write: %w", err)
	}
}

func (w *Writer) str(s string) {
	if w.err == nil {
		_, err := w.bw.WriteString(s)
		w.setErr(err)
	}
}

func (w *Writer) bytes(b []byte) {
	if w.err == nil {
		_, err := w.bw.Write(b)
		w.setErr(err)
	}
}

// Byte writes c as it is: a parenthesis, bracket or other special.
func (w *Writer) Byte(c byte) {
	if w.err == nil {
		w.setErr(w.bw.WriteByte(c))
	}
}

// Err returns the first write error.
func (w *Writer) Err() error { return w.err }

// Flush sends what is buffered.
func (w *Writer) Flush() error {
	if w.err == nil {
		w.setErr(w.bw.Flush())
	}
	return w.err
}

// Buffered returns the number of bytes written and not yet flushed.
func (w *Writer) Buffered() int { return w.bw.Buffered() }

// SP writes a space.
func (w *Writer) SP() { w.Byte(' ') }

// CRLF ends a response line.
func (w *Writer) CRLF() { w.str("\r\n") }

// Atom writes s as it is. The caller guarantees it is an atom (or another
// token the grammar allows at that place, like "BODY[1.MIME]").
func (w *Writer) Atom(s string) { w.str(s) }

// Raw writes s as it is.
func (w *Writer) Raw(s string) { w.str(s) }

// Text writes human-readable response text (RFC 3501 section 9, text:
// 1*TEXT-CHAR), with any CR, LF or NUL turned into a space so that text
// from elsewhere cannot end the line or inject a response.
func (w *Writer) Text(s string) {
	if !strings.ContainsAny(s, "\r\n\x00") {
		w.str(s)
		return
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' || c == 0 {
			c = ' '
		}
		w.Byte(c)
	}
}

// Number writes n in decimal.
func (w *Writer) Number(n uint32) { w.bytes(strconv.AppendUint(w.num[:0], uint64(n), 10)) }

// Number64 writes n in decimal.
func (w *Writer) Number64(n uint64) { w.bytes(strconv.AppendUint(w.num[:0], n, 10)) }

// Nil writes NIL.
func (w *Writer) Nil() { w.str("NIL") }

// List writes "(", whatever f writes (spaces between elements included),
// and ")".
func (w *Writer) List(f func()) {
	w.Byte('(')
	f()
	w.Byte(')')
}

// SeqSet writes a sequence set, as in COPYUID or ESEARCH ALL.
func (w *Writer) SeqSet(s SeqSet) {
	if s.Dollar {
		w.Byte('$')
		return
	}
	for i, g := range s.Ranges {
		if i > 0 {
			w.Byte(',')
		}
		w.seqNumber(g.Start)
		if g.Stop != g.Start {
			w.Byte(':')
			w.seqNumber(g.Stop)
		}
	}
}

func (w *Writer) seqNumber(n uint32) {
	if n == Star {
		w.Byte('*')
		return
	}
	w.Number(n)
}

// Untagged starts an untagged response: "* ".
func (w *Writer) Untagged() { w.str("* ") }

// UntaggedStatus writes a whole untagged status response: "* " status
// ["[" code "]"] text CRLF, such as "* OK [UIDVALIDITY 3857529045] UIDs
// valid" (RFC 3501 section 7.1).
func (w *Writer) UntaggedStatus(status, code, text string) {
	w.str("* ")
	w.status(status, code, text)
}

// Tagged writes a tagged completion: tag SP status SP ["[" code "]" SP]
// text CRLF (RFC 3501 section 7.1). code is without its brackets; empty
// means none.
func (w *Writer) Tagged(tag, status, code, text string) {
	w.str(tag)
	w.SP()
	w.status(status, code, text)
}

func (w *Writer) status(status, code, text string) {
	w.str(status)
	if code != "" {
		w.str(" [")
		w.Text(code)
		w.Byte(']')
	}
	if text != "" {
		w.SP()
		w.Text(text)
	}
	w.CRLF()
}

// Continue sends a continuation request, "+ " text CRLF, and flushes it
// (RFC 3501 section 7.5). It makes *Writer a Continuer.
func (w *Writer) Continue(text string) error {
	w.str("+ ")
	w.Text(text)
	w.CRLF()
	return w.Flush()
}

// isQChar reports whether Cyrus puts c in a quoted string (prot.c isQCHAR,
// with NUL added: Go strings may hold it).
func isQChar(c byte) bool {
	return c != 0 && c != '\r' && c != '\n' && c != '"' && c != '%' && c != '\\' && c < 0x80
}

// quotable reports whether String may send s quoted.
func (w *Writer) quotable(s string) bool {
	if len(s) >= maxQuotedOut {
		return false
	}
	eight := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			eight = true
			continue
		}
		if !isQChar(c) {
			return false
		}
	}
	return !eight || w.utf8 && utf8.ValidString(s)
}

// isAtomOut reports whether AString may send s bare: Cyrus's
// imparse_isatom (no 8-bit, CTL, SP, "{", "(", ")", DQUOTE, "%", "*" or
// "\", shorter than 1024), and not NIL in any case, which would read back
// as nil.
func isAtomOut(s string) bool {
	if s == "" || len(s) >= maxQuotedOut {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 0x80, c <= 0x1f, c == 0x7f:
			return false
		case c == ' ', c == '{', c == '(', c == ')', c == '"', c == '%', c == '*', c == '\\':
			return false
		}
	}
	return !strings.EqualFold(s, "NIL")
}

// String writes s as a quoted string or, when Cyrus would not quote it,
// as a literal (RFC 3501 section 4.3).
func (w *Writer) String(s string) {
	if w.quotable(s) {
		w.Byte('"')
		w.str(s)
		w.Byte('"')
		return
	}
	w.literalHeader('{', int64(len(s)))
	w.str(s)
}

// StringBytes is String for a byte slice (Cyrus's prot_printmap).
func (w *Writer) StringBytes(b []byte) {
	if w.quotableBytes(b) {
		w.Byte('"')
		w.bytes(b)
		w.Byte('"')
		return
	}
	w.literalHeader('{', int64(len(b)))
	w.bytes(b)
}

func (w *Writer) quotableBytes(b []byte) bool {
	if len(b) >= maxQuotedOut {
		return false
	}
	eight := false
	for _, c := range b {
		if c >= 0x80 {
			eight = true
			continue
		}
		if !isQChar(c) {
			return false
		}
	}
	return !eight || w.utf8 && utf8.Valid(b)
}

// AString writes s as an atom if it can be one, otherwise as String does
// (Cyrus's prot_printastring): mailbox names such as INBOX.Sent go bare.
func (w *Writer) AString(s string) {
	if s == "" {
		w.str(`""`)
		return
	}
	if isAtomOut(s) {
		w.str(s)
		return
	}
	w.String(s)
}

// NString writes NIL if isNil, otherwise s as String does.
func (w *Writer) NString(s string, isNil bool) {
	if isNil {
		w.Nil()
		return
	}
	w.String(s)
}

// Quoted writes s as a quoted string, escaping DQUOTE and "\" (RFC 3501
// section 9, QUOTED-CHAR), for values the protocol wants quoted such as
// the hierarchy delimiter. A value no quoted string can carry (CR, LF,
// NUL, or 8-bit outside UTF8=ACCEPT) is written as a literal instead.
func (w *Writer) Quoted(s string) {
	ok := true
	eight := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == 0, c == '\r', c == '\n':
			ok = false
		case c >= 0x80:
			eight = true
		}
	}
	if !ok || eight && !(w.utf8 && utf8.ValidString(s)) {
		w.literalHeader('{', int64(len(s)))
		w.str(s)
		return
	}
	w.Byte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			w.str(s[start:i])
			w.Byte('\\')
			start = i
		}
	}
	w.str(s[start:])
	w.Byte('"')
}

func (w *Writer) literalHeader(open byte, n int64) {
	if open == '~' {
		w.str("~{")
	} else {
		w.Byte('{')
	}
	w.bytes(strconv.AppendInt(w.num[:0], n, 10))
	w.str("}\r\n")
}

// LiteralBytes writes b as a literal: "{" n "}" CRLF and the bytes.
func (w *Writer) LiteralBytes(b []byte) {
	w.literalHeader('{', int64(len(b)))
	w.bytes(b)
}

// Literal writes a literal of exactly n bytes read from r, streaming them
// (a large BODY[] is never held whole). If r ends early the output can no
// longer be framed: the error is kept like a write error and the engine
// must close the connection.
func (w *Writer) Literal(r io.Reader, n int64) error {
	return w.literal('{', r, n)
}

// Literal8 is Literal for a literal8 (RFC 3516 section 4.2: "~{" n "}",
// the FETCH BINARY data that may hold NUL).
func (w *Writer) Literal8(r io.Reader, n int64) error {
	return w.literal('~', r, n)
}

func (w *Writer) literal(open byte, r io.Reader, n int64) error {
	if n < 0 && w.err == nil {
		w.err = fmt.Errorf("imapwire: literal of negative size %d", n)
	}
	w.literalHeader(open, n)
	if w.err != nil {
		return w.err
	}
	copied, err := io.CopyN(w.bw, r, n)
	if err != nil {
		if w.err == nil {
			w.err = fmt.Errorf("imapwire: literal: %d of %d bytes: %w", copied, n, err)
		}
	}
	return w.err
}
