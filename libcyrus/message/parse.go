package message

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
)

// Defaults for Options fields left zero.
const (
	DefaultMaxHeaderBytes  = 1 << 20
	DefaultMaxDepth        = 100
	DefaultMaxParts        = 10000
	DefaultMaxCachedHeader = 64 << 10
	DefaultMaxSummaryBytes = 4 << 20

	// maxDepthLimit caps Options.MaxDepth so that every Summary Parse
	// makes can be read back by Unmarshal (maxDecodeDepth).
	maxDepthLimit = 1000
	// maxBoundaryLen: RFC 2046 5.1.1 allows 70 characters; longer ones
	// are accepted up to the RFC 5322 line limit, beyond that the
	// multipart is treated as having no boundary.
	maxBoundaryLen = 998
)

// Options bound the work Parse does on hostile input. Zero fields take the
// defaults above.
type Options struct {
	// MaxHeaderBytes bounds the header bytes examined per part; the rest
	// of a longer header is skipped (its offsets stay exact).
	MaxHeaderBytes int
	// MaxDepth bounds MIME nesting (multipart and message/rfc822 both
	// count). A multipart or message/rfc822 deeper than this is reported
	// as an opaque text/plain part. Capped at 1000.
	MaxDepth int
	// MaxParts bounds the number of entities (the message, its parts and
	// encapsulated messages). The last one allowed runs to the end of the
	// message: no boundary is recognised past it.
	MaxParts int
	// MaxCachedHeader bounds Summary.Header; negative keeps no copy.
	MaxCachedHeader int
	// MaxSummaryBytes bounds the header text kept over all parts
	// (parameters, descriptions, envelope fields); past it further fields
	// are ignored.
	MaxSummaryBytes int
}

func (o Options) withDefaults() Options {
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxDepth > maxDepthLimit {
		o.MaxDepth = maxDepthLimit
	}
	if o.MaxParts <= 0 {
		o.MaxParts = DefaultMaxParts
	}
	switch {
	case o.MaxCachedHeader == 0:
		o.MaxCachedHeader = DefaultMaxCachedHeader
	case o.MaxCachedHeader < 0:
		o.MaxCachedHeader = 0
	}
	if o.MaxSummaryBytes <= 0 {
		o.MaxSummaryBytes = DefaultMaxSummaryBytes
	}
	return o
}

// defaultType is the type of an entity without a (valid) Content-Type.
type defaultType int

const (
	// RFC 2045 5.2, with the charset parameter Cyrus reports.
	defaultText defaultType = iota
	// RFC 2046 5.1.5: the parts of a multipart/digest.
	defaultMessage
)

func (d defaultType) apply(p *Part) {
	if d == defaultMessage {
		p.Type, p.Subtype, p.Params = "MESSAGE", "RFC822", nil
		return
	}
	setTextPlain(p)
}

func setTextPlain(p *Part) {
	p.Type, p.Subtype = "TEXT", "PLAIN"
	p.Params = []Param{{Name: "CHARSET", Value: "us-ascii"}}
}

// event says how an entity ended: at the end of the input, or at a
// boundary line of an enclosing multipart, which has been consumed.
type event struct {
	boundary bool
	level    int  // index in parser.bounds of the boundary that matched
	close    bool // it was the close delimiter "--b--"
	lineOff  int64
	lfs      int64
	prevTerm int
	// keepBreak: the boundary follows a close delimiter directly (no
	// epilogue); Cyrus then leaves the close delimiter's line break in
	// the multipart, and so do we, to report the same sizes.
	keepBreak bool
	// floor is where the innermost entity that ended here ends; the
	// entities around it end no earlier.
	floor int64
}

// bodyEnd returns where a body that starts at start (with startLFs line
// feeds before it) ends, and its line count. RFC 2046 5.1.1: the line
// break before a boundary delimiter belongs to the delimiter.
func (ev event) bodyEnd(start, startLFs int64) (end, lines int64) {
	end, lfs := ev.lineOff, ev.lfs
	if ev.boundary && !ev.keepBreak && ev.prevTerm > 0 && end-int64(ev.prevTerm) >= max(start, ev.floor) {
		end -= int64(ev.prevTerm)
		lfs--
	}
	return end, lfs - startLFs
}

type parser struct {
	lr      *lineReader
	opts    Options
	sum     *Summary
	bounds  []string // pending boundaries, outermost first
	nparts  int
	budget  int
	limited bool
	// stopped: MaxParts was reached; boundaries are no longer recognised.
	stopped bool
	refs    []byte // raw References of the top message
}

