package imapwire

import (
	"bufio"
	"errors"
	"fmt"
	"strings"
)

// Continuer sends a command continuation request, "+ " text CRLF, and
// flushes it (RFC 3501 section 7.5). *Writer is one.
type Continuer interface {
	Continue(text string) error
}

// ContinueText is the text of the continuation Cyrus sends before reading
// a synchronizing literal.
const ContinueText = "go ahead"

// state is where a Reader stands in the command stream.
type state uint8

const (
	// stIdle: no command is open (before ReadTag, after ReadEOL or
	// SkipLine). Token reads fail until ReadTag opens the next one.
	stIdle state = iota
	// stOpen: a command is being read.
	stOpen
	// stEnded: the command ended at a synchronizing literal that was
	// refused; the client sends nothing more for it (RFC 3501 section 7.5).
	stEnded
)

// smallBuf is the scratch buffer size kept between commands; a larger
// one, grown for a long token, is dropped at the next command so that an
// idle connection does not hold it.
const smallBuf = 4096

// Reader reads client commands token by token (RFC 3501 section 4). See
// the package comment for the calling pattern. Its methods return a
// *SyntaxError, *LimitError or *LiteralTooBigError for a bad command and
// a wrapped I/O error (errors.Is(err, io.EOF) for a closed connection)
// otherwise; after an I/O error every method returns it again.
type Reader struct {
	br   *bufio.Reader
	cont Continuer
	lim  Limits // effective limits

	err error // sticky I/O error
	st  state

	lineN   int   // bytes of this command counted against MaxLine
	argsN   int64 // bytes of this command counted against MaxArgs
	litLeft int64 // unread bytes of a streamed or refused literal
	litGen  uint64
	depth   int // ReadList nesting

	buf []byte // scratch for the token being read
}

// NewReader returns a Reader of commands from br. Continuation requests
// for synchronizing literals are sent through cont, which in a server is
// the connection's *Writer. Limits with zero fields mean what they mean in
// imapd.conf (see Limits).
func NewReader(br *bufio.Reader, cont Continuer, limits Limits) *Reader {
	return &Reader{br: br, cont: cont, lim: limits.effective(), buf: make([]byte, 0, 256)}
}

// Buffered returns the number of bytes received and not yet read. A
// server checks it is 0 before STARTTLS and COMPRESS switch layers: bytes
// that arrived before the switch must not be read as if they came after it.
func (r *Reader) Buffered() int { return r.br.Buffered() }

// fail records an I/O error; every later read returns it.
func (r *Reader) fail(err error) error {
	if r.err == nil {
		r.err = fmt.Errorf("imapwire: read: %w", err)
	}
	return r.err
}

// peek returns the next byte without consuming it.
func (r *Reader) peek() (byte, error) {
	if r.err != nil {
		return 0, r.err
	}
	b, err := r.br.Peek(1)
	if len(b) == 0 {
		return 0, r.fail(err)
	}
	return b[0], nil
}

// advance consumes n bytes already peeked and counts them against MaxLine
// and MaxArgs.
func (r *Reader) advance(n int) error {
	_, _ = r.br.Discard(n) // never fails: the bytes are buffered
	r.lineN += n
	r.argsN += int64(n)
	if r.lineN > r.lim.MaxLine {
		return &LimitError{Limit: LimitMaxLine, Max: int64(r.lim.MaxLine)}
	}
	if r.lim.MaxArgs > 0 && r.argsN > r.lim.MaxArgs {
		return &LimitError{Limit: LimitMaxArgsSize, Max: r.lim.MaxArgs}
	}
	return nil
}

// drain discards what is left of a streamed literal the engine did not
// read to the end, or of a refused non-synchronizing literal, so that its
// bytes are never parsed as protocol.
func (r *Reader) drain() error {
	for r.litLeft > 0 {
		n := int(min(r.litLeft, 1<<20))
		d, err := r.br.Discard(n)
		r.litLeft -= int64(d)
		if err != nil {
			return r.fail(err)
		}
	}
	return nil
}

