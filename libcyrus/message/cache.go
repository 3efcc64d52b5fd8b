package message

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"
)

// The cache encoding of a Summary (DESIGN.md 3, cyrusgo.cache). Unmarshal
// checks every range against the message size and every part against its
// parent, so a corrupt entry is an error, never a bad read.
//
//	version   byte (cacheVersion)
//	flags     uvarint: 1 BareLF, 2 Limited, 4 HeaderComplete, 8 Date set
//	size      uvarint
//	guid      20 bytes
//	date      varint unix seconds, varint zone offset seconds (if flag 8)
//	subject, base subject, message-id        string
//	in-reply-to, references                  uvarint count, strings
//	from, to, cc                             string name, mailbox, host
//	header    uvarint length, bytes
//	root      part
//
//	part      uvarint flags (1 envelope, 2 embedded); uvarint header
//	          offset, header length, body offset minus header end
//	          (varint), body length, lines; string type, subtype; params;
//	          nstring id, description; string encoding; nstring md5;
//	          string disposition; params; uvarint count + strings
//	          (language); nstring location; uvarint count + parts;
//	          [part (embedded)]; [envelope]
//	params    uvarint count, then string name, string value each
//	envelope  nstring date, subject; six address lists (uvarint count,
//	          then nstring name, adl, mailbox, host each); nstring
//	          in-reply-to, message-id
//
// A string or nstring is a uvarint tag: 0 NIL, 2k+1 the k-th entry of
// commonStrings, 2k+2 k literal bytes that follow. commonStrings only ever
// grows at its end; any other change needs a new version.
const cacheVersion = 1

// maxDecodeDepth bounds part nesting in Unmarshal; Parse never nests
// deeper (maxDepthLimit plus the opaque level).
const maxDecodeDepth = maxDepthLimit + 8

// minPartBytes is the smallest encoding of a part: flags, five numbers,
// type, subtype, two param counts, six strings, language and part counts.
const minPartBytes = 18

var commonStrings = [...]string{
	"", "TEXT", "PLAIN", "HTML", "MULTIPART", "MIXED", "ALTERNATIVE",
	"RELATED", "SIGNED", "REPORT", "DIGEST", "MESSAGE", "RFC822",
	"DELIVERY-STATUS", "APPLICATION", "OCTET-STREAM", "PDF",
	"PKCS7-SIGNATURE", "PGP-SIGNATURE", "IMAGE", "JPEG", "PNG", "GIF",
	"CALENDAR", "CHARSET", "us-ascii", "US-ASCII", "utf-8", "UTF-8",
	"iso-8859-1", "ISO-8859-1", "windows-1252", "BOUNDARY", "NAME",
	"FILENAME", "FORMAT", "flowed", "DELSP", "yes", "TYPE", "PROTOCOL",
	"MICALG", "7BIT", "8BIT", "BASE64", "QUOTED-PRINTABLE", "BINARY",
	"ATTACHMENT", "INLINE", "SIZE", "CREATION-DATE", "MODIFICATION-DATE",
	unspecifiedDomain, "REPORT-TYPE", "METHOD",
}

var commonIndex = func() map[string]int {
	m := make(map[string]int, len(commonStrings))
	for i, s := range commonStrings {
		m[s] = i
	}
	return m
}()

const (
	flagBareLF = 1 << iota
	flagLimited
	flagHeaderComplete
	flagDate
)

const (
	partEnvelope = 1 << iota
	partEmbedded
)

type encoder struct{ b []byte }

func (e *encoder) uv(x uint64) { e.b = binary.AppendUvarint(e.b, x) }
func (e *encoder) iv(x int64)  { e.b = binary.AppendVarint(e.b, x) }

func (e *encoder) str(s string) {
	if i, ok := commonIndex[s]; ok {
		e.uv(uint64(2*i + 1))
		return
	}
	e.uv(uint64(2*len(s) + 2))
	e.b = append(e.b, s...)
}

func (e *encoder) nstr(s NString) {
	if !s.Valid {
		e.uv(0)
		return
	}
	e.str(s.S)
}

