package lmtpserver

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// contentError is a message Cyrus refuses for its content; every
// recipient gets "554 5.6.0 <text>" (imap_err.et's texts).
type contentError struct{ text string }

func (e *contentError) Error() string { return e.text }

var (
	errNUL       = &contentError{"Message contains NUL characters"}
	err8bit      = &contentError{"Message contains non-ASCII characters in headers"}
	errBadHeader = &contentError{"Message contains invalid header"}
)

// dateLayout is RFC 5322 3.3's date-time as Cyrus's time_to_rfc822
// writes it.
const dateLayout = "Mon, 02 Jan 2006 15:04:05 -0700"

// dotReader yields the message of a DATA command: the lines up to the
// one holding a single ".", with the transparency dots removed (RFC 5321
// 4.5.2). A line end is CRLF or, leniently, a bare LF. A read error of
// the connection is kept in err: the session cannot go on after it.
type dotReader struct {
	r         *bufio.Reader
	lineStart bool
	done      bool
	err       error
	n         int64
}

func newDotReader(r *bufio.Reader) *dotReader { return &dotReader{r: r, lineStart: true} }

func (d *dotReader) fail(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	d.err = err
	return err
}

func (d *dotReader) Read(p []byte) (int, error) {
	if d.done {
		return 0, io.EOF
	}
	if d.err != nil {
		return 0, d.err
	}
	n := 0
	for n < len(p) && !d.done {
		if d.lineStart {
			// Peeking could block; never while holding bytes to return.
			if n > 0 && d.r.Buffered() < 3 {
				break
			}
			c, err := d.r.Peek(1)
			if err != nil {
				return n, d.fail(err)
			}
			if c[0] == '.' {
				pk, err := d.r.Peek(2)
				if err != nil {
					return n, d.fail(err)
				}
				if pk[1] == '\n' {
					d.r.Discard(2)
					d.done = true
					break
				}
				if pk[1] == '\r' {
					if pk, err = d.r.Peek(3); err != nil {
						return n, d.fail(err)
					}
					if pk[2] == '\n' {
						d.r.Discard(3)
						d.done = true
						break
					}
				}
				d.r.Discard(1) // the transparency dot
			}
			d.lineStart = false
		}
		if d.r.Buffered() == 0 {
			if n > 0 {
				break
			}
			if _, err := d.r.Peek(1); err != nil {
				return n, d.fail(err)
			}
		}
		chunk, _ := d.r.Peek(min(d.r.Buffered(), len(p)-n))
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			chunk = chunk[:i+1]
			d.lineStart = true
		}
		copy(p[n:], chunk)
		d.r.Discard(len(chunk))
		n += len(chunk)
	}
	d.n += int64(n)
	if n == 0 && d.done {
		return 0, io.EOF
	}
	return n, nil
}

// normalizer makes line ends CRLF, as Cyrus's spool_copy_msg: a bare LF
// becomes CRLF, a CR not before LF is dropped, and a NUL anywhere refuses
// the message.
type normalizer struct {
	src io.Reader
	in  []byte
	out []byte
	off int
	cr  bool // a CR was read and not yet written
	eof bool
	err error
}

func newNormalizer(src io.Reader) *normalizer {
	return &normalizer{src: src, in: make([]byte, 32<<10)}
}

func (z *normalizer) Read(p []byte) (int, error) {
	for z.off == len(z.out) {
		if z.err != nil {
			return 0, z.err
		}
		if z.eof {
			return 0, io.EOF
		}
		z.out, z.off = z.out[:0], 0
		n, err := z.src.Read(z.in)
		if perr := z.process(z.in[:n]); perr != nil {
			z.err = perr
		} else if errors.Is(err, io.EOF) {
			z.eof = true // a CR at the very end is lone: dropped
		} else if err != nil {
			z.err = err
		}
	}
	n := copy(p, z.out[z.off:])
	z.off += n
	return n, nil
}

func (z *normalizer) process(b []byte) error {
	for len(b) > 0 {
		if z.cr {
			z.cr = false
			if b[0] == '\n' {
				z.out = append(z.out, '\r', '\n')
				b = b[1:]
				continue
			}
		}
		i := bytes.IndexAny(b, "\r\n\x00")
		if i < 0 {
			z.out = append(z.out, b...)
			return nil
		}
		z.out = append(z.out, b[:i]...)
		switch b[i] {
		case 0:
			return errNUL
		case '\r':
			z.cr = true
		case '\n':
			z.out = append(z.out, '\r', '\n')
		}
		b = b[i+1:]
	}
	return nil
}

// maxCapture bounds what is kept of a header value the delivery needs
// (Message-ID, Date); longer values are still stored in full.
const maxCapture = 16 << 10

