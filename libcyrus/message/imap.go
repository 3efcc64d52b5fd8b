package message

import "strconv"

// maxQuoted is the length from which Cyrus always sends a literal.
const maxQuoted = 1024

// AppendString appends s as an IMAP string (RFC 3501 4.3): a quoted string
// when that is safe, otherwise a literal "{n}\r\n" followed by the bytes.
// It makes the choice Cyrus makes, so that output matches byte for byte: a
// literal for 1024 bytes or more, or for any NUL, CR, LF, 8-bit byte, '"',
// '\' or '%' (Cyrus never uses quoted-pair escapes).
func AppendString(dst []byte, s string) []byte {
	if needsLiteral(s) {
		dst = append(dst, '{')
		dst = strconv.AppendInt(dst, int64(len(s)), 10)
		dst = append(dst, "}\r\n"...)
		return append(dst, s...)
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// AppendNString appends s as an IMAP nstring: NIL or a string.
func AppendNString(dst []byte, s NString) []byte {
	if !s.Valid {
		return append(dst, "NIL"...)
	}
	return AppendString(dst, s.S)
}

func needsLiteral(s string) bool {
	if len(s) >= maxQuoted {
		return true
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == 0, c >= 0x80, c == '\r', c == '\n', c == '"', c == '\\', c == '%':
			return true
		}
	}
	return false
}

// Envelope returns the ENVELOPE of the message (RFC 3501 7.4.2).
func (s *Summary) Envelope() []byte {
	return s.Root.Envelope.AppendTo(nil)
}

// BodyStructure returns BODYSTRUCTURE (extended) or BODY (RFC 3501 7.4.2).
func (s *Summary) BodyStructure(extended bool) []byte {
	return s.Root.AppendBodyStructure(nil, extended)
}

// AppendTo appends the parenthesised envelope (RFC 3501 section 9
// "envelope"). Sender and Reply-To default to From when absent or empty
// (RFC 3501 7.4.2). A nil envelope is all NIL.
func (e *Envelope) AppendTo(dst []byte) []byte {
	if e == nil {
		e = &Envelope{}
	}
	dst = append(dst, '(')
	dst = AppendNString(dst, e.Date)
	dst = append(dst, ' ')
	dst = AppendNString(dst, e.Subject)
	dst = append(dst, ' ')
	dst = appendAddrs(dst, e.From)
	dst = append(dst, ' ')
	dst = appendAddrs(dst, orFrom(e.Sender, e.From))
	dst = append(dst, ' ')
	dst = appendAddrs(dst, orFrom(e.ReplyTo, e.From))
	dst = append(dst, ' ')
	dst = appendAddrs(dst, e.To)
	dst = append(dst, ' ')
	dst = appendAddrs(dst, e.Cc)
	dst = append(dst, ' ')
	dst = appendAddrs(dst, e.Bcc)
	dst = append(dst, ' ')
	dst = AppendNString(dst, e.InReplyTo)
	dst = append(dst, ' ')
	dst = AppendNString(dst, e.MessageID)
	return append(dst, ')')
}

func orFrom(list, from []Address) []Address {
	if len(list) == 0 {
		return from
	}
	return list
}

func appendAddrs(dst []byte, list []Address) []byte {
	if len(list) == 0 {
		return append(dst, "NIL"...)
	}
	dst = append(dst, '(')
	for _, a := range list {
		dst = append(dst, '(')
		dst = AppendNString(dst, a.Name)
		dst = append(dst, ' ')
		dst = AppendNString(dst, a.ADL)
		dst = append(dst, ' ')
		dst = AppendNString(dst, a.Mailbox)
		dst = append(dst, ' ')
		dst = AppendNString(dst, a.Host)
		dst = append(dst, ')')
	}
	return append(dst, ')')
}

func appendParams(dst []byte, ps []Param) []byte {
	if len(ps) == 0 {
		return append(dst, "NIL"...)
	}
	dst = append(dst, '(')
	for i, p := range ps {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = AppendString(dst, p.Name)
		dst = append(dst, ' ')
		dst = AppendString(dst, p.Value)
	}
	return append(dst, ')')
}

// appendExt appends body-fld-dsp SP body-fld-lang SP body-fld-loc, which
// Cyrus always sends in full, the language as a list even with one tag.
func (p *Part) appendExt(dst []byte) []byte {
	if p.Disposition != "" {
		dst = append(dst, '(')
		dst = AppendString(dst, p.Disposition)
		dst = append(dst, ' ')
		dst = appendParams(dst, p.DispositionParams)
		dst = append(dst, ')')
	} else {
		dst = append(dst, "NIL"...)
	}
	dst = append(dst, ' ')
	if len(p.Language) > 0 {
		dst = append(dst, '(')
		for i, l := range p.Language {
			if i > 0 {
				dst = append(dst, ' ')
			}
			dst = AppendString(dst, l)
		}
		dst = append(dst, ')')
	} else {
		dst = append(dst, "NIL"...)
	}
	dst = append(dst, ' ')
	return AppendNString(dst, p.Location)
}

// zeroText stands for a multipart without parts, which the grammar cannot
// express: Cyrus reports an empty text/plain.
func zeroText() *Part {
	p := &Part{}
	setTextPlain(p)
	return p
}

// AppendBodyStructure appends p as RFC 3501 section 9 "body": BODY when
// extended is false, BODYSTRUCTURE (with body-ext-1part / body-ext-mpart,
// always complete, as Cyrus sends them) when true.
func (p *Part) AppendBodyStructure(dst []byte, extended bool) []byte {
	if p.Type == "MULTIPART" {
		if len(p.Parts) == 0 {
			return zeroText().AppendBodyStructure(dst, extended)
		}
		// body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
		dst = append(dst, '(')
		for _, c := range p.Parts {
			dst = c.AppendBodyStructure(dst, extended)
		}
		dst = append(dst, ' ')
		dst = AppendString(dst, p.Subtype)
		if extended {
			dst = append(dst, ' ')
			dst = appendParams(dst, p.Params)
			dst = append(dst, ' ')
			dst = p.appendExt(dst)
		}
		return append(dst, ')')
	}
	// body-type-1part: body-fields are type, subtype, params, id,
	// description, encoding, octets.
	dst = append(dst, '(')
	dst = AppendString(dst, p.Type)
	dst = append(dst, ' ')
	dst = AppendString(dst, p.Subtype)
	dst = append(dst, ' ')
	dst = appendParams(dst, p.Params)
	dst = append(dst, ' ')
	dst = AppendNString(dst, p.ID)
	dst = append(dst, ' ')
	dst = AppendNString(dst, p.Description)
	dst = append(dst, ' ')
	enc := p.Encoding
	if enc == "" {
		enc = "7BIT"
	}
	dst = AppendString(dst, enc)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, p.BodyLen, 10)
	switch {
	case p.Type == "TEXT":
		// body-type-text adds body-fld-lines.
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, p.Lines, 10)
	case p.IsMessage():
		// body-type-msg adds envelope, body and body-fld-lines.
		emb := p.Embedded
		if emb == nil {
			emb = zeroText()
		}
		dst = append(dst, ' ')
		dst = emb.Envelope.AppendTo(dst)
		dst = append(dst, ' ')
		dst = emb.AppendBodyStructure(dst, extended)
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, p.Lines, 10)
	}
	if extended {
		dst = append(dst, ' ')
		dst = AppendNString(dst, p.MD5)
		dst = append(dst, ' ')
		dst = p.appendExt(dst)
	}
	return append(dst, ')')
}
