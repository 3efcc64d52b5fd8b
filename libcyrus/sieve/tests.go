package sieve

import (
	"mime"
	"strings"
)

// test evaluates a test (RFC 5228 section 5 and the extensions). Lists are
// evaluated left to right and stop as soon as the result is known (RFC
// 5229 3.2 requires short-circuiting).
func (r *run) test(t *Node) bool {
	r.step(1)
	switch t.Name {
	case "true":
		return true
	case "false":
		return false
	case "not":
		return !r.test(t.Tests[0])
	case "allof":
		for _, s := range t.Tests {
			if !r.test(s) {
				return false
			}
		}
		return true
	case "anyof":
		for _, s := range t.Tests {
			if r.test(s) {
				return true
			}
		}
		return false
	case "header":
		return r.headerTest(t)
	case "address":
		return r.addressTest(t)
	case "envelope":
		return r.envelopeTest(t)
	case "exists":
		return r.existsTest(t)
	case "size":
		if a, ok := t.Tags["over"]; ok {
			return r.msg.Size() > int64(a.Num)
		}
		return r.msg.Size() < int64(t.Tags["under"].Num)
	case "body":
		return r.bodyTest(t)
	case "date":
		return r.dateTest(t)
	case "currentdate":
		return r.currentDateTest(t)
	case "string":
		// RFC 5229 5: :count counts the non-empty source strings.
		src := r.list(t, 0)
		m := r.newMatcher(t, r.list(t, 1))
		if m.typ == "count" {
			n := 0
			for _, s := range src {
				if s != "" {
					n++
				}
			}
			return m.count(n)
		}
		return m.any(src)
	case "hasflag":
		return r.hasFlag(t)
	case "mailboxexists":
		if r.env.MailboxExists == nil {
			return false
		}
		for _, mb := range r.list(t, 0) {
			if !r.env.MailboxExists(mb) {
				return false
			}
		}
		return true
	case "mailboxidexists":
		if r.env.MailboxIDExists == nil {
			return false
		}
		for _, id := range r.list(t, 0) {
			if !r.env.MailboxIDExists(id) {
				return false
			}
		}
		return true
	case "specialuse_exists":
		if r.env.SpecialUseExists == nil {
			return false
		}
		mb := ""
		if t.Pos[0].Kind != 0 {
			mb = r.str(t, 0)
		}
		return r.env.SpecialUseExists(mb, r.list(t, 1))
	case "metadata":
		if r.env.Metadata == nil {
			return false
		}
		v, ok := r.env.Metadata(r.str(t, 0), r.str(t, 1))
		return r.matchOptional(t, v, ok, r.list(t, 2))
	case "metadataexists":
		if r.env.Metadata == nil {
			return false
		}
		mb := r.str(t, 0)
		for _, e := range r.list(t, 1) {
			if _, ok := r.env.Metadata(mb, e); !ok {
				return false
			}
		}
		return true
	case "servermetadata":
		if r.env.ServerMetadata == nil {
			return false
		}
		v, ok := r.env.ServerMetadata(r.str(t, 0))
		return r.matchOptional(t, v, ok, r.list(t, 1))
	case "servermetadataexists":
		if r.env.ServerMetadata == nil {
			return false
		}
		for _, e := range r.list(t, 0) {
			if _, ok := r.env.ServerMetadata(e); !ok {
				return false
			}
		}
		return true
	case "valid_notify_method":
		for _, u := range r.list(t, 0) {
			if _, err := parseMailto(u); err != nil {
				return false
			}
		}
		return true
	case "notify_method_capability":
		// RFC 5435 6; RFC 5436 2.5: mailto's "online" is "maybe".
		if _, err := parseMailto(r.str(t, 0)); err != nil {
			return false
		}
		if !strings.EqualFold(r.str(t, 1), "online") {
			return false
		}
		return r.newMatcher(t, r.list(t, 2)).any([]string{"maybe"})
	case "duplicate":
		return r.duplicate(t)
	case "environment":
		v, ok := r.environment(strings.ToLower(r.str(t, 0)))
		return r.matchOptional(t, v, ok, r.list(t, 1))
	case "ihave":
		for _, c := range r.list(t, 0) {
			if !r.exts.Has(c) {
				return false
			}
		}
		return true
	case "spamtest":
		return r.newMatcher(t, r.list(t, 0)).any([]string{callOr(r.env.SpamTest, "0")})
	case "virustest":
		return r.newMatcher(t, r.list(t, 0)).any([]string{callOr(r.env.VirusTest, "0")})
	}
	throwf(t.Line, "unknown test %q", t.Name)
	return false
}