type capture struct {
	seen bool   // the header occurred
	val  []byte // its first occurrence's value, unfolded
	over bool
}

func (c *capture) add(b []byte) {
	for _, x := range b {
		if x == '\r' || x == '\n' {
			continue
		}
		if len(c.val) >= maxCapture {
			c.over = true
			return
		}
		c.val = append(c.val, x)
	}
}

// value is Cyrus's header body: leading white space dropped.
func (c *capture) value() string { return strings.TrimLeft(string(c.val), " \t") }

// assembler is the message as it is stored, produced from the client's
// (normalized) data as a stream: the trace headers Cyrus prepends
// (Return-Path, Received, X-Cyrus-Session-Id), the client's header with
// its Return-Path fields removed and 8-bit bytes rejected or munged
// (reject8bit, munge8bit), a Message-ID and a Date when the message has
// none, then the body as it came. It implements Cyrus's parseheader and
// savemsg without ever holding a whole header line, let alone the
// message.
type assembler struct {
	src       *bufio.Reader
	out       []byte
	off       int
	state     int
	reject8   bool
	munge8    bool
	emitted   int64
	midLine   bool // the last slice ended inside a line
	lastCRLF  bool // the last header bytes ended a line
	skip      bool // the current field is dropped (Return-Path)
	cur       *capture
	haveField bool // a field is current, so a continuation line is valid

	msgID, resentID, date capture

	// trailer computes the fields to add at the end of the header once it
	// has been read, or refuses the message.
	trailer func(a *assembler) ([]byte, error)

	// What the delivery needs, valid once the stream ended.
	ID   string
	Date string
	err  error
}

const (
	stHeader = iota
	stBody
	stDone
)

func newAssembler(src io.Reader, prefix []byte, reject8, munge8 bool, trailer func(*assembler) ([]byte, error)) *assembler {
	a := &assembler{src: bufio.NewReaderSize(src, 64<<10), reject8: reject8, munge8: munge8, trailer: trailer, lastCRLF: true}
	a.out = append(a.out, prefix...)
	return a
}

func (a *assembler) Read(p []byte) (int, error) {
	for a.off == len(a.out) {
		a.out, a.off = a.out[:0], 0
		if a.err != nil {
			return 0, a.err
		}
		switch a.state {
		case stHeader:
			if err := a.headerStep(); err != nil {
				a.err = err
				return 0, err
			}
		case stBody:
			n, err := a.src.Read(p)
			a.emitted += int64(n)
			if errors.Is(err, io.EOF) {
				a.state = stDone
				if n > 0 {
					return n, nil
				}
				return 0, io.EOF
			}
			if err != nil {
				a.err = err
			}
			return n, err
		case stDone:
			return 0, io.EOF
		}
	}
	n := copy(p, a.out[a.off:])
	a.off += n
	a.emitted += int64(n)
	return n, nil
}

// headerStep handles one slice of the header: a line, or a piece of a
// line longer than the buffer.
func (a *assembler) headerStep() error {
	line, err := a.src.ReadSlice('\n')
	partial := errors.Is(err, bufio.ErrBufferFull)
	if err != nil && !partial && !errors.Is(err, io.EOF) {
		return err
	}
	eof := errors.Is(err, io.EOF)
	if len(line) > 0 {
		if perr := a.headerBytes(line); perr != nil {
			return perr
		}
		a.lastCRLF = bytes.HasSuffix(line, []byte("\r\n"))
	}
	a.midLine = partial
	if a.state == stHeader && eof {
		// The message ended inside its header: no body.
		if !a.lastCRLF {
			a.out = append(a.out, '\r', '\n')
		}
		return a.endHeader(false)
	}
	return nil
}

func (a *assembler) headerBytes(line []byte) error {
	if a.midLine {
		return a.value(line)
	}
	if bytes.Equal(line, []byte("\r\n")) {
		return a.endHeader(true)
	}
	if line[0] == ' ' || line[0] == '\t' {
		if !a.haveField {
			return errBadHeader
		}
		return a.value(line)
	}
	// RFC 5322 3.6.8: field-name = 1*ftext, ftext = %d33-57 / %d59-126.
	i := 0
	for i < len(line) && isFtext(line[i]) {
		i++
	}
	name := line[:i]
	j := i
	for j < len(line) && (line[j] == ' ' || line[j] == '\t') {
		j++
	}
	if i == 0 || j >= len(line) || line[j] != ':' {
		return errBadHeader
	}
	a.haveField = true
	a.skip = strings.EqualFold(string(name), "Return-Path")
	a.cur = nil
	switch {
	case strings.EqualFold(string(name), "Message-ID"):
		a.cur = a.first(&a.msgID)
	case strings.EqualFold(string(name), "Resent-Message-ID"):
		a.cur = a.first(&a.resentID)
	case strings.EqualFold(string(name), "Date"):
		a.cur = a.first(&a.date)
	}
	if !a.skip {
		a.out = append(a.out, line[:j+1]...)
	}
	return a.value(line[j+1:])
}

