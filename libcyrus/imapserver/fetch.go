package imapserver

// FETCH and UID FETCH (RFC 3501 6.4.5, 6.4.8), with BINARY (RFC 3516) and
// MODSEQ/CHANGEDSINCE (RFC 7162 3.1.4). The items of one response come in
// the fixed order Cyrus 3.6 writes them (FLAGS, UID, INTERNALDATE, MODSEQ,
// RFC822.SIZE, ENVELOPE, BODYSTRUCTURE, BODY, RFC822.*, then the body
// sections as requested), which RFC 3501 7.4.2 allows.
//
// Messages are handled in chunks: the records of a chunk are read, the
// \Seen flag a non-PEEK body item implies is set for the whole chunk with
// one store transaction, then the responses are written, bodies streamed
// from the message file. Beyond the view's UID list (4 bytes a message)
// memory is bounded by the chunk, whatever the messages' number or size.

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/imapwire"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/message"
)

// fetchChunk is how many messages share one \Seen transaction.
const fetchChunk = 128

// maxFetchSections bounds the body sections of one FETCH: each is written
// for every message, so the bound keeps one command's work sane.
const maxFetchSections = 256

// maxSectionPath bounds the part numbers of one section; no message the
// parser accepts nests deeper (message.DefaultMaxDepth).
const maxSectionPath = 128

// internalDateLayout is RFC 3501 9 date-time with date-day-fixed, as
// Cyrus writes it: "30-Nov-2026 03:34:09 +0000", " 1-Jan-2024 ...".
const internalDateLayout = "_2-Jan-2006 15:04:05 -0700"

type sectionKind uint8

const (
	secBody       sectionKind = iota // BODY[...], BODY.PEEK[...]
	secBinary                        // BINARY[...], BINARY.PEEK[...] (RFC 3516)
	secBinarySize                    // BINARY.SIZE[...]
)

// fetchSection is one body section item.
type fetchSection struct {
	kind    sectionKind
	spec    message.SectionSpec
	name    string // the item as the response names it: "BODY[1.MIME]<0>"
	partial bool
	offset  uint32
	count   uint32
}

// fetchArgs are the items one FETCH asked for.
type fetchArgs struct {
	flags, uid, internalDate, modseq, size bool
	envelope, bodyStructure, body          bool
	rfc822, rfc822Header, rfc822Text       bool
	sections                               []fetchSection
	setSeen                                bool // a non-PEEK body item (RFC 3501 6.4.5)
	changedSince                           uint64
	haveChangedSince                       bool
	vanished                               bool     // RFC 7162 3.2.6 (condstore.go)
	ext                                    fetchExt // fetch_ext.go
}

func (a *fetchArgs) needSummary() bool {
	return a.envelope || a.bodyStructure || a.body || a.rfc822Header || a.rfc822Text || len(a.sections) > 0
}

// needFile reports whether the message file must be opened: everything
// but the top header (when the cache holds it whole) comes from it.
func (a *fetchArgs) needFile(sum *message.Summary) bool {
	if a.rfc822 || a.rfc822Text {
		return true
	}
	if a.rfc822Header && !sum.HeaderComplete {
		return true
	}
	for i := range a.sections {
		s := &a.sections[i]
		if s.kind != secBody || len(s.spec.Path) > 0 || !strings.HasPrefix(s.spec.Specifier, "HEADER") || !sum.HeaderComplete {
			return true
		}
	}
	return false
}

func cmdFetch(ss *session, tag string) result    { return ss.fetch(false) }
func cmdUIDFetch(ss *session, tag string) result { return ss.fetch(true) }