// Parse reads one message from r and summarises it. r yields the message
// as stored: RFC 5322 with CRLF line breaks (bare LF is accepted and noted
// in BareLF). Only a read error fails; malformed MIME never does.
func Parse(r io.Reader, opts Options) (*Summary, error) {
	h := sha1.New()
	p := &parser{lr: newLineReader(io.TeeReader(r, h)), opts: opts.withDefaults()}
	p.budget = p.opts.MaxSummaryBytes
	s := &Summary{Root: &Part{Envelope: &Envelope{}}}
	p.sum = s
	if _, err := p.parseEntity(s.Root, defaultText, 0, true); err != nil {
		return nil, fmt.Errorf("parse message at offset %d: %w", p.lr.off, err)
	}
	s.Size = p.lr.off
	s.GUID = hex.EncodeToString(h.Sum(nil))
	s.BareLF = p.lr.bareLF
	s.Limited = p.limited
	p.summarise()
	return s, nil
}

// summarise fills the fields SEARCH, SORT and THREAD use.
func (p *parser) summarise() {
	s := p.sum
	env := s.Root.Envelope
	if env.Subject.Valid {
		s.Subject = decodeHeader(unfold(env.Subject.S))
	}
	// Extracted from the raw value: step (1) of RFC 5256 2.1 decodes,
	// and decoding twice could turn text into encoded-words.
	s.BaseSubject = BaseSubject(env.Subject.S)
	if env.Date.Valid {
		s.Date, _ = ParseDate(env.Date.S)
	}
	if ids := parseMsgIDs(env.MessageID.S); len(ids) > 0 {
		s.MessageID = ids[0]
	}
	s.InReplyTo = parseMsgIDs(env.InReplyTo.S)
	s.References = parseMsgIDs(string(p.refs))
	s.From = sortAddr(env.From)
	s.To = sortAddr(env.To)
	s.Cc = sortAddr(env.Cc)
}

func sortAddr(list []Address) SortAddr {
	for _, a := range list {
		if a.Host.Valid {
			return SortAddr{Name: decodeHeader(a.Name.S), Mailbox: a.Mailbox.S, Host: a.Host.S}
		}
	}
	return SortAddr{}
}

// match reports whether a line-start chunk is a boundary delimiter of a
// pending multipart (RFC 2046 5.1.1), innermost first, and updates the
// pending list: a delimiter of an outer multipart also ends every inner
// one; a close delimiter ends its own multipart too.
func (p *parser) match(b []byte) (level int, closing, ok bool) {
	if len(b) < 2 || b[0] != '-' || b[1] != '-' || len(p.bounds) == 0 {
		return 0, false, false
	}
	rest := b[2:]
	defer func() {
		// Cyrus counts a boundary line that ends the input without a
		// line break as a line; so do we, to report the same line
		// counts for the parts that contain it.
		if ok && b[len(b)-1] != '\n' && p.lr.eof {
			p.lr.lfs++
		}
	}()
	for i := len(p.bounds) - 1; i >= 0; i-- {
		bd := p.bounds[i]
		if !bytes.HasPrefix(rest, []byte(bd)) {
			continue
		}
		after := rest[len(bd):]
		switch {
		case len(after) >= 2 && after[0] == '-' && after[1] == '-':
			p.bounds = p.bounds[:i]
			return i, true, true
		case len(after) == 0 || isWSP(after[0]) || after[0] == '\r' || after[0] == '\n':
			// Transport padding may follow (RFC 2046 5.1.1); like
			// Cyrus, anything after a space is tolerated.
			p.bounds = p.bounds[:i+1]
			return i, false, true
		}
		// "--bX": a longer boundary that merely starts with this one.
	}
	return 0, false, false
}

// scan reads body lines up to a boundary of a pending multipart or the end.
func (p *parser) scan() (event, error) {
	for {
		c, err := p.lr.next()
		if err == io.EOF {
			return p.eofEvent(), nil
		}
		if err != nil {
			return event{}, err
		}
		if c.start && len(c.b) > 1 && c.b[0] == '-' && c.b[1] == '-' {
			if lvl, cl, ok := p.match(c.b); ok {
				return event{boundary: true, level: lvl, close: cl, lineOff: c.off, lfs: c.lfs, prevTerm: c.prevTerm}, nil
			}
		}
	}
}

func (p *parser) eofEvent() event {
	return event{lineOff: p.lr.off, lfs: p.lr.lfs}
}