// first returns c for the first occurrence of its field, nil after.
func (a *assembler) first(c *capture) *capture {
	if c.seen {
		return nil
	}
	c.seen = true
	return c
}

// value handles bytes of a field's value (folded lines included).
func (a *assembler) value(b []byte) error {
	start := len(a.out)
	if !a.skip {
		a.out = append(a.out, b...)
	}
	for i, c := range b {
		if c < 0x80 {
			continue
		}
		if a.reject8 {
			return err8bit
		}
		if a.munge8 && !a.skip {
			a.out[start+i] = 'X'
		}
	}
	if a.cur != nil {
		if a.munge8 && !a.skip {
			a.cur.add(a.out[start:])
		} else {
			a.cur.add(b)
		}
	}
	return nil
}

func isFtext(c byte) bool { return c >= 33 && c <= 126 && c != ':' }

// endHeader adds the trailer fields, then the blank line that ended the
// header when there was one, and moves on to the body.
func (a *assembler) endHeader(blank bool) error {
	add, err := a.trailer(a)
	if err != nil {
		return err
	}
	a.out = append(a.out, add...)
	if blank {
		a.out = append(a.out, '\r', '\n')
		a.state = stBody
	} else {
		a.state = stDone
	}
	return nil
}

// traceFields are what Cyrus's savemsg writes before the client's
// header: Return-Path from MAIL FROM, a Received field and the session
// id.
func (ss *session) traceFields(now time.Time) []byte {
	s := ss.srv
	var b bytes.Buffer
	rpath := strings.TrimSuffix(strings.TrimPrefix(ss.txn.from, "<"), ">")
	if rpath != "" && !strings.Contains(rpath, "@") {
		rpath += "@" + s.serverName
	}
	fmt.Fprintf(&b, "Return-Path: <%s>\r\n", rpath)

	// RFC 5321 4.4, folded where Cyrus folds it.
	segs := []string{fmt.Sprintf("from %s (%s)", ss.lhlo, ss.clientHost)}
	if ss.txn.authEq != "" {
		bits := 0
		if ss.tlsState != nil {
			bits = cipherBits(ss.tlsState)
		} else if ss.preauth {
			bits = 2 // Cyrus's SSF for a pre-authorized connection
		}
		segs = append(segs, fmt.Sprintf(" (authenticated user=%s bits=%d)", ss.txn.authEq, bits))
	}
	by := " by " + s.serverName
	if s.serverInfo {
		by += " (Cyrus " + Version + ")"
	}
	by += " with LMTP"
	if ss.tlsState != nil {
		by += "S"
	}
	if ss.auth != authNone {
		by += "A"
	}
	if ss.tlsState != nil {
		segs = append(segs, by)
		by = " (" + tlsInfo(ss.tlsState) + ")"
	}
	segs = append(segs, by+";", " "+now.Format(dateLayout))
	b.WriteString("Received: ")
	b.WriteString(strings.Join(segs, "\r\n\t"))
	b.WriteString("\r\n")
	fmt.Fprintf(&b, "X-Cyrus-Session-Id: %s\r\n", ss.sessionID)
	return b.Bytes()
}

// trailerFields is Cyrus's savemsg after the header: the Message-ID the
// delivery goes by (Resent-Message-ID first, then Message-ID; an empty
// Message-ID refuses the message; none at all gets one made up), and a
// Date when there is none.
func (s *Server) trailerFields(now time.Time) func(a *assembler) ([]byte, error) {
	return func(a *assembler) ([]byte, error) {
		var b bytes.Buffer
		switch {
		case a.resentID.value() != "":
			a.ID = a.resentID.value()
		case a.msgID.value() != "":
			a.ID = a.msgID.value()
		case a.msgID.seen:
			return nil, errBadHeader
		default:
			a.ID = fmt.Sprintf("<cmu-lmtpd-%d-%d-%d@%s>", s.pid, now.Unix(), s.msgidCount.Add(1)-1, s.serverName)
			fmt.Fprintf(&b, "Message-ID: %s\r\n", a.ID)
		}
		if a.msgID.over || a.resentID.over {
			a.ID = "" // too long to key duplicate suppression on
		}
		if a.date.seen {
			a.Date = a.date.value()
		} else {
			a.Date = now.Format(dateLayout)
			fmt.Fprintf(&b, "Date: %s\r\n", a.Date)
		}
		return b.Bytes(), nil
	}
}