// begin is called by every token read: it checks that a command is open
// and skips any unread literal bytes.
func (r *Reader) begin() error {
	if r.err != nil {
		return r.err
	}
	if err := r.drain(); err != nil {
		return err
	}
	switch r.st {
	case stOpen:
		return nil
	case stEnded:
		return syntaxErr("command ended at a refused literal")
	default:
		return syntaxErr("no command in progress")
	}
}

// scanAppend appends to r.buf the longest run of bytes in class, at most
// max of them (0: no limit other than MaxLine).
func (r *Reader) scanAppend(class *charClass, max int, limit string) error {
	return r.scanAppendFunc(class, nil, max, limit)
}

// scanAppendFunc is scanAppend with the class given as a table or, if
// class is nil, as a function.
func (r *Reader) scanAppendFunc(class *charClass, valid func(byte) bool, max int, limit string) error {
	for {
		if r.br.Buffered() == 0 {
			if _, err := r.br.Peek(1); err != nil {
				return r.fail(err)
			}
		}
		b, _ := r.br.Peek(r.br.Buffered())
		i := 0
		if class != nil {
			for i < len(b) && class[b[i]] {
				i++
			}
		} else {
			for i < len(b) && valid(b[i]) {
				i++
			}
		}
		if max > 0 && len(r.buf)+i > max {
			return &LimitError{Limit: limit, Max: int64(max)}
		}
		r.buf = append(r.buf, b[:i]...)
		if err := r.advance(i); err != nil {
			return err
		}
		if i < len(b) {
			return nil
		}
	}
}

// scan reads the longest run of bytes in class into r.buf.
func (r *Reader) scan(class *charClass, max int, limit string) ([]byte, error) {
	r.buf = r.buf[:0]
	err := r.scanAppend(class, max, limit)
	return r.buf, err
}

// unexpected builds the syntax error for a token that is missing where
// the next byte is.
func (r *Reader) unexpected(what string) error {
	c, err := r.peek()
	if err != nil {
		return err
	}
	return syntaxErr("expected " + what + ", got " + describe(c))
}

// ReadTag starts a command and reads its tag: 1*<any ASTRING-CHAR except
// "+"> (RFC 3501 section 9). If the previous command was not finished
// (ReadEOL or SkipLine), its rest is skipped first. An empty line is a
// *SyntaxError "Null command", a tag not followed by a space or the end of
// the line one "Invalid tag" (Cyrus's texts, for an untagged BAD).
func (r *Reader) ReadTag() (string, error) {
	if r.err != nil {
		return "", r.err
	}
	if r.st == stOpen || r.litLeft > 0 {
		if err := r.SkipLine(); err != nil {
			return "", err
		}
	}
	r.st = stOpen
	r.lineN, r.argsN, r.depth = 0, 0, 0
	if cap(r.buf) > smallBuf {
		r.buf = make([]byte, 0, 256)
	}
	tok, err := r.scan(tagChars, r.lim.MaxWord, LimitMaxWord)
	if err != nil {
		return "", err
	}
	c, err := r.peek()
	if err != nil {
		return "", err
	}
	if len(tok) == 0 && (c == '\r' || c == '\n') {
		return "", syntaxErr("Null command")
	}
	if len(tok) == 0 || c != ' ' && c != '\r' && c != '\n' {
		return "", syntaxErr("Invalid tag")
	}
	return string(tok), nil
}

// ReadLine reads one line that is not a command, such as an AUTHENTICATE
// response (RFC 3501 section 6.2.2) or the DONE ending IDLE (RFC 2177),
// and returns it without its CRLF (a bare LF is accepted). Lines longer
// than max bytes (0: MaxLine) are discarded to their end and reported as
// a *LimitError. Like ReadTag, it first skips an unfinished command.
func (r *Reader) ReadLine(max int) (string, error) {
	if r.err != nil {
		return "", r.err
	}
	if r.st == stOpen || r.litLeft > 0 {
		if err := r.SkipLine(); err != nil {
			return "", err
		}
	}
	r.st = stIdle
	if max <= 0 {
		max = r.lim.MaxLine
	}
	r.buf = r.buf[:0]
	tooLong := false
	for {
		frag, err := r.br.ReadSlice('\n')
		if !tooLong {
			if len(r.buf)+len(frag) > max+2 {
				tooLong = true
			} else {
				r.buf = append(r.buf, frag...)
			}
		}
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", r.fail(err)
		}
	}
	if tooLong {
		return "", &LimitError{Limit: LimitMaxLine, Max: int64(max)}
	}
	line := r.buf[:len(r.buf)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) > max {
		return "", &LimitError{Limit: LimitMaxLine, Max: int64(max)}
	}
	return string(line), nil
}

