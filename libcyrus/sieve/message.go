package sieve

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/emersion/go-message/charset"

	"github.com/cyrusgo/cyrusgo/libcyrus/message"
)

// Field is one header field.
type Field struct {
	// Name is the field name as written.
	Name string
	// Value is everything after the colon, folding line breaks included
	// and the final CRLF excluded.
	Value string
	// Raw is the field exactly as in the message, final CRLF included;
	// empty for a field the script added (editheader).
	Raw string
}

// Bytes returns the field as it goes into a message: Raw when it came
// from one, otherwise "Name: Value" folded and ended with CRLF.
func (f Field) Bytes() []byte {
	if f.Raw != "" {
		return []byte(f.Raw)
	}
	return []byte(f.Name + ":" + foldValue(len(f.Name)+1, f.Value) + "\r\n")
}

// WriteHeader writes fields as a message header, without the empty line
// that ends it.
func WriteHeader(w io.Writer, fields []Field) error {
	for _, f := range fields {
		if _, err := w.Write(f.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// Envelope is the SMTP/LMTP envelope of the delivery (RFC 5228 5.4).
type Envelope struct {
	// From is the reverse-path without angle brackets, "" for the null
	// path "<>".
	From string
	// To is this recipient's forward-path as given in RCPT TO.
	To string
	// Auth is the AUTH= identity of MAIL FROM, if any.
	Auth string
}

// Message is what a script examines. lmtpd uses NewMessage over its spool
// file; tests may implement it directly.
type Message interface {
	// Header returns the top-level header fields in order. The
	// interpreter copies them before editheader changes anything.
	Header() []Field
	// Size is the message size in octets (RFC 5228 5.9).
	Size() int64
	// Body returns the MIME structure, for body, mime, foreverypart and
	// extracttext. It is called at most once per run, and only by
	// scripts that need it.
	Body() (*Part, error)
}

// Part is one MIME entity. The root is the message itself.
type Part struct {
	// Header is the entity's header: the message header for the root,
	// the MIME header of a body part.
	Header []Field
	// Type and Subtype are lower case ("text", "plain"); Params are the
	// Content-Type parameters with lower-case names.
	Type    string
	Subtype string
	Params  map[string]string
	// Parts are the body parts of a multipart, or the encapsulated
	// message of a message/rfc822 part (one Part, whose Header is that
	// message's header).
	Parts []*Part
	// Content returns at most max bytes of the body with its transfer
	// encoding undone and, for text, converted to UTF-8. Nil means empty.
	Content func(max int64) (string, error)
	// Raw returns at most max bytes of the body as it is in the message.
	// Nil means empty.
	Raw func(max int64) (string, error)
}

// content calls p.Content, treating nil as empty.
func (p *Part) content(max int64) (string, error) {
	if p.Content == nil {
		return "", nil
	}
	return p.Content(max)
}

func (p *Part) raw(max int64) (string, error) {
	if p.Raw == nil {
		return "", nil
	}
	return p.Raw(max)
}

// maxHeaderRead bounds the top header NewMessage reads; fields past it are
// not seen by tests (they stay in the delivered message).
const maxHeaderRead = 1 << 20

// NewMessage returns the Message of a message stored in r (a spool file):
// the header is read now, the MIME structure when a script asks for it.
func NewMessage(r io.ReaderAt, size int64) (Message, error) {
	n := min(size, maxHeaderRead)
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, 0); err != nil && err != io.EOF {
		return nil, fmt.Errorf("read message header: %w", err)
	}
	hdr, _ := splitHeader(buf)
	return &fileMessage{r: r, size: size, header: parseHeader(hdr)}, nil
}

// NewMessageBytes is NewMessage over a message in memory.
func NewMessageBytes(b []byte) Message {
	m, _ := NewMessage(bytes.NewReader(b), int64(len(b)))
	return m
}

type fileMessage struct {
	r      io.ReaderAt
	size   int64
	header []Field
}

func (m *fileMessage) Header() []Field { return m.header }
func (m *fileMessage) Size() int64     { return m.size }

func (m *fileMessage) Body() (*Part, error) {
	sum, err := message.Parse(io.NewSectionReader(m.r, 0, m.size), message.Options{MaxCachedHeader: -1})
	if err != nil {
		return nil, fmt.Errorf("parse message: %w", err)
	}
	if sum.Root == nil {
		return &Part{Header: m.header, Type: "text", Subtype: "plain"}, nil
	}
	root := m.part(sum.Root)
	root.Header = m.header
	return root, nil
}

// part converts the message package's structure, reading headers as it
// goes; contents are read on demand.
func (m *fileMessage) part(p *message.Part) *Part {
	out := &Part{Type: strings.ToLower(p.Type), Subtype: strings.ToLower(p.Subtype), Params: map[string]string{}}
	for _, pa := range p.Params {
		out.Params[strings.ToLower(pa.Name)] = pa.Value
	}
	if p.HeaderLen > 0 {
		n := min(p.HeaderLen, maxHeaderRead)
		buf := make([]byte, n)
		if k, _ := m.r.ReadAt(buf, p.HeaderOffset); k > 0 {
			out.Header = parseHeader(buf[:k])
		}
	}
	part := p
	out.Raw = func(max int64) (string, error) {
		n := min(part.BodyLen, max)
		if n <= 0 {
			return "", nil
		}
		buf := make([]byte, n)
		k, err := m.r.ReadAt(buf, part.BodyOffset)
		if err != nil && err != io.EOF {
			return "", err
		}
		return string(buf[:k]), nil
	}
	out.Content = func(max int64) (string, error) {
		rd, err := message.DecodedText(m.r, part)
		if err != nil {
			return "", err
		}
		b, err := io.ReadAll(io.LimitReader(rd, max))
		return string(b), err
	}
	switch {
	case p.IsMultipart():
		for _, c := range p.Parts {
			out.Parts = append(out.Parts, m.part(c))
		}
	case p.IsMessage() && p.Embedded != nil:
		out.Parts = []*Part{m.part(p.Embedded)}
	}
	return out
}

// splitHeader returns the header block (without the empty line that ends
// it) and whether the empty line was found.
func splitHeader(b []byte) ([]byte, bool) {
	for i := 0; i < len(b); {
		if b[i] == '\n' || (b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n') {
			return b[:i], true
		}
		nl := bytes.IndexByte(b[i:], '\n')
		if nl < 0 {
			return b, false
		}
		i += nl + 1
	}
	return b, false
}

// parseHeader splits a header block into fields; continuation lines
// (starting with a blank) belong to the field before. A line that is not
// a field is kept, with an empty name, so writing the header back changes
// nothing.
func parseHeader(b []byte) []Field {
	var out []Field
	s := string(b)
	for len(s) > 0 {
		end := 0
		for {
			nl := strings.IndexByte(s[end:], '\n')
			if nl < 0 {
				end = len(s)
				break
			}
			end += nl + 1
			if end >= len(s) || (s[end] != ' ' && s[end] != '\t') {
				break
			}
		}
		raw := s[:end]
		s = s[end:]
		if !strings.HasSuffix(raw, "\n") {
			raw += "\r\n"
		}
		f := Field{Raw: raw}
		line := strings.TrimSuffix(strings.TrimSuffix(raw, "\n"), "\r")
		if colon := strings.IndexByte(line, ':'); colon > 0 {
			name := strings.TrimRight(line[:colon], " \t")
			if validFieldName(name) {
				f.Name, f.Value = name, line[colon+1:]
			}
		}
		out = append(out, f)
	}
	return out
}

// unfold removes the line breaks of folding (RFC 5322 2.2.3).
func unfold(v string) string {
	if !strings.ContainsAny(v, "\r\n") {
		return v
	}
	v = strings.ReplaceAll(v, "\r\n", "")
	return strings.ReplaceAll(strings.ReplaceAll(v, "\n", ""), "\r", "")
}

// decodeValue is a header value as tests see it (RFC 5228 2.7.2): unfolded,
// RFC 2047 encoded-words decoded to UTF-8, leading and trailing blanks
// removed.
func decodeValue(v string) string {
	v = strings.Trim(unfold(v), " \t")
	if !strings.Contains(v, "=?") {
		return v
	}
	dec := mime.WordDecoder{CharsetReader: charset.Reader}
	if d, err := dec.DecodeHeader(v); err == nil {
		return d
	}
	return v
}

// foldValue prepares an added field's value (RFC 5293 4): non-ASCII text
// is RFC 2047-encoded, and long values are folded at blanks so that no
// line passes 998 octets.
func foldValue(nameLen int, v string) string {
	v = strings.NewReplacer("\r", "", "\n", "").Replace(v)
	if !isASCII(v) {
		v = mime.QEncoding.Encode("utf-8", v)
	}
	if nameLen+1+len(v) <= 78 {
		return " " + v
	}
	var b strings.Builder
	col := nameLen
	for _, w := range strings.Fields(v) {
		if col+1+len(w) > 78 && b.Len() > 0 {
			b.WriteString("\r\n")
			col = 0
		}
		b.WriteString(" " + w)
		col += 1 + len(w)
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
