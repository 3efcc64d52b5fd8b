package sieve

import (
	"strings"
	"unicode/utf8"
)

// bodyPart returns the MIME structure, parsed once per run.
func (r *run) bodyPart() (*Part, error) {
	if !r.bodyDone {
		r.bodyDone = true
		r.body, r.bodyErr = r.msg.Body()
		if r.body == nil && r.bodyErr == nil {
			r.body = &Part{Header: r.header, Type: "text", Subtype: "plain"}
		}
	}
	return r.body, r.bodyErr
}

// walkParts visits the descendants of p (and p itself when self) in
// order, depth first, until visit returns false. Every part counts
// against Limits.MaxParts.
func (r *run) walkParts(p *Part, self bool, visit func(*Part) bool) bool {
	if self {
		r.nParts++
		if r.nParts > r.lim.MaxParts*8 {
			throwf(0, "too many MIME parts visited")
		}
		r.step(1)
		if !visit(p) {
			return false
		}
	}
	for i, c := range p.Parts {
		if i >= r.lim.MaxParts {
			break
		}
		if !r.walkParts(c, true, visit) {
			return false
		}
	}
	return true
}

// bodyTest is RFC 5173.
func (r *run) bodyTest(t *Node) bool {
	m := r.newMatcher(t, r.list(t, 0))
	root, err := r.bodyPart()
	if err != nil {
		throwf(t.Line, "body: %v", err)
	}
	budget := r.lim.MaxBodyBytes
	var vals []string
	take := func(s string, err error) {
		if err != nil {
			throwf(t.Line, "body: %v", err)
		}
		budget -= int64(len(s))
		r.step(int64(len(s)) / 16)
		vals = append(vals, s)
	}
	switch {
	case t.tag("raw"):
		// 5.1: the whole undecoded body, MIME structure ignored.
		take(root.raw(budget))
	default:
		types := []string{"text"}
		if a, ok := t.Tags["content"]; ok {
			types = r.expandAll(a.Strs)
		}
		r.walkParts(root, true, func(p *Part) bool {
			if budget <= 0 || !contentMatches(types, p) {
				return true
			}
			switch {
			case p.Type == "multipart":
				// 5.2: only the prologue and epilogue of a multipart.
				raw, err := p.raw(budget)
				if err != nil {
					take("", err)
				}
				pro, epi := prologueEpilogue(raw, p.Params["boundary"])
				take(pro, nil)
				take(epi, nil)
			case p.Type == "message" && p.Subtype == "rfc822":
				// 5.2: only the header of the encapsulated message.
				if len(p.Parts) > 0 {
					var b strings.Builder
					for _, f := range p.Parts[0].Header {
						b.Write(f.Bytes())
					}
					take(b.String(), nil)
				}
			default:
				take(p.content(budget))
			}
			return true
		})
	}
	return m.any(vals)
}

// contentMatches applies a :content list to a part (RFC 5173 5.2).
func contentMatches(types []string, p *Part) bool {
	for _, ct := range types {
		ct = strings.ToLower(ct)
		if ct == "" {
			return true
		}
		if strings.HasPrefix(ct, "/") || strings.HasSuffix(ct, "/") || strings.Count(ct, "/") > 1 {
			continue
		}
		typ, sub, full := strings.Cut(ct, "/")
		if typ == p.Type && (!full || sub == p.Subtype) {
			return true
		}
	}
	return false
}

// prologueEpilogue splits a multipart body around its parts.
func prologueEpilogue(body, boundary string) (string, string) {
	if boundary == "" {
		return body, ""
	}
	delim := "--" + boundary
	pro, epi := body, ""
	if i := indexLineStart(body, delim); i >= 0 {
		pro = strings.TrimSuffix(strings.TrimSuffix(body[:i], "\n"), "\r")
	}
	if i := indexLineStart(body, delim+"--"); i >= 0 {
		rest := body[i+len(delim)+2:]
		if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
			epi = rest[nl+1:]
		}
	}
	return pro, epi
}

// indexLineStart finds s at the start of a line.
func indexLineStart(body, s string) int {
	for off := 0; ; {
		i := strings.Index(body[off:], s)
		if i < 0 {
			return -1
		}
		i += off
		if i == 0 || body[i-1] == '\n' {
			return i
		}
		off = i + 1
	}
}

// forEveryPart runs the block for each part below the current one (RFC
// 5703 3), with tests using :mime looking at that part.
func (r *run) forEveryPart(c *Node) flow {
	root := r.currentPart(c)
	name, _ := r.tagStr(c, "name")
	result := flowNext
	r.walkParts(root, false, func(p *Part) bool {
		r.partStack = append(r.partStack, p)
		f := r.execBlock(c.Block)
		r.partStack = r.partStack[:len(r.partStack)-1]
		switch f {
		case flowNext:
			return true
		case flowBreak:
			if r.breakName == "" || r.breakName == name {
				r.breakName = ""
				return false
			}
		}
		result = f
		return false
	})
	return result
}

// extractText is RFC 5703 7: the current part's text, the first :first
// characters of it, into a variable.
func (r *run) extractText(c *Node) {
	text := ""
	if len(r.partStack) > 0 {
		p := r.partStack[len(r.partStack)-1]
		if p.Type == "text" {
			s, err := p.content(int64(r.lim.MaxVariableSize) * 4)
			if err != nil {
				throwf(c.Line, "extracttext: %v", err)
			}
			text = s
		}
	}
	if a, ok := c.Tags["first"]; ok && a.Num < uint64(utf8.RuneCountInString(text)) {
		n := int(a.Num)
		for i := range text {
			if n == 0 {
				text = text[:i]
				break
			}
			n--
		}
	}
	r.setVar(c.Line, c.Pos[0].Strs[0], applyModifiers(text, c.Tags))
}