func callOr(f func() string, def string) string {
	if f == nil {
		return def
	}
	if v := f(); v != "" {
		return v
	}
	return def
}

// matchOptional matches a value that may be absent: absent is false,
// except that :count counts zero values.
func (r *run) matchOptional(t *Node, v string, ok bool, keys []string) bool {
	m := r.newMatcher(t, keys)
	if !ok {
		if m.typ == "count" {
			return m.count(0)
		}
		return false
	}
	return m.any([]string{v})
}

// environment returns an RFC 5183 item.
func (r *run) environment(name string) (string, bool) {
	if v, ok := r.env.Environment[name]; ok {
		return v, true
	}
	switch name {
	case "location":
		return "MDA", true
	case "phase":
		return "during", true
	case "name":
		return "cyrusgo", true
	}
	return "", false
}

// currentHeader is the header tests look at: the message's (as edited),
// or inside foreverypart the current part's, for :mime tests.
func (r *run) currentHeader(t *Node) []Field {
	if t.tag("mime") && len(r.partStack) > 0 {
		return r.partStack[len(r.partStack)-1].Header
	}
	return r.header
}

// mimeScopes lists the headers a :mime test examines: the current one, or
// with :anychild those of every descendant part (RFC 5703 4).
func (r *run) mimeScopes(t *Node) [][]Field {
	if !t.tag("anychild") {
		return [][]Field{r.currentHeader(t)}
	}
	root := r.currentPart(t)
	if root == nil {
		return nil
	}
	var out [][]Field
	r.walkParts(root, false, func(p *Part) bool {
		out = append(out, p.Header)
		return true
	})
	return out
}

// currentPart is the part foreverypart is at, or the whole message.
func (r *run) currentPart(t *Node) *Part {
	if len(r.partStack) > 0 {
		return r.partStack[len(r.partStack)-1]
	}
	b, err := r.bodyPart()
	if err != nil {
		throwf(t.Line, "%v", err)
	}
	return b
}

// fieldValues returns the raw values of the named fields, in the order of
// names then of the header, restricted by :index/:last (RFC 5260 6).
func (r *run) fieldValues(t *Node, fields []Field, names []string) []string {
	var vals []string
	for _, name := range names {
		for _, f := range fields {
			if f.Name != "" && strings.EqualFold(f.Name, name) {
				vals = append(vals, f.Value)
			}
		}
	}
	r.step(int64(len(fields) * len(names) / 8))
	if a, ok := t.Tags["index"]; ok {
		i := int(a.Num)
		if i < 1 || i > len(vals) || a.Num > uint64(len(vals)) {
			return nil
		}
		if t.tag("last") {
			return []string{vals[len(vals)-i]}
		}
		return []string{vals[i-1]}
	}
	return vals
}

func (r *run) headerTest(t *Node) bool {
	names := r.list(t, 0)
	m := r.newMatcher(t, r.list(t, 1))
	var vals []string
	for _, h := range r.mimeScopes(t) {
		for _, v := range r.fieldValues(t, h, names) {
			vals = append(vals, r.mimeOpts(t, decodeValue(v))...)
		}
	}
	return m.any(vals)
}

// mimeOpts applies :type, :subtype, :contenttype and :param to a
// Content-Type or Content-Disposition value (RFC 5703 4.2).
func (r *run) mimeOpts(t *Node, v string) []string {
	if !t.tag("mime") {
		return []string{v}
	}
	opt := ""
	for _, o := range []string{"type", "subtype", "contenttype", "param"} {
		if t.tag(o) {
			opt = o
		}
	}
	if opt == "" {
		return []string{v}
	}
	mt, params, err := mime.ParseMediaType(v)
	if err != nil {
		if i := strings.IndexByte(v, ';'); i >= 0 {
			mt = strings.ToLower(strings.TrimSpace(v[:i]))
		} else {
			mt = strings.ToLower(strings.TrimSpace(v))
		}
	}
	typ, sub, _ := strings.Cut(mt, "/")
	switch opt {
	case "type":
		return []string{typ}
	case "subtype":
		return []string{sub}
	case "contenttype":
		return []string{mt}
	}
	var out []string
	for _, p := range r.expandAll(t.Tags["param"].Strs) {
		if pv, ok := params[strings.ToLower(p)]; ok {
			out = append(out, pv)
		}
	}
	return out
}