// SP reads the single space between two tokens.
func (r *Reader) SP() error { return r.Expect(' ') }

// Expect reads the byte c, or fails with a *SyntaxError without consuming
// anything.
func (r *Reader) Expect(c byte) error {
	if err := r.begin(); err != nil {
		return err
	}
	got, err := r.peek()
	if err != nil {
		return err
	}
	if got != c {
		return syntaxErr("expected " + describe(c) + ", got " + describe(got))
	}
	return r.advance(1)
}

// Accept reads the byte c if it comes next and reports whether it did.
// Errors are left for the next read to report.
func (r *Reader) Accept(c byte) bool {
	if r.begin() != nil {
		return false
	}
	got, err := r.peek()
	if err != nil || got != c {
		return false
	}
	return r.advance(1) == nil
}

// Peek returns the next byte of the command without consuming it.
func (r *Reader) Peek() (byte, error) {
	if err := r.begin(); err != nil {
		return 0, err
	}
	return r.peek()
}

// PeekSP reports whether a space comes next.
func (r *Reader) PeekSP() bool {
	c, err := r.Peek()
	return err == nil && c == ' '
}

// AtEOL reports whether the command's line ends here: a CR or LF comes
// next, or the command has no more bytes. On an error it reports true, so
// that loops over arguments stop and ReadEOL reports the error.
func (r *Reader) AtEOL() bool {
	if r.st != stOpen {
		return true
	}
	c, err := r.Peek()
	return err != nil || c == '\r' || c == '\n'
}

// ReadEOL reads the CRLF ending a command (a bare LF is tolerated) and
// closes the command. Anything else is a *SyntaxError, left unread for
// SkipLine.
func (r *Reader) ReadEOL() error {
	if err := r.begin(); err != nil {
		return err
	}
	c, err := r.peek()
	if err != nil {
		return err
	}
	switch c {
	case '\n':
		_, _ = r.br.Discard(1)
	case '\r':
		b, err := r.br.Peek(2)
		if len(b) < 2 {
			return r.fail(err)
		}
		if b[1] != '\n' {
			return syntaxErr("expected end of line, got a CR without LF")
		}
		_, _ = r.br.Discard(2)
	default:
		return syntaxErr("expected end of line, got " + describe(c))
	}
	r.st = stIdle
	return nil
}

// SkipLine discards the rest of the current command after an error: up
// to and including its final line end, discarding the bytes of every
// non-synchronizing literal ("{n+}" CRLF, RFC 7888) announced on the way
// so that none of them is read as a command, and stopping after a
// synchronizing literal's header: a compliant client waits for a "+" that
// is not coming and sends nothing more for this command (RFC 3501 section
// 7.5). Memory stays bounded however long the line is. SkipLine does
// nothing if no command is open.
func (r *Reader) SkipLine() error {
	if r.err != nil {
		return r.err
	}
	if err := r.drain(); err != nil {
		return err
	}
	if r.st != stOpen {
		r.st = stIdle
		return nil
	}
	// A small automaton recognises a literal header at the end of a line
	// (the same rule as Cyrus's eatline): "{" 1*DIGIT ["+"] "}" [CR] LF.
	const (
		sNone = iota
		sDigits
		sPlus
		sClose
		sCR
	)
	st, nd := sNone, 0
	var size int64
	nonsync := false
	for {
		c, err := r.br.ReadByte()
		if err != nil {
			return r.fail(err)
		}
		switch {
		case c == '\n':
			if (st == sClose || st == sCR) && nonsync {
				r.litLeft = size
				if err := r.drain(); err != nil {
					return err
				}
				st = sNone
				continue
			}
			// The end of the line, or a synchronizing literal's header
			// (the command ends there as well).
			r.st = stIdle
			return nil
		case c == '{':
			st, nd, size, nonsync = sDigits, 0, 0, false
		case c >= '0' && c <= '9' && st == sDigits:
			size = addDigit(size, c)
			nd++
		case c == '+' && st == sDigits && nd > 0:
			st, nonsync = sPlus, true
		case c == '}' && (st == sDigits && nd > 0 || st == sPlus):
			st = sClose
		case c == '\r' && st == sClose:
			st = sCR
		default:
			st = sNone
		}
	}
}