// parseEntity parses a header and its body into part. msg marks a message
// (the top one or an encapsulated one), whose envelope fields matter.
func (p *parser) parseEntity(part *Part, def defaultType, depth int, msg bool) (event, error) {
	p.nparts++
	if p.nparts >= p.opts.MaxParts && !p.stopped {
		// The last entity allowed: no boundary is recognised any
		// more, so it runs to the end of the message.
		p.stopped, p.limited = true, true
		p.bounds = p.bounds[:0]
	}
	isRoot := part == p.sum.Root
	h := headerParser{p: p, part: part, msg: msg, root: isRoot}
	part.HeaderOffset = p.lr.off
	var (
		ev       event
		haveBody bool
	)
	for {
		c, err := p.lr.next()
		if err == io.EOF {
			ev = p.eofEvent()
			part.HeaderLen = p.lr.off - part.HeaderOffset
			break
		}
		if err != nil {
			return event{}, err
		}
		if c.start && len(c.b) > 1 && c.b[0] == '-' && c.b[1] == '-' {
			if lvl, cl, ok := p.match(c.b); ok {
				// A boundary inside the header ends the part: no
				// body, and the line break before the boundary
				// belongs to the boundary.
				ev = event{boundary: true, level: lvl, close: cl, lineOff: c.off, lfs: c.lfs, prevTerm: c.prevTerm}
				end := c.off - int64(c.prevTerm)
				if end < part.HeaderOffset {
					end = part.HeaderOffset
				}
				part.HeaderLen = end - part.HeaderOffset
				break
			}
		}
		h.add(c)
		if c.start && isBlankLine(c.b) {
			part.HeaderLen = p.lr.off - part.HeaderOffset
			haveBody = true
			break
		}
	}
	h.finish()
	if !h.typeSet {
		def.apply(part)
	}
	part.BodyOffset = part.HeaderOffset + part.HeaderLen

	container := part.Type == "MULTIPART" || part.IsMessage()
	if container && (depth >= p.opts.MaxDepth || p.stopped) {
		// Too deep or too many: an opaque text part (RFC 3501 leaves
		// the structure of such parts to the server).
		p.limited = true
		setTextPlain(part)
		container = false
	}
	if !haveBody {
		if part.IsMessage() {
			part.Embedded = &Part{HeaderOffset: part.BodyOffset, BodyOffset: part.BodyOffset, Envelope: &Envelope{}}
			setTextPlain(part.Embedded)
		}
		if part.Type == "MULTIPART" {
			setTextPlain(part)
		}
		ev.floor = part.BodyOffset
		return ev, nil
	}

	start, startLFs := p.lr.off, p.lr.lfs
	var err error
	switch {
	case container && part.Type == "MULTIPART":
		ev, err = p.parseMultipart(part, depth)
	case container:
		emb := &Part{Envelope: &Envelope{}}
		part.Embedded = emb
		ev, err = p.parseEntity(emb, defaultText, depth+1, true)
	default:
		ev, err = p.scan()
	}
	if err != nil {
		return event{}, err
	}
	end, lines := ev.bodyEnd(start, startLFs)
	part.BodyLen, part.Lines = end-start, lines
	ev.floor = end
	return ev, nil
}

// parseMultipart parses the body of a multipart (RFC 2046 5.1.1): preamble,
// body parts, epilogue. Without a usable boundary, or when no delimiter
// ever appears, the part becomes text/plain over the same bytes.
func (p *parser) parseMultipart(part *Part, depth int) (event, error) {
	boundary, _ := part.Param("BOUNDARY")
	if boundary == "" || len(boundary) > maxBoundaryLen {
		setTextPlain(part)
		return p.scan()
	}
	level := len(p.bounds)
	p.bounds = append(p.bounds, boundary)
	def := defaultText
	if part.Subtype == "DIGEST" {
		def = defaultMessage
	}
	ev, err := p.scan() // the preamble
	if err != nil {
		return event{}, err
	}
	if !ev.boundary || ev.level != level || ev.close {
		setTextPlain(part)
		if ev.boundary && ev.level == level {
			ev, err = p.epilogue() // "--b--" and no part
		}
		p.trimBounds(level)
		return ev, err
	}
	for {
		child := &Part{}
		ev, err = p.parseEntity(child, def, depth+1, false)
		if err != nil {
			return event{}, err
		}
		part.Parts = append(part.Parts, child)
		if !ev.boundary || ev.level != level {
			// The end, or an enclosing multipart's boundary.
			p.trimBounds(level)
			return ev, nil
		}
		if ev.close {
			return p.epilogue()
		}
	}
}

// epilogue scans what follows a close delimiter (RFC 2046 5.1.1).
func (p *parser) epilogue() (event, error) {
	start := p.lr.off
	ev, err := p.scan()
	if ev.boundary && ev.lineOff == start {
		ev.keepBreak = true
	}
	return ev, err
}

func (p *parser) trimBounds(level int) {
	if len(p.bounds) > level {
		p.bounds = p.bounds[:level]
	}
}