func (r *run) existsTest(t *Node) bool {
	names := r.list(t, 0)
	for _, h := range r.mimeScopes(t) {
		all := true
		for _, name := range names {
			found := false
			for _, f := range h {
				if f.Name != "" && strings.EqualFold(f.Name, name) {
					found = true
					break
				}
			}
			if !found {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func (r *run) addressTest(t *Node) bool {
	names := r.list(t, 0)
	m := r.newMatcher(t, r.list(t, 1))
	var vals []string
	for _, h := range r.mimeScopes(t) {
		for _, v := range r.fieldValues(t, h, names) {
			for _, a := range parseAddresses(unfold(v)) {
				if p, ok := addressPart(a, t.AddrPart); ok {
					vals = append(vals, p)
				}
			}
		}
	}
	return m.any(vals)
}

// envelopeTest is RFC 5228 5.4. The null reverse-path matches as the
// empty string whatever the address part.
func (r *run) envelopeTest(t *Node) bool {
	m := r.newMatcher(t, r.list(t, 1))
	var vals []string
	for _, part := range r.list(t, 0) {
		switch strings.ToLower(part) {
		case "from":
			if r.env.Envelope.From == "" {
				vals = append(vals, "")
			} else if p, ok := addressPart(r.env.Envelope.From, t.AddrPart); ok {
				vals = append(vals, p)
			}
		case "to":
			if r.env.Envelope.To != "" {
				if p, ok := addressPart(r.env.Envelope.To, t.AddrPart); ok {
					vals = append(vals, p)
				}
			}
		case "auth":
			if r.env.Envelope.Auth != "" {
				if p, ok := addressPart(r.env.Envelope.Auth, t.AddrPart); ok {
					vals = append(vals, p)
				}
			}
		default:
			throwf(t.Line, "envelope: unknown envelope part %q", part)
		}
	}
	return m.any(vals)
}

// duplicate is RFC 7352. Results are remembered for the run, so identical
// tests agree (section 3), and records are returned for the caller to
// store once the delivery succeeded.
func (r *run) duplicate(t *Node) bool {
	id, ok := r.tagStr(t, "uniqueid")
	if !ok {
		name := "Message-ID"
		if h, ok := r.tagStr(t, "header"); ok {
			if !validFieldName(h) {
				return false
			}
			name = h
		}
		vals := r.fieldValues(&Node{}, r.header, []string{name})
		if len(vals) == 0 {
			return false
		}
		id = decodeValue(vals[0])
	}
	handle, _ := r.tagStr(t, "handle")
	key := handle + "\x00" + id
	if seen, ok := r.dupSeen[key]; ok {
		return seen
	}
	seen := false
	if r.env.Duplicate != nil {
		var err error
		if seen, err = r.env.Duplicate(handle, id); err != nil {
			r.note("duplicate: %v", err)
			seen = false
		}
	}
	r.dupSeen[key] = seen
	expiry := defaultDuplicateCheck
	if a, ok := t.Tags["seconds"]; ok {
		expiry = secondsDuration(a.Num)
	}
	max := r.env.DuplicateMax
	if max <= 0 {
		max = DefaultDuplicateMax
	}
	expiry = min(expiry, max)
	r.dups = append(r.dups, DuplicateRecord{Handle: handle, ID: id, Expiry: expiry, Last: t.tag("last")})
	return seen
}

func (r *run) hasFlag(t *Node) bool {
	var have []string
	if t.Pos[0].Kind != 0 {
		for _, name := range t.Pos[0].Strs {
			have = append(have, strings.Fields(r.lookup(name))...)
		}
	} else {
		have = r.flags
	}
	var keys []string
	for _, k := range r.list(t, 1) {
		keys = append(keys, strings.Fields(k)...)
	}
	m := r.newMatcher(t, keys)
	if m.typ == "count" {
		return m.count(len(normalizeFlags(have)))
	}
	return m.any(normalizeFlags(have))
}