func (e *encoder) strs(list []string) {
	e.uv(uint64(len(list)))
	for _, s := range list {
		e.str(s)
	}
}

func (e *encoder) params(ps []Param) {
	e.uv(uint64(len(ps)))
	for _, p := range ps {
		e.str(p.Name)
		e.str(p.Value)
	}
}

func (e *encoder) addrs(list []Address) {
	e.uv(uint64(len(list)))
	for _, a := range list {
		e.nstr(a.Name)
		e.nstr(a.ADL)
		e.nstr(a.Mailbox)
		e.nstr(a.Host)
	}
}

func (e *encoder) envelope(env *Envelope) {
	e.nstr(env.Date)
	e.nstr(env.Subject)
	for _, l := range [][]Address{env.From, env.Sender, env.ReplyTo, env.To, env.Cc, env.Bcc} {
		e.addrs(l)
	}
	e.nstr(env.InReplyTo)
	e.nstr(env.MessageID)
}

func (e *encoder) part(p *Part, depth int) error {
	if depth > maxDecodeDepth {
		return errors.New("parts nested too deeply")
	}
	if p.HeaderOffset < 0 || p.HeaderLen < 0 || p.BodyLen < 0 || p.Lines < 0 {
		return fmt.Errorf("negative offset or length in part at %d", p.HeaderOffset)
	}
	var flags uint64
	if p.Envelope != nil {
		flags |= partEnvelope
	}
	if p.Embedded != nil {
		flags |= partEmbedded
	}
	e.uv(flags)
	e.uv(uint64(p.HeaderOffset))
	e.uv(uint64(p.HeaderLen))
	e.iv(p.BodyOffset - (p.HeaderOffset + p.HeaderLen))
	e.uv(uint64(p.BodyLen))
	e.uv(uint64(p.Lines))
	e.str(p.Type)
	e.str(p.Subtype)
	e.params(p.Params)
	e.nstr(p.ID)
	e.nstr(p.Description)
	e.str(p.Encoding)
	e.nstr(p.MD5)
	e.str(p.Disposition)
	e.params(p.DispositionParams)
	e.strs(p.Language)
	e.nstr(p.Location)
	e.uv(uint64(len(p.Parts)))
	for _, c := range p.Parts {
		if c == nil {
			return errors.New("nil part")
		}
		if err := e.part(c, depth+1); err != nil {
			return err
		}
	}
	if p.Embedded != nil {
		if err := e.part(p.Embedded, depth+1); err != nil {
			return err
		}
	}
	if p.Envelope != nil {
		e.envelope(p.Envelope)
	}
	return nil
}

// MarshalBinary encodes the summary for the cache file.
func (s *Summary) MarshalBinary() ([]byte, error) {
	if s == nil || s.Root == nil {
		return nil, errors.New("marshal summary: no message")
	}
	guid, err := hex.DecodeString(s.GUID)
	if err != nil || len(guid) != 20 {
		return nil, fmt.Errorf("marshal summary: bad GUID %q", s.GUID)
	}
	e := encoder{b: make([]byte, 0, 512+len(s.Header))}
	e.b = append(e.b, cacheVersion)
	var flags uint64
	if s.BareLF {
		flags |= flagBareLF
	}
	if s.Limited {
		flags |= flagLimited
	}
	if s.HeaderComplete {
		flags |= flagHeaderComplete
	}
	if !s.Date.IsZero() {
		flags |= flagDate
	}
	e.uv(flags)
	if s.Size < 0 {
		return nil, errors.New("marshal summary: negative size")
	}
	e.uv(uint64(s.Size))
	e.b = append(e.b, guid...)
	if !s.Date.IsZero() {
		_, off := s.Date.Zone()
		e.iv(s.Date.Unix())
		e.iv(int64(off))
	}
	e.str(s.Subject)
	e.str(s.BaseSubject)
	e.str(s.MessageID)
	e.strs(s.InReplyTo)
	e.strs(s.References)
	for _, a := range []SortAddr{s.From, s.To, s.Cc} {
		e.str(a.Name)
		e.str(a.Mailbox)
		e.str(a.Host)
	}
	e.uv(uint64(len(s.Header)))
	e.b = append(e.b, s.Header...)
	if err := e.part(s.Root, 0); err != nil {
		return nil, fmt.Errorf("marshal summary: %w", err)
	}
	return e.b, nil
}

