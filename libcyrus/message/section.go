package message

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrBadSection means a section specifier does not follow RFC 3501 6.4.5
// (a syntax error: BAD). ErrNoSuchPart means it names a part the message
// does not have, or HEADER/TEXT of a part that is not a message.
var (
	ErrBadSection = errors.New("bad section specifier")
	ErrNoSuchPart = errors.New("no such body part")
)

// SectionSpec is a parsed BODY[section] specifier (RFC 3501 6.4.5).
type SectionSpec struct {
	// Path holds the part numbers ("1.2.3"), empty for the top message.
	Path []int
	// Specifier is "", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT",
	// "TEXT" or "MIME".
	Specifier string
	// Fields are the header-list of HEADER.FIELDS(.NOT).
	Fields []string
}

// maxPartNumber bounds a part number; no message has more parts.
const maxPartNumber = 1 << 24

// ParseSection parses the text between the brackets of BODY[...], e.g.
// "1.2.HEADER.FIELDS (From Subject)". Keywords are case-insensitive.
func ParseSection(spec string) (SectionSpec, error) {
	var sp SectionSpec
	rest := spec
	for rest != "" && rest[0] >= '0' && rest[0] <= '9' {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if rest[0] == '0' || i > 8 {
			return sp, fmt.Errorf("%w: part number in %q", ErrBadSection, spec)
		}
		n, _ := strconv.Atoi(rest[:i])
		if n > maxPartNumber {
			return sp, fmt.Errorf("%w: part number in %q", ErrBadSection, spec)
		}
		sp.Path = append(sp.Path, n)
		rest = rest[i:]
		if rest == "" {
			break
		}
		if rest[0] != '.' || len(rest) == 1 {
			return sp, fmt.Errorf("%w: %q", ErrBadSection, spec)
		}
		rest = rest[1:]
	}
	word := rest
	if i := strings.IndexAny(rest, " ("); i >= 0 {
		word = rest[:i]
	}
	word = strings.ToUpper(word)
	switch word {
	case "", "HEADER", "TEXT", "MIME":
		if len(word) != len(rest) {
			return sp, fmt.Errorf("%w: %q", ErrBadSection, spec)
		}
		if word == "MIME" && len(sp.Path) == 0 {
			return sp, fmt.Errorf("%w: MIME needs a part number", ErrBadSection)
		}
	case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
		fields, err := parseHeaderList(strings.TrimLeft(rest[len(word):], " "))
		if err != nil {
			return sp, fmt.Errorf("%w: %q: %v", ErrBadSection, spec, err)
		}
		sp.Fields = fields
	default:
		return sp, fmt.Errorf("%w: %q", ErrBadSection, spec)
	}
	sp.Specifier = word
	return sp, nil
}

// parseHeaderList parses "(" header-fld-name *(SP header-fld-name) ")";
// names are astrings: atoms, quoted strings or literals.
func parseHeaderList(s string) ([]string, error) {
	if s == "" || s[0] != '(' {
		return nil, errors.New("header list must be parenthesised")
	}
	var fields []string
	i := 1
	for {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i >= len(s) {
			return nil, errors.New("unterminated header list")
		}
		switch s[i] {
		case ')':
			if len(fields) == 0 || i != len(s)-1 {
				return nil, errors.New("empty header list or trailing text")
			}
			return fields, nil
		case '"':
			var b strings.Builder
			i++
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
				i++
			}
			if i >= len(s) {
				return nil, errors.New("unterminated quoted string")
			}
			i++
			fields = append(fields, b.String())
		case '{':
			end := strings.Index(s[i:], "}\r\n")
			if end < 0 {
				return nil, errors.New("bad literal")
			}
			n, err := strconv.Atoi(strings.TrimSuffix(s[i+1:i+end], "+"))
			if err != nil || n < 0 || i+end+3+n > len(s) {
				return nil, errors.New("bad literal")
			}
			i += end + 3
			fields = append(fields, s[i:i+n])
			i += n
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != ')' && s[j] != '(' && s[j] != '"' {
				j++
			}
			if j == i {
				return nil, errors.New("bad header field name")
			}
			fields = append(fields, s[i:j])
			i = j
		}
	}
}

// SectionRef is a resolved section: a byte range of the message file, and
// for HEADER.FIELDS(.NOT) the filter to apply to those bytes. The caller
// applies <partial> to what Read returns.
type SectionRef struct {
	Offset int64
	Length int64
	// Part is the part the numbers named (nil for the top message).
	Part *Part
	// Filtered is set for HEADER.FIELDS (Not false) and
	// HEADER.FIELDS.NOT (Not true).
	Filtered bool
	Fields   []string
	Not      bool

	cached []byte // the header copy, when it covers the range exactly
}

// Section resolves a BODY[section] specifier (RFC 3501 6.4.5).
func (s *Summary) Section(spec string) (SectionRef, error) {
	sp, err := ParseSection(spec)
	if err != nil {
		return SectionRef{}, err
	}
	return s.Resolve(sp)
}