func (ss *session) fetch(byUID bool) result {
	if err := ss.r.SP(); err != nil {
		return wireErr(err)
	}
	set, err := ss.r.ReadSequenceSet()
	if err != nil {
		return wireErr(err)
	}
	if err := ss.r.SP(); err != nil {
		return wireErr(err)
	}
	var args fetchArgs
	if c, _ := ss.r.Peek(); c == '(' {
		err = ss.r.ReadList(func(r *imapwire.Reader) error { return args.readAtt(r, false) })
	} else {
		err = args.readAtt(ss.r, true)
	}
	if err != nil {
		return wireErr(err)
	}
	if ss.r.PeekSP() {
		ss.r.SP()
		if err := ss.r.ReadList(args.readModifier); err != nil {
			return wireErr(err)
		}
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	dollar := set.Dollar
	set = ss.dollarSet(set, byUID)
	if !(args.flags || args.uid || args.internalDate || args.modseq || args.size || args.envelope ||
		args.bodyStructure || args.body || args.rfc822 || args.rfc822Header || args.rfc822Text || len(args.sections) > 0 ||
		args.ext.any()) {
		return bad("Missing required argument to Fetch")
	}
	if byUID {
		// RFC 3501 6.4.8: UID FETCH responses always carry the UID.
		args.uid = true
	}
	if args.haveChangedSince {
		// RFC 7162 3.1.4.1: CHANGEDSINCE implies MODSEQ.
		args.modseq = true
	}
	if res, done := ss.fetchVanished(set, byUID, &args); done {
		return res
	}
	if args.modseq {
		ss.enableCondstore()
	}

	m := ss.mbox
	seqs := selectMessages(set, byUID, m.UIDs())
	fx := fetcher{ss: ss, args: &args}
	setSeen := args.setSeen && !m.ReadOnly() && m.Rights()&acl.Seen != 0
	recs := make([]fetchRec, 0, min(len(seqs), fetchChunk))
	for start := 0; start < len(seqs); start += fetchChunk {
		chunk := seqs[start:min(start+fetchChunk, len(seqs))]
		recs = recs[:0]
		err := m.Records(chunk, func(seq uint32, r *mailbox.Record) {
			recs = append(recs, fetchRec{seq: seq, r: *r})
		})
		if err != nil {
			return ss.mboxResult("FETCH", err)
		}
		if setSeen {
			fx.setSeen(recs)
		}
		for i := range recs {
			fr := &recs[i]
			if args.haveChangedSince && fr.r.Modseq <= args.changedSince {
				continue
			}
			fx.one(fr)
		}
		if err := ss.w.Err(); err != nil {
			return wireErr(err)
		}
	}
	if err := ss.w.Err(); err != nil {
		return wireErr(err)
	}
	// RFC 3501 7.4.1: no EXPUNGE during FETCH; UID FETCH may have them.
	if err := ss.sendUpdates(byUID); err != nil {
		return storeResult(err)
	}
	if fx.unknownCTE {
		// RFC 3516 4.2: a CTE the server cannot decode fails the request.
		return no("UNKNOWN-CTE", "Can not decode message part")
	}
	if len(seqs) == 0 && !byUID && !dollar {
		// Cyrus answers a FETCH that named no message with NO; a UID
		// FETCH of UIDs that do not exist is no error (RFC 3501 6.4.8).
		return no("", "No matching messages")
	}
	return ok("")
}

// selectMessages returns the sequence numbers, ascending, of the messages
// of the view (whose UIDs are uids) that set names. "*" is the last
// message or the highest UID in use (RFC 3501 9); UIDs that do not exist
// are ignored (6.4.8), and so are sequence numbers past the last message,
// as Cyrus does.
func selectMessages(set imapwire.SeqSet, byUID bool, uids []uint32) []uint32 {
	n := uint32(len(uids))
	var out []uint32
	if byUID {
		last := uint32(0)
		if n > 0 {
			last = uids[n-1]
		}
		for _, g := range set.Resolve(last) {
			i := sort.Search(len(uids), func(i int) bool { return uids[i] >= g.Start })
			for ; i < len(uids) && uids[i] <= g.Stop; i++ {
				out = append(out, uint32(i+1))
			}
		}
		return out
	}
	for _, g := range set.Resolve(n) {
		for s := uint64(g.Start); s <= uint64(min(g.Stop, n)); s++ {
			out = append(out, uint32(s))
		}
	}
	return out
}

// readAtt reads one fetch-att, or with macros one of ALL, FAST and FULL
// (RFC 3501 6.4.5), which stand only alone.
func (a *fetchArgs) readAtt(r *imapwire.Reader, macros bool) error {
	name, err := r.ReadAtomFunc(func(c byte) bool { return imapwire.IsAtomChar(c) && c != '[' })
	if err != nil {
		return err
	}
	switch up := strings.ToUpper(name); up {
	case "ALL", "FAST", "FULL":
		if !macros {
			return &imapwire.SyntaxError{Msg: "Invalid Fetch attribute " + name}
		}
		a.flags, a.internalDate, a.size = true, true, true
		a.envelope = up != "FAST"
		a.body = up == "FULL"
	case "FLAGS":
		a.flags = true
	case "UID":
		a.uid = true
	case "INTERNALDATE":
		a.internalDate = true
	case "MODSEQ":
		a.modseq = true
	case "RFC822.SIZE":
		a.size = true
	case "ENVELOPE":
		a.envelope = true
	case "BODYSTRUCTURE":
		a.bodyStructure = true
	case "RFC822":
		a.rfc822, a.setSeen = true, true
	case "RFC822.HEADER":
		a.rfc822Header = true
	case "RFC822.TEXT":
		a.rfc822Text, a.setSeen = true, true
	case "BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE":
		if c, _ := r.Peek(); c != '[' {
			if up == "BODY" {
				a.body = true
				return nil
			}
			return &imapwire.SyntaxError{Msg: "Invalid Fetch attribute " + name}
		}
		if len(a.sections) >= maxFetchSections {
			return &imapwire.SyntaxError{Msg: "Too many Fetch attributes"}
		}
		s := fetchSection{kind: secBody}
		prefix := "BODY"
		switch up {
		case "BINARY", "BINARY.PEEK":
			s.kind, prefix = secBinary, "BINARY"
		case "BINARY.SIZE":
			s.kind, prefix = secBinarySize, "BINARY.SIZE"
		}
		if err := s.read(r, prefix); err != nil {
			return err
		}
		if up == "BODY" || up == "BINARY" {
			a.setSeen = true
		}
		a.sections = append(a.sections, s)
	default:
		if handled, err := a.ext.readAtt(r, up, a, macros); handled {
			return err
		}
		return &imapwire.SyntaxError{Msg: "Invalid Fetch attribute " + name}
	}
	return nil
}

// readModifier reads one fetch-modifier (RFC 4466 2.4): CHANGEDSINCE
// (RFC 7162 3.1.4.1).
func (a *fetchArgs) readModifier(r *imapwire.Reader) error {
	name, err := r.ReadAtom()
	if err != nil {
		return err
	}
	if strings.EqualFold(name, "VANISHED") {
		a.vanished = true
		return nil
	}
	if !strings.EqualFold(name, "CHANGEDSINCE") {
		return &imapwire.SyntaxError{Msg: "Invalid Fetch modifier " + name}
	}
	if err := r.SP(); err != nil {
		return err
	}
	n, err := r.ReadNumber64()
	if err != nil {
		return err
	}
	a.changedSince, a.haveChangedSince = n, true
	return nil
}

// read reads "[" section "]" and the optional "<" offset "." count ">"
// (RFC 3501 9: section, RFC 3516: section-binary), and builds the item
// name the response uses.
func (s *fetchSection) read(r *imapwire.Reader, prefix string) error {
	if err := r.Expect('['); err != nil {
		return err
	}
	if c, _ := r.Peek(); c != ']' {
		// "]" is not an ATOM-CHAR, so the atom stops before it.
		tok, err := r.ReadAtom()
		if err != nil {
			return err
		}
		if err := parseSectionText(tok, &s.spec); err != nil {
			return err
		}
		if strings.HasPrefix(s.spec.Specifier, "HEADER.FIELDS") {
			if err := r.SP(); err != nil {
				return err
			}
			err := r.ReadList(func(r *imapwire.Reader) error {
				f, err := r.ReadAString()
				if err != nil {
					return err
				}
				if !validFieldName(f) {
					return &imapwire.SyntaxError{Msg: "Invalid header field name in Fetch"}
				}
				s.spec.Fields = append(s.spec.Fields, f)
				return nil
			})
			if err != nil {
				return err
			}
			if len(s.spec.Fields) == 0 {
				return &imapwire.SyntaxError{Msg: "Missing header field names in Fetch"}
			}
		}
	}
	if err := r.Expect(']'); err != nil {
		return err
	}
	if s.kind != secBody && s.spec.Specifier != "" {
		// RFC 3516 4.1: section-binary is part numbers only.
		return &imapwire.SyntaxError{Msg: "Invalid binary section"}
	}
	if s.kind != secBinarySize && r.Accept('<') {
		off, err := r.ReadNumber()
		if err != nil {
			return err
		}
		if err := r.Expect('.'); err != nil {
			return err
		}
		n, err := r.ReadNumber()
		if err != nil {
			return err
		}
		if n == 0 {
			return &imapwire.SyntaxError{Msg: "Invalid partial fetch: zero length"}
		}
		if err := r.Expect('>'); err != nil {
			return err
		}
		s.partial, s.offset, s.count = true, off, n
	}
	s.name = sectionName(prefix, &s.spec, s.partial, s.offset)
	return nil
}

// parseSectionText parses the atom of a section: part numbers joined by
// dots, then HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT or (after
// part numbers) MIME (RFC 3501 6.4.5).
func parseSectionText(tok string, sp *message.SectionSpec) error {
	rest := tok
	for rest != "" && rest[0] >= '0' && rest[0] <= '9' {
		i := 0
		n := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			if i >= 8 {
				return &imapwire.SyntaxError{Msg: "Invalid body section"}
			}
			n = n*10 + int(rest[i]-'0')
			i++
		}
		if n == 0 || len(sp.Path) >= maxSectionPath {
			return &imapwire.SyntaxError{Msg: "Invalid body section"}
		}
		sp.Path = append(sp.Path, n)
		rest = rest[i:]
		if rest == "" {
			break
		}
		if rest[0] != '.' || len(rest) == 1 {
			return &imapwire.SyntaxError{Msg: "Invalid body section"}
		}
		rest = rest[1:]
	}
	word := strings.ToUpper(rest)
	switch word {
	case "", "HEADER", "TEXT", "HEADER.FIELDS", "HEADER.FIELDS.NOT":
	case "MIME":
		if len(sp.Path) == 0 {
			return &imapwire.SyntaxError{Msg: "Invalid body section"}
		}
	default:
		return &imapwire.SyntaxError{Msg: "Invalid body section"}
	}
	sp.Specifier = word
	return nil
}