// ErrCorrupt is returned (wrapped) by Unmarshal for data it cannot decode.
var ErrCorrupt = errors.New("corrupt message summary")

type decoder struct {
	b    []byte
	err  error
	size int64
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorrupt, what)
	}
}

func (d *decoder) uv() uint64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad number")
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *decoder) iv() int64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad number")
		return 0
	}
	d.b = d.b[n:]
	return x
}

// length reads a non-negative int64 no larger than the message.
func (d *decoder) length() int64 {
	x := d.uv()
	if x > uint64(d.size) {
		d.fail("offset or length past the message")
		return 0
	}
	return int64(x)
}

// count reads an element count; every element takes at least min bytes,
// so that no allocation outgrows the data.
func (d *decoder) count(min int) int {
	x := d.uv()
	if x > uint64(len(d.b)/min) {
		d.fail("count past the data")
		return 0
	}
	return int(x)
}

func (d *decoder) raw(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.fail("string past the data")
		return nil
	}
	b := d.b[:n]
	d.b = d.b[n:]
	return b
}

func (d *decoder) nstr() NString {
	t := d.uv()
	switch {
	case d.err != nil || t == 0:
		return NString{}
	case t%2 == 1:
		i := (t - 1) / 2
		if i >= uint64(len(commonStrings)) {
			d.fail("unknown common string")
			return NString{}
		}
		return Str(commonStrings[i])
	default:
		n := (t - 2) / 2
		if n > uint64(len(d.b)) {
			d.fail("string past the data")
			return NString{}
		}
		return Str(string(d.raw(int(n))))
	}
}

func (d *decoder) str() string {
	s := d.nstr()
	if d.err == nil && !s.Valid {
		d.fail("NIL where a string belongs")
	}
	return s.S
}

