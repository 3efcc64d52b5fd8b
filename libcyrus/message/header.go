package message

import (
	"bytes"
	"strconv"
	"strings"
)

// headerParser collects the fields of one header as its lines stream by and
// interprets those that BODYSTRUCTURE and ENVELOPE need.
type headerParser struct {
	p    *parser
	part *Part
	msg  bool // a message: envelope fields count
	root bool // the top message: References and the header copy too

	field   []byte
	drop    bool // the current field is over MaxHeaderBytes
	size    int
	skip    bool // MaxHeaderBytes or MaxSummaryBytes reached
	typeSet bool

	// The copy of the top header, cut back to whole fields if it outgrows
	// MaxCachedHeader.
	copyFull   bool
	fieldStart int
}

// add takes one header line or piece of a line.
func (h *headerParser) add(c chunk) {
	if h.root && !h.copyFull {
		s := h.p.sum
		if c.start && !isWSP(c.b[0]) {
			h.fieldStart = len(s.Header)
		}
		if len(s.Header)+len(c.b) > h.p.opts.MaxCachedHeader {
			h.copyFull = true
			s.Header = s.Header[:h.fieldStart]
		} else {
			s.Header = append(s.Header, c.b...)
		}
	}
	if c.start && !isWSP(c.b[0]) {
		h.flush()
		h.field, h.drop = h.field[:0], false
	}
	h.size += len(c.b)
	if h.size > h.p.opts.MaxHeaderBytes {
		if !h.skip {
			h.skip = true
			h.p.limited = true
		}
		return
	}
	if !h.drop && !h.skip {
		h.field = append(h.field, c.b...)
	}
}

// finish interprets the last field and settles the header copy.
func (h *headerParser) finish() {
	h.flush()
	if h.root {
		s := h.p.sum
		s.HeaderComplete = !h.copyFull && int64(len(s.Header)) == s.Root.HeaderLen
		if len(s.Header) == 0 {
			s.Header = nil
		}
	}
}

// flush interprets the field collected so far.
func (h *headerParser) flush() {
	if h.skip || h.drop || len(h.field) == 0 || h.p.budget < 0 {
		return
	}
	f := h.field
	colon := bytes.IndexByte(f, ':')
	if colon <= 0 {
		return // not a field (an mbox "From " line, garbage)
	}
	name := bytes.TrimRight(f[:colon], " \t")
	if len(name) == 0 || len(name) > 32 {
		return
	}
	var lower [32]byte
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	value := trimEOL(f[colon+1:])
	part := h.part
	env := part.Envelope
	retained := true
	switch string(lower[:len(name)]) {
	case "content-type":
		typ, sub, params, ok := parseContentType(value)
		h.typeSet = ok
		part.Type, part.Subtype, part.Params = typ, sub, params
	case "content-transfer-encoding":
		part.Encoding = parseEncoding(value)
	case "content-id":
		part.ID = Str(rawString(value))
	case "content-description":
		part.Description = Str(rawString(value))
	case "content-md5":
		part.MD5 = Str(rawString(value))
	case "content-location":
		part.Location = Str(rawString(value))
	case "content-disposition":
		part.Disposition, part.DispositionParams = parseDisposition(value)
	case "content-language":
		part.Language = parseLanguage(value)
	default:
		retained = h.msg && h.envelopeField(string(lower[:len(name)]), value, env)
	}
	if retained {
		h.p.budget -= len(value)
		if h.p.budget < 0 {
			h.skip = true
			h.p.limited = true
		}
	}
}