// addDigit returns n*10 + the digit c, saturating at the largest int64.
func addDigit(n int64, c byte) int64 {
	const limit = (1<<63 - 1) / 10
	d := int64(c - '0')
	if n > limit || n == limit && d > (1<<63-1)%10 {
		return 1<<63 - 1
	}
	return n*10 + d
}

// ReadAtom reads an atom: 1*ATOM-CHAR (RFC 3501 section 9), case kept.
// Command names, fetch attribute names, search keys and status items are
// atoms.
func (r *Reader) ReadAtom() (string, error) {
	if err := r.begin(); err != nil {
		return "", err
	}
	tok, err := r.scan(atomChars, r.lim.MaxWord, LimitMaxWord)
	if err != nil {
		return "", err
	}
	if len(tok) == 0 {
		return "", r.unexpected("atom")
	}
	return string(tok), nil
}

// ReadAtomFunc reads 1 or more bytes for which valid is true, bounded like
// an atom (maxword). It serves the engine's finer tokens, such as a fetch
// attribute name that stops at "[" (IsAtomChar(c) && c != '[').
func (r *Reader) ReadAtomFunc(valid func(c byte) bool) (string, error) {
	if err := r.begin(); err != nil {
		return "", err
	}
	r.buf = r.buf[:0]
	if err := r.scanAppendFunc(nil, valid, r.lim.MaxWord, LimitMaxWord); err != nil {
		return "", err
	}
	tok := r.buf
	if len(tok) == 0 {
		return "", r.unexpected("atom")
	}
	return string(tok), nil
}

// ReadNumber reads a number: 1*DIGIT, an unsigned 32-bit integer (RFC 3501
// section 9).
func (r *Reader) ReadNumber() (uint32, error) {
	n, err := r.readNumber(1<<32 - 1)
	return uint32(n), err
}

// ReadNumber64 reads 1*DIGIT as an unsigned 64-bit integer (the number64
// of RFC 9051 and the mod-sequence-value of RFC 7162; like Cyrus it
// accepts the whole uint64 range).
func (r *Reader) ReadNumber64() (uint64, error) {
	return r.readNumber(1<<64 - 1)
}

func (r *Reader) readNumber(limit uint64) (uint64, error) {
	if err := r.begin(); err != nil {
		return 0, err
	}
	tok, err := r.scan(digitChars, r.lim.MaxWord, LimitMaxWord)
	if err != nil {
		return 0, err
	}
	if len(tok) == 0 {
		return 0, r.unexpected("number")
	}
	n, ok := parseUint(tok, limit)
	if !ok {
		return 0, syntaxErr("number out of range")
	}
	return n, nil
}

