package message

import (
	"bufio"
	"errors"
	"io"
)

// readBufSize is the read buffer. Lines longer than this come back in
// pieces; a piece that does not start a line is never a boundary or the
// start of a header field.
const readBufSize = 16 << 10

// lineReader splits the input into lines and keeps the bookkeeping the
// parser needs at each line start: the offset, the number of LFs before it
// and the length of the line break that ended the previous line.
type lineReader struct {
	br  *bufio.Reader
	off int64 // offset of the next byte
	lfs int64 // line feeds before off
	// atStart: the next chunk starts a line; prevTerm is then the length
	// of the line break before it (2 for CRLF, 1 for LF, 0 at offset 0).
	atStart  bool
	prevTerm int
	lastCR   bool // the previous chunk ended in CR
	bareLF   bool
	eof      bool
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, readBufSize), atStart: true}
}

// chunk is one line, or one piece of a line longer than the buffer. Its
// bytes are valid until the next call.
type chunk struct {
	b        []byte
	start    bool  // b starts a line
	off      int64 // offset of b[0]
	lfs      int64 // line feeds before off
	prevTerm int   // when start: length of the line break before off
}

// next returns the next chunk, or io.EOF when the input is exhausted.
func (lr *lineReader) next() (chunk, error) {
	if lr.eof {
		return chunk{}, io.EOF
	}
	b, err := lr.br.ReadSlice('\n')
	switch {
	case err == nil, errors.Is(err, bufio.ErrBufferFull):
	case errors.Is(err, io.EOF):
		lr.eof = true
		if len(b) == 0 {
			return chunk{}, io.EOF
		}
	default:
		return chunk{}, err
	}
	c := chunk{b: b, start: lr.atStart, off: lr.off, lfs: lr.lfs, prevTerm: lr.prevTerm}
	lr.off += int64(len(b))
	n := len(b)
	if b[n-1] == '\n' {
		lr.lfs++
		lr.atStart = true
		switch {
		case n >= 2 && b[n-2] == '\r', n == 1 && lr.lastCR:
			lr.prevTerm = 2
		default:
			lr.prevTerm = 1
			lr.bareLF = true
		}
		lr.lastCR = false
	} else {
		lr.atStart = false
		lr.lastCR = b[n-1] == '\r'
	}
	return c, nil
}

// isBlankLine reports whether a line-start chunk is the empty line that
// ends a header (CRLF, or a bare LF).
func isBlankLine(b []byte) bool {
	return (len(b) == 2 && b[0] == '\r' && b[1] == '\n') || (len(b) == 1 && b[0] == '\n')
}