// envelopeField interprets the fields of RFC 3501 7.4.2.
func (h *headerParser) envelopeField(name string, value []byte, env *Envelope) bool {
	switch name {
	case "date":
		env.Date = Str(rawString(value))
	case "subject":
		env.Subject = Str(rawString(value))
	case "from":
		env.From = ParseAddressList(string(value))
	case "sender":
		env.Sender = ParseAddressList(string(value))
	case "reply-to":
		env.ReplyTo = ParseAddressList(string(value))
	case "to":
		env.To = ParseAddressList(string(value))
	case "cc":
		env.Cc = ParseAddressList(string(value))
	case "bcc":
		env.Bcc = ParseAddressList(string(value))
	case "in-reply-to":
		env.InReplyTo = Str(rawString(value))
	case "message-id":
		env.MessageID = Str(rawString(value))
	case "references":
		if !h.root {
			return false
		}
		h.p.refs = append(h.p.refs[:0], value...)
	default:
		return false
	}
	return true
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// trimEOL drops the line break that ends a field.
func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// rawString is an unstructured field value as IMAP reports it: leading
// blanks dropped, folding line breaks removed (RFC 5322 2.2.3), nothing
// decoded.
func rawString(v []byte) string {
	for len(v) > 0 && isWSP(v[0]) {
		v = v[1:]
	}
	return unfold(string(v))
}

// unfold removes the CRLF (or LF) of folded lines, keeping the blank that
// follows.
func unfold(s string) string {
	if strings.IndexByte(s, '\n') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n':
			i++
		case s[i] == '\n':
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// isTSpecial: RFC 2045 5.1 tspecials.
func isTSpecial(c byte) bool {
	return strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0
}

// skipCFWS skips blanks, folding line breaks and comments (RFC 5322 3.2.2).
func skipCFWS(v []byte, i int) int {
	for i < len(v) {
		switch c := v[i]; {
		case isSpace(c):
			i++
		case c == '(':
			depth := 0
			for ; i < len(v); i++ {
				switch v[i] {
				case '\\':
					i++
				case '(':
					depth++
				case ')':
					depth--
				}
				if depth == 0 {
					break
				}
			}
			i++
		default:
			return i
		}
	}
	return min(i, len(v))
}

// token reads an RFC 2045 token up to a blank or one of stops. ok is false
// when a character that cannot be in a token comes first.
func token(v []byte, i int, stops string) (tok []byte, j int, ok bool) {
	j = i
	for j < len(v) && !isSpace(v[j]) && strings.IndexByte(stops, v[j]) < 0 {
		c := v[j]
		if c <= ' ' || c >= 0x7f || isTSpecial(c) {
			return nil, j, false
		}
		j++
	}
	return v[i:j], j, true
}

func upper(b []byte) string {
	buf := make([]byte, len(b))
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	return string(buf)
}

// parseContentType parses RFC 2045 5.1 "type/subtype *(; parameter)". A
// malformed value is ignored (ok false), and the default type applies.
func parseContentType(v []byte) (typ, sub string, params []Param, ok bool) {
	i := skipCFWS(v, 0)
	t, i, ok := token(v, i, "/(")
	if !ok || len(t) == 0 {
		return "", "", nil, false
	}
	i = skipCFWS(v, i)
	if i >= len(v) || v[i] != '/' {
		return "", "", nil, false
	}
	i = skipCFWS(v, i+1)
	st, i, ok := token(v, i, ";(")
	if !ok || len(st) == 0 {
		return "", "", nil, false
	}
	i = skipCFWS(v, i)
	if i < len(v) {
		if v[i] != ';' {
			return "", "", nil, false
		}
		params = parseParams(v, i+1)
	}
	return upper(t), upper(st), params, true
}

// parseDisposition parses RFC 2183 "disposition-type *(; parameter)".
func parseDisposition(v []byte) (string, []Param) {
	i := skipCFWS(v, 0)
	t, i, ok := token(v, i, ";(")
	if !ok || len(t) == 0 {
		return "", nil
	}
	i = skipCFWS(v, i)
	var params []Param
	if i < len(v) {
		if v[i] != ';' {
			return "", nil
		}
		params = parseParams(v, i+1)
	}
	return upper(t), params
}

// parseEncoding parses RFC 2045 6.1 mechanism; "" when malformed.
func parseEncoding(v []byte) string {
	i := skipCFWS(v, 0)
	t, i, ok := token(v, i, "(")
	if !ok || len(t) == 0 || skipCFWS(v, i) < len(v) {
		return ""
	}
	return upper(t)
}

// parseLanguage parses RFC 3282 Content-Language, a list of language tags.
// Like Cyrus it stops at the first malformed tag.
func parseLanguage(v []byte) []string {
	var tags []string
	i := 0
	for {
		i = skipCFWS(v, i)
		if i >= len(v) {
			return tags
		}
		j := i
		for j < len(v) && !isSpace(v[j]) && v[j] != ',' && v[j] != '(' {
			c := v[j] | 0x20
			if v[j] != '-' && (c < 'a' || c > 'z') && (v[j] < '0' || v[j] > '9') {
				return tags
			}
			j++
		}
		tag := v[i:j]
		i = skipCFWS(v, j)
		if i < len(v) {
			if v[i] != ',' {
				return tags
			}
			i++
		}
		if len(tag) > 0 {
			tags = append(tags, upper(tag))
		}
	}
}

// parseParams parses "attribute=value" pairs separated by ";" (RFC 2045
// 5.1), skipping malformed ones as Cyrus does, then folds RFC 2231
// continuations.
func parseParams(v []byte, i int) []Param {
	var params []Param
	for {
		i = skipCFWS(v, i)
		if i >= len(v) {
			break
		}
		attr, j, ok := token(v, i, "=(")
		if !ok || len(attr) == 0 {
			i = skipParam(v, j)
			continue
		}
		j = skipCFWS(v, j)
		if j >= len(v) {
			break
		}
		if v[j] != '=' {
			i = skipParam(v, j)
			continue
		}
		j = skipCFWS(v, j+1)
		if j >= len(v) {
			break
		}
		var value string
		if v[j] == '"' {
			var b []byte
			j++
			for j < len(v) && v[j] != '"' {
				c := v[j]
				if c == '\\' && j+1 < len(v) {
					j++
					c = v[j]
				}
				if c != '\r' && c != '\n' {
					b = append(b, c)
				}
				j++
			}
			if j >= len(v) {
				break // unterminated quoted string
			}
			j++
			value = string(b)
		} else {
			tok, k, ok := token(v, j, ";(")
			if !ok {
				i = skipParam(v, k)
				continue
			}
			value, j = string(tok), k
		}
		j = skipCFWS(v, j)
		if j < len(v) && v[j] != ';' {
			i = skipParam(v, j)
			continue
		}
		params = append(params, Param{Name: upper(attr), Value: value})
		i = j + 1
	}
	return foldParams(params)
}

// skipParam moves past a malformed parameter: to the next ";" or line.
func skipParam(v []byte, i int) int {
	for i < len(v) && v[i] != ';' && v[i] != '\r' && v[i] != '\n' {
		i++
	}
	if i < len(v) && v[i] == ';' {
		i++
	}
	return i
}

// foldParams joins RFC 2231 3 continuations: NAME*0, NAME*1, ... (and the
// extended NAME*0*, NAME*1*, ...) become one NAME (or NAME*) parameter. The
// extended form stays percent-encoded; a plain section joined to an
// extended one is encoded to match (RFC 2231 4), as Cyrus does.
func foldParams(ps []Param) []Param {
	if len(ps) < 2 {
		return ps
	}
	hasCont := false
	for _, p := range ps {
		if strings.Contains(p.Name, "*") {
			hasCont = true
			break
		}
	}
	if !hasCont {
		return ps
	}
	index := make(map[string]int, len(ps))
	for i, p := range ps {
		if strings.IndexByte(p.Name, '*') >= 0 {
			if _, dup := index[p.Name]; !dup {
				index[p.Name] = i
			}
		}
	}
	removed := make([]bool, len(ps))
	for i := range ps {
		if removed[i] {
			continue
		}
		name := ps[i].Name
		star := strings.IndexByte(name, '*')
		if star < 0 || (name[star:] != "*0" && name[star:] != "*0*") {
			continue
		}
		base, ext := name[:star], name[star:] == "*0*"
		value := ps[i].Value
		for sec := 1; sec < 100; sec++ {
			key := base + "*" + strconv.Itoa(sec)
			j, found := index[key]
			contExt := false
			if !found || removed[j] {
				j, found = index[key+"*"]
				contExt = true
			}
			if !found || removed[j] {
				break
			}
			switch {
			case !contExt && ext:
				value += percentEncode(ps[j].Value)
			case !contExt:
				value += ps[j].Value
			case ext:
				value += ps[j].Value
			default:
				value = "''" + percentEncode(value) + ps[j].Value
				ext = true
			}
			removed[j] = true
		}
		if ext {
			ps[i].Name = base + "*"
		} else {
			ps[i].Name = base
		}
		ps[i].Value = value
	}
	out := ps[:0]
	for i, p := range ps {
		if !removed[i] {
			out = append(out, p)
		}
	}
	return out
}

// percentEncode encodes a value for an RFC 2231 extended parameter.
func percentEncode(s string) string {
	const hexdig = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '*' || c == '\'' || c == '%' || isTSpecial(c) {
			b.WriteByte('%')
			b.WriteByte(hexdig[c>>4])
			b.WriteByte(hexdig[c&15])
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// parseMsgIDs returns the msg-ids (RFC 5322 3.6.4) of a Message-ID,
// In-Reply-To or References value, each "<...>" with blanks and folding
// removed. Comments and quoted phrases (obsolete syntax) are skipped. A
// value with no angle brackets but one word is taken as that id.
func parseMsgIDs(v string) []string {
	var ids []string
	var vb []byte
	for i := 0; i < len(v); {
		switch v[i] {
		case '(':
			if vb == nil {
				vb = []byte(v)
			}
			i = skipCFWS(vb, i)
		case '"':
			i++
			for i < len(v) && v[i] != '"' {
				if v[i] == '\\' {
					i++
				}
				i++
			}
			i++
		case '<':
			end := strings.IndexByte(v[i:], '>')
			if end < 0 {
				return ids
			}
			id := v[i : i+end+1]
			if strings.ContainsAny(id, " \t\r\n") {
				id = strings.Map(func(r rune) rune {
					if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
						return -1
					}
					return r
				}, id)
			}
			if len(id) > 2 {
				ids = append(ids, id)
			}
			i += end + 1
		default:
			i++
		}
	}
	if ids == nil {
		if f := strings.Fields(v); len(f) == 1 {
			ids = append(ids, f[0])
		}
	}
	return ids
}
