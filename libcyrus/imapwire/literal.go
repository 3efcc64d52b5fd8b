package imapwire

import (
	"fmt"
	"io"
)

// readLiteralHeader reads "{" number ["+"] "}" CRLF (RFC 3501 section 9,
// RFC 7888 section 8; a bare LF is tolerated as Cyrus's eatline does). The
// size saturates at the largest int64 instead of overflowing.
func (r *Reader) readLiteralHeader() (size int64, nonsync bool, err error) {
	if err := r.Expect('{'); err != nil {
		return 0, false, err
	}
	nd := 0
	for {
		c, err := r.peek()
		if err != nil {
			return 0, false, err
		}
		if c < '0' || c > '9' {
			break
		}
		size = addDigit(size, c)
		nd++
		if err := r.advance(1); err != nil {
			return 0, false, err
		}
	}
	if nd == 0 {
		return 0, false, r.unexpected("literal size")
	}
	if r.Accept('+') {
		nonsync = true
	}
	if err := r.Expect('}'); err != nil {
		return 0, false, err
	}
	c, err := r.peek()
	if err != nil {
		return 0, false, err
	}
	if c == '\r' {
		if err := r.advance(1); err != nil {
			return 0, false, err
		}
		if c, err = r.peek(); err != nil {
			return 0, false, err
		}
	}
	if c != '\n' {
		return 0, false, syntaxErr("expected end of line after literal size, got " + describe(c))
	}
	return size, nonsync, r.advance(1)
}

// acceptLiteral decides on a literal whose header was just read: it checks
// the size against LITERAL- (RFC 7888 section 5), max (named limit) and
// MaxArgs, in Cyrus's order, and then, for a synchronizing literal only,
// sends the continuation request. A refused synchronizing literal ends the
// command; the bytes of a refused non-synchronizing one are left for
// SkipLine to discard.
func (r *Reader) acceptLiteral(size int64, nonsync bool, max int64, limit string) error {
	var tooBig *LiteralTooBigError
	switch {
	case nonsync && r.lim.LiteralMinus && size > LiteralMinusMax:
		tooBig = &LiteralTooBigError{Max: LiteralMinusMax, Limit: LimitLiteralMinus}
	case size > max:
		tooBig = &LiteralTooBigError{Max: max, Limit: limit}
	case r.lim.MaxArgs > 0 && size > r.lim.MaxArgs-r.argsN:
		tooBig = &LiteralTooBigError{Max: r.lim.MaxArgs, Limit: LimitMaxArgsSize}
	}
	if tooBig != nil {
		tooBig.Size, tooBig.NonSync = size, nonsync
		if nonsync {
			r.litLeft = size
		} else {
			r.st = stEnded
		}
		return tooBig
	}
	r.argsN += size
	if !nonsync && r.cont != nil {
		// RFC 3501 section 7.5: the client sends the literal's bytes only
		// after this.
		if err := r.cont.Continue(ContinueText); err != nil {
			if r.err == nil {
				r.err = fmt.Errorf("imapwire: send continuation: %w", err)
			}
			return r.err
		}
	}
	return nil
}

// readLiteral reads a literal into r.buf: one read as a string argument,
// bounded by MaxLiteral and by what is left of MaxLine. NUL is refused
// (RFC 3501 section 9: a literal is CHAR8s) after the literal has been
// read whole, so the command can still be skipped cleanly.
func (r *Reader) readLiteral() ([]byte, error) {
	size, nonsync, err := r.readLiteralHeader()
	if err != nil {
		return nil, err
	}
	max, limit := int64(r.lim.MaxLine-r.lineN), LimitMaxLine
	if r.lim.MaxLiteral > 0 && int64(r.lim.MaxLiteral) <= max {
		max, limit = int64(r.lim.MaxLiteral), LimitMaxLiteral
	}
	if err := r.acceptLiteral(size, nonsync, max, limit); err != nil {
		if lt, ok := err.(*LiteralTooBigError); ok && lt.Limit == LimitMaxLine {
			lt.Max = int64(r.lim.MaxLine)
		}
		return nil, err
	}
	n := int(size)
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	r.buf = r.buf[:n]
	if _, err := io.ReadFull(r.br, r.buf); err != nil {
		return nil, r.fail(err)
	}
	r.lineN += n // argsN was counted by acceptLiteral
	for _, c := range r.buf {
		if c == 0 {
			return nil, syntaxErr("NUL in literal")
		}
	}
	return r.buf, nil
}

// ReadLiteralReader reads the header of a literal, or of a literal8
// ("~{n}", RFC 3516 section 4.2; the engine tells them apart by Peek
// before the call), and returns a reader over exactly its size bytes, to
// be streamed rather than held in memory: the message of an APPEND or a
// CATENATE TEXT part. The size is checked first against max (if > 0),
// Limits.MaxAppendLiteral, MaxLiteralSize, LITERAL- and MaxArgs; only when
// it fits is "+ go ahead" sent for a synchronizing literal. A size over a
// limit is a *LiteralTooBigError and nothing is sent: the engine answers
// NO [TOOBIG] (or BAD) and calls SkipLine.
//
// The reader is valid until the next call on r; bytes the engine leaves
// unread are discarded by the next token read, ReadEOL or SkipLine. A
// connection closed before the end of the literal is io.ErrUnexpectedEOF.
func (r *Reader) ReadLiteralReader(max int64) (io.Reader, int64, error) {
	if err := r.begin(); err != nil {
		return nil, 0, err
	}
	c, err := r.peek()
	if err != nil {
		return nil, 0, err
	}
	if c == '~' { // literal8
		if err := r.advance(1); err != nil {
			return nil, 0, err
		}
	}
	size, nonsync, err := r.readLiteralHeader()
	if err != nil {
		return nil, 0, err
	}
	limit := r.lim.MaxAppendLiteral
	if max > 0 && max < limit {
		limit = max
	}
	if err := r.acceptLiteral(size, nonsync, limit, LimitMaxMessageSize); err != nil {
		return nil, size, err
	}
	r.litLeft = size
	r.litGen++
	return &literalReader{r: r, gen: r.litGen}, size, nil
}

// literalReader reads the bytes of the literal announced last.
type literalReader struct {
	r   *Reader
	gen uint64
}

func (l *literalReader) left() int64 {
	if l.gen != l.r.litGen {
		return 0
	}
	return l.r.litLeft
}

func (l *literalReader) Read(p []byte) (int, error) {
	r := l.r
	if r.err != nil {
		return 0, r.err
	}
	left := l.left()
	if left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := r.br.Read(p)
	r.litLeft -= int64(n)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return n, r.fail(err)
	}
	return n, nil
}

// WriteTo copies the literal to w straight from the input buffer, without
// an intermediate buffer (io.Copy uses it).
func (l *literalReader) WriteTo(w io.Writer) (int64, error) {
	r := l.r
	var total int64
	for {
		if r.err != nil {
			return total, r.err
		}
		left := l.left()
		if left == 0 {
			return total, nil
		}
		b, err := r.br.Peek(int(min(left, int64(r.br.Size()))))
		if len(b) > 0 {
			m, werr := w.Write(b)
			_, _ = r.br.Discard(m)
			r.litLeft -= int64(m)
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return total, r.fail(err)
		}
	}
}
