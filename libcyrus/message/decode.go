package message

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/emersion/go-message/charset"
)

// HeaderValues returns the values of the top header's fields called name
// (any case), in order, unfolded, trimmed and RFC 2047-decoded to UTF-8,
// for SEARCH HEADER. It reads the cached copy; when HeaderComplete is
// false, fields past the copy are missed, and the caller may read the
// header from the file and use HeaderFieldValues.
func (s *Summary) HeaderValues(name string) []string {
	return HeaderFieldValues(s.Header, name)
}

// HeaderFieldValues is HeaderValues over any header block.
func HeaderFieldValues(header []byte, name string) []string {
	var vals []string
	for i := 0; i < len(header); {
		if header[i] == '\r' || header[i] == '\n' {
			break
		}
		j := lineEnd(header, i)
		for j < len(header) && isWSP(header[j]) {
			j = lineEnd(header, j)
		}
		field := header[i:j]
		i = j
		colon := bytes.IndexByte(field, ':')
		if colon <= 0 || !strings.EqualFold(string(bytes.TrimRight(field[:colon], " \t")), name) {
			continue
		}
		v := strings.TrimSpace(unfold(string(trimEOL(field[colon+1:]))))
		vals = append(vals, decodeHeader(v))
	}
	return vals
}

// LeafParts returns the parts that hold content, in part-number order:
// every part that is neither a multipart with parts nor message/rfc822,
// including those inside encapsulated messages. SEARCH BODY and TEXT look
// at the text ones.
func (s *Summary) LeafParts() []*Part {
	var out []*Part
	var walk func(p *Part)
	walk = func(p *Part) {
		switch {
		case p.IsMultipart():
			for _, c := range p.Parts {
				walk(c)
			}
		case p.IsMessage() && p.Embedded != nil:
			walk(p.Embedded)
		default:
			out = append(out, p)
		}
	}
	if s.Root != nil {
		walk(s.Root)
	}
	return out
}

// DecodedText returns a reader of part's body with its transfer encoding
// undone (RFC 2045 6.7 quoted-printable, 6.8 base64, both decoded
// leniently) and, for text/*, its charset converted to UTF-8. A charset
// that is not known is passed through unconverted, as is the body of any
// other type. ra reads the message file.
func DecodedText(ra io.ReaderAt, part *Part) (io.Reader, error) {
	if part == nil {
		return nil, errors.New("decode part: no part")
	}
	if part.BodyOffset < 0 || part.BodyLen < 0 {
		return nil, fmt.Errorf("decode part: bad range %d+%d", part.BodyOffset, part.BodyLen)
	}
	var r io.Reader = io.NewSectionReader(ra, part.BodyOffset, part.BodyLen)
	switch part.Encoding {
	case "BASE64":
		r = &base64Reader{r: r}
	case "QUOTED-PRINTABLE":
		r = &qpReader{br: bufio.NewReader(r)}
	}
	if part.Type == "TEXT" {
		switch cs := strings.ToLower(part.Charset()); cs {
		case "", "us-ascii", "utf-8", "utf8":
		default:
			if cr, err := charset.Reader(cs, r); err == nil {
				r = cr
			}
		}
	}
	return r, nil
}

// base64Reader decodes base64 leniently: bytes outside the alphabet are
// skipped, "=" ends a quantum early, and a trailing partial quantum gives
// the bytes it holds.
type base64Reader struct {
	r   io.Reader
	buf []byte
	out []byte
	pos int
	acc uint32
	n   int
	err error
}

func b64val(c byte) int {
	switch {
	case 'A' <= c && c <= 'Z':
		return int(c - 'A')
	case 'a' <= c && c <= 'z':
		return int(c-'a') + 26
	case '0' <= c && c <= '9':
		return int(c-'0') + 52
	case c == '+':
		return 62
	case c == '/':
		return 63
	case c == '=':
		return -2
	}
	return -1
}

func (d *base64Reader) flush() {
	switch d.n {
	case 2:
		d.out = append(d.out, byte(d.acc>>4))
	case 3:
		d.out = append(d.out, byte(d.acc>>10), byte(d.acc>>2))
	}
	d.acc, d.n = 0, 0
}

func (d *base64Reader) Read(p []byte) (int, error) {
	for d.pos == len(d.out) {
		d.out, d.pos = d.out[:0], 0
		if d.err != nil {
			return 0, d.err
		}
		if d.buf == nil {
			d.buf = make([]byte, 16<<10)
		}
		n, err := d.r.Read(d.buf)
		for _, c := range d.buf[:n] {
			v := b64val(c)
			switch {
			case v == -2:
				d.flush()
			case v >= 0:
				d.acc = d.acc<<6 | uint32(v)
				d.n++
				if d.n == 4 {
					d.out = append(d.out, byte(d.acc>>16), byte(d.acc>>8), byte(d.acc))
					d.acc, d.n = 0, 0
				}
			}
		}
		if err != nil {
			d.flush()
			d.err = err
		}
	}
	n := copy(p, d.out[d.pos:])
	d.pos += n
	return n, nil
}

// qpReader decodes quoted-printable leniently: "=XX" is a byte, "=" before
// a line break (after optional blanks) is a soft line break, and any other
// "=" is kept as it is.
type qpReader struct {
	br *bufio.Reader
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func (q *qpReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c, err := q.br.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		if c != '=' {
			p[n] = c
			n++
			continue
		}
		look, _ := q.br.Peek(2)
		switch {
		case len(look) == 2 && isHex(look[0]) && isHex(look[1]):
			p[n] = unhex(look[0])<<4 | unhex(look[1])
			n++
			_, _ = q.br.Discard(2)
		default:
			if k := q.softBreak(); k > 0 {
				_, _ = q.br.Discard(k)
			} else {
				p[n] = '='
				n++
			}
		}
	}
	return n, nil
}

// softBreak returns the length of blanks and a line break that follow an
// "=", or 0.
func (q *qpReader) softBreak() int {
	look, _ := q.br.Peek(128)
	i := 0
	for i < len(look) && isWSP(look[i]) {
		i++
	}
	switch {
	case i < len(look) && look[i] == '\n':
		return i + 1
	case i+1 < len(look) && look[i] == '\r' && look[i+1] == '\n':
		return i + 2
	}
	return 0
}