// Resolve resolves a parsed section specifier to a byte range.
func (s *Summary) Resolve(sp SectionSpec) (SectionRef, error) {
	ref := SectionRef{Fields: sp.Fields, Filtered: strings.HasPrefix(sp.Specifier, "HEADER.FIELDS"), Not: sp.Specifier == "HEADER.FIELDS.NOT"}
	msg := s.Root // the message whose HEADER/TEXT apply
	if len(sp.Path) > 0 {
		p, err := s.partAt(sp.Path)
		if err != nil {
			return SectionRef{}, err
		}
		ref.Part = p
		switch sp.Specifier {
		case "":
			ref.Offset, ref.Length = p.BodyOffset, p.BodyLen
			return ref, nil
		case "MIME":
			ref.Offset, ref.Length = p.HeaderOffset, p.HeaderLen
			return ref, nil
		}
		// RFC 3501 6.4.5: HEADER and TEXT after part numbers need a
		// MESSAGE/RFC822 part.
		if !p.IsMessage() || p.Embedded == nil {
			return SectionRef{}, fmt.Errorf("%w: part %s is not a message", ErrNoSuchPart, pathString(sp.Path))
		}
		msg = p.Embedded
	}
	switch sp.Specifier {
	case "":
		ref.Offset, ref.Length = 0, s.Size
	case "TEXT":
		ref.Offset, ref.Length = msg.BodyOffset, msg.BodyLen
	default: // HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT
		ref.Offset, ref.Length = msg.HeaderOffset, msg.HeaderLen
		if msg == s.Root && s.HeaderComplete {
			ref.cached = s.Header
		}
	}
	return ref, nil
}

func pathString(path []int) string {
	var b []byte
	for i, n := range path {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return string(b)
}

// partAt finds the part numbered path (RFC 3501 6.4.5): the parts of a
// multipart are numbered from 1; a message that is not multipart has one
// part, 1, its body; the numbers after a message/rfc822 part number the
// parts of the message inside it.
func (s *Summary) partAt(path []int) (*Part, error) {
	cont, isMsg := s.Root, true
	var p *Part
	for _, n := range path {
		switch {
		case cont == nil:
			return nil, fmt.Errorf("%w: %s", ErrNoSuchPart, pathString(path))
		case cont.IsMultipart():
			if n < 1 || n > len(cont.Parts) {
				return nil, fmt.Errorf("%w: %s", ErrNoSuchPart, pathString(path))
			}
			p = cont.Parts[n-1]
		case isMsg && n == 1:
			p = cont
		default:
			return nil, fmt.Errorf("%w: %s", ErrNoSuchPart, pathString(path))
		}
		switch {
		case p.IsMessage() && p.Embedded != nil:
			cont, isMsg = p.Embedded, true
		case p.IsMultipart():
			cont, isMsg = p, false
		default:
			cont = nil
		}
	}
	return p, nil
}

// Read returns the section's bytes, filtered for HEADER.FIELDS(.NOT). The
// top header comes from the cached copy when it is complete. It reads the
// whole range into memory: for large bodies use Reader.
func (r SectionRef) Read(ra io.ReaderAt) ([]byte, error) {
	var b []byte
	if r.cached != nil {
		if r.Filtered {
			return FilterHeader(r.cached, r.Fields, r.Not), nil
		}
		return append([]byte(nil), r.cached...), nil
	}
	if r.Length < 0 || r.Offset < 0 {
		return nil, fmt.Errorf("read section: bad range %d+%d", r.Offset, r.Length)
	}
	b = make([]byte, r.Length)
	if n, err := ra.ReadAt(b, r.Offset); n < len(b) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read section at %d+%d: %w", r.Offset, r.Length, err)
	}
	if r.Filtered {
		return FilterHeader(b, r.Fields, r.Not), nil
	}
	return b, nil
}

// Reader streams the section. A filtered section is read and filtered
// first (a header is small); other ranges are streamed from ra.
func (r SectionRef) Reader(ra io.ReaderAt) (io.Reader, error) {
	if r.Filtered || r.cached != nil {
		b, err := r.Read(ra)
		if err != nil {
			return nil, err
		}
		return bytes.NewReader(b), nil
	}
	if r.Length < 0 || r.Offset < 0 {
		return nil, fmt.Errorf("read section: bad range %d+%d", r.Offset, r.Length)
	}
	return io.NewSectionReader(ra, r.Offset, r.Length), nil
}

// FilterHeader returns the fields of header whose names are (not false) or
// are not (not true) in fields, compared case-insensitively, in their
// order with their continuation lines, followed by the blank line (RFC
// 3501 6.4.5: HEADER.FIELDS and HEADER.FIELDS.NOT). header may include its
// blank line and body; filtering stops at the blank line. Lines that are
// not fields are dropped either way, as Cyrus drops them.
func FilterHeader(header []byte, fields []string, not bool) []byte {
	out := make([]byte, 0, 256)
	for i := 0; i < len(header); {
		if header[i] == '\r' || header[i] == '\n' {
			break // the blank line
		}
		j := lineEnd(header, i)
		for j < len(header) && isWSP(header[j]) {
			j = lineEnd(header, j)
		}
		field := header[i:j]
		first := field[:lineEnd(field, 0)]
		if colon := bytes.IndexByte(first, ':'); colon > 0 {
			name := bytes.TrimRight(first[:colon], " \t")
			match := false
			for _, f := range fields {
				if len(f) == len(name) && strings.EqualFold(f, string(name)) {
					match = true
					break
				}
			}
			if match != not {
				out = append(out, field...)
				if field[len(field)-1] != '\n' {
					out = append(out, "\r\n"...)
				}
			}
		}
		i = j
	}
	return append(out, "\r\n"...)
}

// lineEnd returns the index after the LF that ends the line at i.
func lineEnd(b []byte, i int) int {
	if k := bytes.IndexByte(b[i:], '\n'); k >= 0 {
		return i + k + 1
	}
	return len(b)
}