func (d *decoder) strs() []string {
	n := d.count(1)
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

func (d *decoder) params() []Param {
	n := d.count(2)
	if n == 0 || d.err != nil {
		return nil
	}
	out := make([]Param, n)
	for i := range out {
		out[i] = Param{Name: d.str(), Value: d.str()}
	}
	return out
}

func (d *decoder) addrs() []Address {
	n := d.count(4)
	if n == 0 || d.err != nil {
		return nil
	}
	out := make([]Address, n)
	for i := range out {
		out[i] = Address{Name: d.nstr(), ADL: d.nstr(), Mailbox: d.nstr(), Host: d.nstr()}
	}
	return out
}

func (d *decoder) envelope() *Envelope {
	env := &Envelope{Date: d.nstr(), Subject: d.nstr()}
	for _, l := range []*[]Address{&env.From, &env.Sender, &env.ReplyTo, &env.To, &env.Cc, &env.Bcc} {
		*l = d.addrs()
	}
	env.InReplyTo = d.nstr()
	env.MessageID = d.nstr()
	return env
}

func (d *decoder) part(depth int) *Part {
	if depth > maxDecodeDepth {
		d.fail("parts nested too deeply")
	}
	if d.err != nil {
		return nil
	}
	flags := d.uv()
	p := &Part{HeaderOffset: d.length(), HeaderLen: d.length()}
	delta := d.iv()
	p.BodyLen = d.length()
	p.Lines = d.length()
	hend := p.HeaderOffset + p.HeaderLen // both <= size: no overflow
	if d.err == nil && (hend > d.size || delta < -hend || delta > d.size-hend) {
		d.fail("part header past the message")
		return nil
	}
	p.BodyOffset = hend + delta
	if d.err == nil && (delta < 0 || p.BodyLen > d.size-p.BodyOffset || p.Lines > p.BodyLen) {
		d.fail("part body out of range")
		return nil
	}
	p.Type = d.str()
	p.Subtype = d.str()
	p.Params = d.params()
	p.ID = d.nstr()
	p.Description = d.nstr()
	p.Encoding = d.str()
	p.MD5 = d.nstr()
	p.Disposition = d.str()
	p.DispositionParams = d.params()
	p.Language = d.strs()
	p.Location = d.nstr()
	if n := d.count(minPartBytes); n > 0 && d.err == nil {
		if p.Type != "MULTIPART" {
			d.fail("body parts in a part that is not multipart")
			return nil
		}
		p.Parts = make([]*Part, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			p.Parts = append(p.Parts, d.part(depth+1))
		}
	}
	if (flags&partEmbedded != 0) != p.IsMessage() && d.err == nil {
		d.fail("message/rfc822 part without its message, or the reverse")
		return nil
	}
	if flags&partEmbedded != 0 {
		p.Embedded = d.part(depth + 1)
		if d.err == nil && p.Embedded.Envelope == nil {
			d.fail("encapsulated message without envelope")
		}
	}
	if flags&partEnvelope != 0 {
		p.Envelope = d.envelope()
	}
	if d.err != nil {
		return nil
	}
	end := p.BodyOffset + p.BodyLen
	for _, c := range append(p.Parts[:len(p.Parts):len(p.Parts)], p.Embedded) {
		if c != nil && (c.HeaderOffset < p.BodyOffset || c.BodyOffset+c.BodyLen > end) {
			d.fail("part outside its parent")
			return nil
		}
	}
	return p
}

// Unmarshal decodes a summary written by MarshalBinary. Corrupt, truncated
// or hostile data gives an error wrapping ErrCorrupt; it never panics and
// allocates in proportion to len(data).
func Unmarshal(data []byte) (*Summary, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("unmarshal summary: %w: empty", ErrCorrupt)
	}
	if data[0] != cacheVersion {
		return nil, fmt.Errorf("unmarshal summary: %w: version %d, want %d", ErrCorrupt, data[0], cacheVersion)
	}
	d := &decoder{b: data[1:]}
	s := &Summary{}
	flags := d.uv()
	size := d.uv()
	if size > math.MaxInt64 {
		d.fail("size")
	}
	s.Size = int64(size)
	d.size = s.Size
	s.BareLF = flags&flagBareLF != 0
	s.Limited = flags&flagLimited != 0
	s.HeaderComplete = flags&flagHeaderComplete != 0
	if g := d.raw(20); g != nil {
		s.GUID = hex.EncodeToString(g)
	}
	if flags&flagDate != 0 {
		sec, off := d.iv(), d.iv()
		if off < -24*3600 || off > 24*3600 || sec < -62135596800 || sec > 253402300799 {
			d.fail("date")
		} else {
			s.Date = time.Unix(sec, 0).In(time.FixedZone("", int(off)))
		}
	}
	s.Subject = d.str()
	s.BaseSubject = d.str()
	s.MessageID = d.str()
	s.InReplyTo = d.strs()
	s.References = d.strs()
	for _, a := range []*SortAddr{&s.From, &s.To, &s.Cc} {
		a.Name, a.Mailbox, a.Host = d.str(), d.str(), d.str()
	}
	if n := d.count(1); n > 0 {
		s.Header = append([]byte(nil), d.raw(n)...)
	}
	s.Root = d.part(0)
	if d.err == nil && s.Root.Envelope == nil {
		d.fail("message without envelope")
	}
	if d.err == nil && s.HeaderComplete && int64(len(s.Header)) != s.Root.HeaderLen {
		d.fail("header copy does not match the header")
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return nil, fmt.Errorf("unmarshal summary: %w", d.err)
	}
	return s, nil
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (s *Summary) UnmarshalBinary(data []byte) error {
	v, err := Unmarshal(data)
	if err != nil {
		return err
	}
	*s = *v
	return nil
}