// parseUint parses decimal digits, failing above limit.
func parseUint(b []byte, limit uint64) (uint64, bool) {
	var n uint64
	for _, c := range b {
		d := uint64(c - '0')
		if n > (limit-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// ReadAString reads an astring: an atom of ASTRING-CHARs, a quoted string
// or a literal (RFC 3501 section 9). As in Cyrus, 8-bit bytes are accepted
// in the atom form.
func (r *Reader) ReadAString() (string, error) {
	if err := r.begin(); err != nil {
		return "", err
	}
	c, err := r.peek()
	if err != nil {
		return "", err
	}
	switch c {
	case '"':
		b, err := r.readQuoted(r.lim.MaxQuoted, LimitMaxQuoted)
		return string(b), err
	case '{':
		b, err := r.readLiteral()
		return string(b), err
	}
	tok, err := r.scan(astringChars, r.lim.MaxWord, LimitMaxWord)
	if err != nil {
		return "", err
	}
	if len(tok) == 0 {
		return "", r.unexpected("string")
	}
	return string(tok), nil
}

// ReadString reads a string: quoted or literal (RFC 3501 section 9).
func (r *Reader) ReadString() (string, error) {
	if err := r.begin(); err != nil {
		return "", err
	}
	c, err := r.peek()
	if err != nil {
		return "", err
	}
	switch c {
	case '"':
		b, err := r.readQuoted(r.lim.MaxQuoted, LimitMaxQuoted)
		return string(b), err
	case '{':
		b, err := r.readLiteral()
		return string(b), err
	}
	return "", r.unexpected("quoted string or literal")
}

// ReadNString reads an nstring: a string or NIL, in any case (RFC 3501
// section 9).
func (r *Reader) ReadNString() (s string, isNil bool, err error) {
	if err := r.begin(); err != nil {
		return "", false, err
	}
	c, err := r.peek()
	if err != nil {
		return "", false, err
	}
	if c == 'N' || c == 'n' {
		tok, err := r.scan(atomChars, r.lim.MaxWord, LimitMaxWord)
		if err != nil {
			return "", false, err
		}
		if !strings.EqualFold(string(tok), "NIL") {
			return "", false, syntaxErr("expected string or NIL")
		}
		return "", true, nil
	}
	s, err = r.ReadString()
	return s, false, err
}

// ReadListMailbox reads a list-mailbox: 1*list-char or a string (RFC 3501
// section 9), the LIST and LSUB pattern with its "%" and "*" wildcards.
func (r *Reader) ReadListMailbox() (string, error) {
	if err := r.begin(); err != nil {
		return "", err
	}
	c, err := r.peek()
	if err != nil {
		return "", err
	}
	if c == '"' || c == '{' {
		return r.ReadString()
	}
	tok, err := r.scan(listChars, r.lim.MaxWord, LimitMaxWord)
	if err != nil {
		return "", err
	}
	if len(tok) == 0 {
		return "", r.unexpected("mailbox pattern")
	}
	return string(tok), nil
}

// quotedStop marks the bytes that end a run of plain quoted-string
// characters.
var quotedStop = makeClass(func(c byte) bool { return c == '"' || c == '\\' || c == '\r' || c == '\n' || c == 0 })

// readQuoted reads a quoted string (RFC 3501 section 9: DQUOTE
// *QUOTED-CHAR DQUOTE, where only DQUOTE and "\" may be escaped) into
// r.buf. 8-bit bytes are accepted (UTF-8, RFC 6855 and RFC 9051); NUL, CR
// and LF are not.
func (r *Reader) readQuoted(max int, limit string) ([]byte, error) {
	if err := r.advance(1); err != nil { // the opening DQUOTE, peeked by the caller
		return nil, err
	}
	r.buf = r.buf[:0]
	for {
		if r.br.Buffered() == 0 {
			if _, err := r.br.Peek(1); err != nil {
				return nil, r.fail(err)
			}
		}
		b, _ := r.br.Peek(r.br.Buffered())
		i := 0
		for i < len(b) && !quotedStop[b[i]] {
			i++
		}
		if max > 0 && len(r.buf)+i > max {
			return nil, &LimitError{Limit: limit, Max: int64(max)}
		}
		r.buf = append(r.buf, b[:i]...)
		if err := r.advance(i); err != nil {
			return nil, err
		}
		if i == len(b) {
			continue
		}
		switch b[i] {
		case '"':
			return r.buf, r.advance(1)
		case '\\':
			if err := r.advance(1); err != nil {
				return nil, err
			}
			c, err := r.peek()
			if err != nil {
				return nil, err
			}
			if c != '"' && c != '\\' {
				return nil, syntaxErr("invalid escape " + describe(c) + " in quoted string")
			}
			if max > 0 && len(r.buf)+1 > max {
				return nil, &LimitError{Limit: limit, Max: int64(max)}
			}
			r.buf = append(r.buf, c)
			if err := r.advance(1); err != nil {
				return nil, err
			}
		case 0:
			return nil, syntaxErr("NUL in quoted string")
		default:
			return nil, syntaxErr("unterminated quoted string")
		}
	}
}