// validFieldName: RFC 5322 2.2 field names are printable US-ASCII
// without ":"; anything else cannot name a field and could not be echoed
// in the response.
func validFieldName(f string) bool {
	if f == "" {
		return false
	}
	for i := 0; i < len(f); i++ {
		if c := f[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// sectionName is the response's name of a section item: the section as
// requested, keywords and field names in upper case as Cyrus echoes
// them, and only the origin of a partial (RFC 3501 7.4.2).
func sectionName(prefix string, sp *message.SectionSpec, partial bool, off uint32) string {
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteByte('[')
	for i, n := range sp.Path {
		if i > 0 {
			b.WriteByte('.')
		}
		fmt.Fprint(&b, n)
	}
	if sp.Specifier != "" {
		if len(sp.Path) > 0 {
			b.WriteByte('.')
		}
		b.WriteString(sp.Specifier)
	}
	if len(sp.Fields) > 0 {
		b.WriteString(" (")
		for i, f := range sp.Fields {
			if i > 0 {
				b.WriteByte(' ')
			}
			writeAString(&b, strings.ToUpper(f))
		}
		b.WriteByte(')')
	}
	b.WriteByte(']')
	if partial {
		fmt.Fprintf(&b, "<%d>", off)
	}
	return b.String()
}

// writeAString writes a header field name (printable ASCII, see
// validFieldName) as an atom, or quoted when it is not one; "]" is
// quoted too, the name standing inside the brackets of a section.
func writeAString(b *strings.Builder, s string) {
	atom := true
	for i := 0; i < len(s); i++ {
		if !imapwire.IsAtomChar(s[i]) {
			atom = false
			break
		}
	}
	if atom {
		b.WriteString(s)
		return
	}
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

// fetchRec is one message of a chunk.
type fetchRec struct {
	seq          uint32
	r            mailbox.Record
	flagsChanged bool // \Seen was just set: FLAGS go out unasked (6.4.5)
}

// fetcher writes the responses of one FETCH.
type fetcher struct {
	ss         *session
	args       *fetchArgs
	kw         keywordCache
	buf        []byte // scratch for counting and decoding BINARY parts
	unknownCTE bool
}

// setSeen sets \Seen on the chunk's unseen messages in one transaction
// and re-reads the records it changed (RFC 3501 6.4.5).
func (fx *fetcher) setSeen(recs []fetchRec) {
	m := fx.ss.mbox
	var uids []uint32
	for i := range recs {
		r := &recs[i].r
		if r.Flags&mailbox.FlagSeen == 0 && !r.Expunged() {
			uids = append(uids, r.UID)
		}
	}
	if len(uids) == 0 {
		return
	}
	res, err := m.StoreFlags(uids, mailbox.FlagsAdd, []string{`\Seen`}, 0)
	if err != nil {
		fx.ss.srv.log.Error(fmt.Sprintf("FETCH: setting \\Seen in %s: %v", fx.ss.mboxName, err))
		return
	}
	changed := make(map[uint32]bool, len(res.Changed))
	for _, u := range res.Changed {
		changed[u] = true
	}
	for i := range recs {
		fr := &recs[i]
		if !changed[fr.r.UID] {
			continue
		}
		if r, err := m.Record(fr.seq); err == nil {
			fr.r = r
		}
		fr.flagsChanged = true
	}
}

// one writes the FETCH response of one message. A message whose summary
// or file cannot be read (expunged by another session and already
// removed) gets no response: RFC 2180 4.1 lets the server leave it out.
func (fx *fetcher) one(fr *fetchRec) {
	ss, a, m := fx.ss, fx.args, fx.ss.mbox
	r := &fr.r
	var sum *message.Summary
	if a.needSummary() {
		data, err := m.CacheData(r)
		if err == nil {
			sum, err = message.Unmarshal(data)
		}
		if err != nil {
			ss.srv.log.Error(fmt.Sprintf("FETCH: cache of %s uid %d: %v", ss.mboxName, r.UID, err))
			return
		}
	}
	var ra io.ReaderAt = noFile{}
	if sum == nil && a.rfc822 || sum != nil && a.needFile(sum) {
		f, err := m.OpenMessage(r)
		if err != nil {
			if !errors.Is(err, mailbox.ErrExpunged) {
				ss.srv.log.Error(fmt.Sprintf("FETCH: %v", err))
			}
			return
		}
		defer f.Close()
		ra = f
	}

	w := ss.w
	w.Untagged()
	w.Number(fr.seq)
	w.Raw(" FETCH (")
	sep := false
	item := func(name string) {
		if sep {
			w.SP()
		}
		sep = true
		w.Raw(name)
		w.SP()
	}
	if a.flags || fr.flagsChanged {
		item("FLAGS")
		ss.writeFlags(r, &fx.kw)
	}
	// RFC 7162 3.2.4: setting \Seen is reported with UID and MODSEQ.
	if a.uid || fr.flagsChanged && ss.condstore() {
		item("UID")
		w.Number(r.UID)
	}
	if a.internalDate {
		item("INTERNALDATE")
		w.Raw(`"` + r.InternalDate.Format(internalDateLayout) + `"`)
	}
	if a.modseq || fr.flagsChanged && ss.condstore() {
		item("MODSEQ")
		w.Byte('(')
		w.Number64(r.Modseq)
		w.Byte(')')
	}
	if a.size {
		item("RFC822.SIZE")
		w.Number64(r.Size)
	}
	if a.envelope {
		item("ENVELOPE")
		w.Raw(string(sum.Envelope()))
	}
	if a.bodyStructure {
		item("BODYSTRUCTURE")
		w.Raw(string(sum.BodyStructure(true)))
	}
	if a.body {
		item("BODY")
		w.Raw(string(sum.BodyStructure(false)))
	}
	if a.rfc822Header {
		item("RFC822.HEADER")
		fx.writeSection(sum, ra, message.SectionSpec{Specifier: "HEADER"}, false, 0, 0)
	}
	if a.rfc822Text {
		item("RFC822.TEXT")
		fx.writeSection(sum, ra, message.SectionSpec{Specifier: "TEXT"}, false, 0, 0)
	}
	if a.rfc822 {
		item("RFC822")
		fx.writeRange(io.NewSectionReader(ra, 0, int64(r.Size)), false, 0, 0, false)
	}
	for i := range a.sections {
		s := &a.sections[i]
		item(s.name)
		switch s.kind {
		case secBody:
			fx.writeSection(sum, ra, s.spec, s.partial, s.offset, s.count)
		case secBinary:
			fx.writeBinary(sum, ra, s)
		case secBinarySize:
			fx.writeBinarySize(sum, ra, s)
		}
	}
	fx.writeExt(fr, sum, ra, item)
	w.Raw(")\r\n")
}
