package imapserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cyrusgo/cyrusgo/libcyrus/imapwire"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/message"
)

// maxSearchHeader bounds the header read from the message file when the
// cached copy is incomplete.
const maxSearchHeader = 1 << 20

// runSearch writes the untagged SEARCH response of prog over the whole
// view: "* SEARCH" and the matching sequence numbers or UIDs, ascending,
// then with the MODSEQ key the highest mod-sequence of the matches
// (RFC 7162 3.1.5). With RETURN options the matches are gathered for one
// ESEARCH response and for SAVE instead (esearch.go).
func (ss *session) runSearch(prog *searchKey, byUID, withModseq bool, tag string, ret *searchReturn) error {
	if !ret.given && ss.rev2() {
		// RFC 9051 6.4.4: SEARCH without RETURN is RETURN (ALL).
		ret = &searchReturn{given: true, all: true}
	}
	if ret.given {
		return ss.runESearch(prog, byUID, withModseq, tag, ret)
	}
	w := ss.w
	w.Raw("* SEARCH")
	var highest uint64
	err := ss.eachMatch(prog, func(seq uint32, r *mailbox.Record, _ *searchEval) error {
		w.SP()
		if byUID {
			w.Number(r.UID)
		} else {
			w.Number(seq)
		}
		highest = max(highest, r.Modseq)
		return w.Err()
	})
	if err != nil {
		return err
	}
	if withModseq && highest > 0 {
		w.Raw(" (MODSEQ ")
		w.Number64(highest)
		w.Byte(')')
	}
	w.CRLF()
	return w.Err()
}

// runESearch evaluates prog for SEARCH RETURN: one ESEARCH response,
// and the result saved for "$" with SAVE (RFC 5182 2.4).
func (ss *session) runESearch(prog *searchKey, byUID, withModseq bool, tag string, ret *searchReturn) error {
	var nums, found []uint32
	var modseqs []uint64
	err := ss.eachMatch(prog, func(seq uint32, r *mailbox.Record, _ *searchEval) error {
		found = append(found, r.UID)
		if byUID {
			nums = append(nums, r.UID)
		} else {
			nums = append(nums, seq)
		}
		if withModseq {
			modseqs = append(modseqs, r.Modseq)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if ret.answers() {
		ss.writeESearch(tag, byUID, ret, nums, modseqs)
	}
	if ret.save {
		ss.searchRes = ret.saved(found)
	}
	return ss.w.Err()
}

// prepare resolves the sequence sets against the view ("*" is the last
// message or the highest UID, RFC 3501 9) and puts the cheap tests of
// each AND first.
func (k *searchKey) prepare(n, lastUID uint32) {
	switch k.op {
	case sSeq:
		k.ranges = k.set.Resolve(n)
	case sUID:
		k.ranges = k.set.Resolve(lastUID)
	}
	for _, kid := range k.kids {
		kid.prepare(n, lastUID)
	}
	if k.op == sAnd || k.op == sOr {
		sort.SliceStable(k.kids, func(i, j int) bool { return k.kids[i].cost() < k.kids[j].cost() })
	}
}

func inRanges(rs []imapwire.SeqRange, n uint32) bool {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].Stop >= n })
	return i < len(rs) && rs[i].Start <= n
}

// searchEval evaluates a program on one message at a time, loading the
// cached summary and opening the message file only when a key needs
// them.
type searchEval struct {
	ss *session
	m  *mailbox.Mailbox

	seq uint32
	r   *mailbox.Record

	sum      *message.Summary
	sumTried bool
	file     *os.File
	fileErr  error
	fileOpen bool

	kc   keywordCache
	buf  []byte // raw bytes read from the file
	win  []byte // folded text being matched
	tmp  []byte // folded header value
	seen []string
}

func (e *searchEval) start(seq uint32, r *mailbox.Record) {
	e.seq, e.r = seq, r
	e.sum, e.sumTried = nil, false
}

// release closes the message file of the current message.
func (e *searchEval) release() {
	if e.file != nil {
		e.file.Close()
	}
	e.file, e.fileErr, e.fileOpen = nil, nil, false
}

func (e *searchEval) summary() *message.Summary {
	if !e.sumTried {
		e.sumTried = true
		data, err := e.m.CacheData(e.r)
		if err == nil {
			e.sum, err = message.Unmarshal(data)
		}
		if err != nil {
			e.ss.srv.log.Error(fmt.Sprintf("SEARCH: cache of %s uid %d: %v", e.ss.mboxName, e.r.UID, err))
			e.sum = nil
		}
	}
	return e.sum
}

func (e *searchEval) messageFile() io.ReaderAt {
	if !e.fileOpen {
		e.fileOpen = true
		e.file, e.fileErr = e.m.OpenMessage(e.r)
		if e.fileErr != nil && !errors.Is(e.fileErr, mailbox.ErrExpunged) {
			e.ss.srv.log.Error(fmt.Sprintf("SEARCH: %v", e.fileErr))
		}
	}
	if e.file == nil {
		return nil
	}
	return e.file
}

func (e *searchEval) match(k *searchKey) bool {
	r := e.r
	switch k.op {
	case sAll:
		return true
	case sAnd:
		for _, kid := range k.kids {
			if !e.match(kid) {
				return false
			}
		}
		return true
	case sOr:
		return e.match(k.kids[0]) || e.match(k.kids[1])
	case sNot:
		return !e.match(k.kids[0])
	case sSeq:
		return inRanges(k.ranges, e.seq)
	case sUID:
		return inRanges(k.ranges, r.UID)
	case sFlag:
		return r.Flags&k.flag != 0
	case sKeyword:
		return e.hasKeyword(k.field)
	case sRecent:
		return e.m.IsRecent(r.UID)
	case sLarger:
		return r.Size > k.num
	case sSmaller:
		return r.Size < k.num
	case sBefore:
		return dayOf(r.InternalDate) < k.day
	case sOn:
		return dayOf(r.InternalDate) == k.day
	case sSince:
		return dayOf(r.InternalDate) >= k.day
	case sSentBefore, sSentOn, sSentSince:
		d, ok := e.sentDay()
		if !ok {
			return false
		}
		switch k.op {
		case sSentBefore:
			return d < k.day
		case sSentOn:
			return d == k.day
		}
		return d >= k.day
	case sModseq:
		return r.Modseq >= k.num
	case sOlder:
		return r.InternalDate.Unix() < k.day
	case sYounger:
		return r.InternalDate.Unix() >= k.day
	case sHeader:
		return e.headerContains(k.field, k.str)
	case sBody:
		return e.bodyContains(k.str)
	case sText:
		return e.headerTextContains(k.str) || e.bodyContains(k.str)
	}
	return e.matchExt(k)
}

func (e *searchEval) hasKeyword(name string) bool {
	for word := 0; word < len(e.r.UserFlags); word++ {
		bits := e.r.UserFlags[word]
		for b := 0; bits != 0; b++ {
			if bits&1 != 0 {
				if kw, ok := e.kc.name(e.m, word*64+b); ok && strings.EqualFold(kw, name) {
					return true
				}
			}
			bits >>= 1
		}
	}
	return false
}

// sentDay is the day of the Date header, or of the internal date when
// the message has none, as Cyrus falls back to it.
func (e *searchEval) sentDay() (int64, bool) {
	sum := e.summary()
	if sum == nil {
		return 0, false
	}
	if sum.Date.IsZero() {
		return dayOf(e.r.InternalDate), true
	}
	return dayOf(sum.Date), true
}

// header returns the top header: the cached copy, or when the cache holds
// only part of it, the first maxSearchHeader bytes of the file.
func (e *searchEval) header() []byte {
	sum := e.summary()
	if sum == nil {
		return nil
	}
	if sum.HeaderComplete || sum.Root == nil {
		return sum.Header
	}
	ra := e.messageFile()
	if ra == nil {
		return sum.Header
	}
	n := min(sum.Root.HeaderLen, maxSearchHeader)
	b := make([]byte, n)
	k, _ := ra.ReadAt(b, sum.Root.HeaderOffset)
	return b[:k]
}

// headerContains: RFC 3501 6.4.4 HEADER and the address and SUBJECT keys
// match a substring of the field's value, decoded (RFC 2047) and
// compared case-insensitively; an empty string matches any message that
// has the field.
func (e *searchEval) headerContains(field string, needle []byte) bool {
	sum := e.summary()
	if sum == nil {
		return false
	}
	vals := sum.HeaderValues(field)
	if len(vals) == 0 && !sum.HeaderComplete {
		vals = message.HeaderFieldValues(e.header(), field)
	}
	for _, v := range vals {
		if len(needle) == 0 {
			return true
		}
		e.tmp = foldAppend(e.tmp[:0], []byte(v))
		if bytes.Contains(e.tmp, needle) {
			return true
		}
	}
	return false
}

// headerTextContains is the header half of TEXT: the raw header, then
// each field's decoded value.
func (e *searchEval) headerTextContains(needle []byte) bool {
	h := e.header()
	if len(needle) == 0 {
		return true
	}
	e.tmp = foldAppend(e.tmp[:0], h)
	if bytes.Contains(e.tmp, needle) {
		return true
	}
	e.seen = e.seen[:0]
	for _, name := range fieldNames(h) {
		dup := false
		for _, s := range e.seen {
			if strings.EqualFold(s, name) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		e.seen = append(e.seen, name)
		for _, v := range message.HeaderFieldValues(h, name) {
			e.tmp = foldAppend(e.tmp[:0], []byte(v))
			if bytes.Contains(e.tmp, needle) {
				return true
			}
		}
	}
	return false
}

// fieldNames lists the names of the fields of a header block.
func fieldNames(h []byte) []string {
	var out []string
	for len(h) > 0 && h[0] != '\r' && h[0] != '\n' {
		line := h
		if i := bytes.IndexByte(h, '\n'); i >= 0 {
			line, h = h[:i], h[i+1:]
		} else {
			h = nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue
		}
		if i := bytes.IndexByte(line, ':'); i > 0 {
			out = append(out, string(bytes.TrimRight(line[:i], " \t")))
		}
	}
	return out
}

// bodyContains: RFC 3501 6.4.4 BODY matches the text of the body: each
// text part, transfer-decoded and converted to UTF-8.
func (e *searchEval) bodyContains(needle []byte) bool {
	if len(needle) == 0 {
		return true
	}
	sum := e.summary()
	if sum == nil {
		return false
	}
	for _, p := range sum.LeafParts() {
		if p.Type != "TEXT" && p.Type != "" {
			continue
		}
		ra := e.messageFile()
		if ra == nil {
			return false
		}
		rd, err := message.DecodedText(ra, p)
		if err != nil {
			continue
		}
		if ok, _ := e.readerContains(rd, needle); ok {
			return true
		}
	}
	return false
}

// readerContains reports whether the folded text of rd contains needle,
// reading it in pieces: a window of len(needle)-1 folded bytes carries
// matches across pieces, and a rune split by a read waits for the next.
func (e *searchEval) readerContains(rd io.Reader, needle []byte) (bool, error) {
	if e.buf == nil {
		e.buf = make([]byte, 32<<10)
	}
	buf := e.buf
	win := e.win[:0]
	defer func() { e.win = win[:0] }()
	pending := 0
	for {
		n, err := rd.Read(buf[pending:])
		n += pending
		end := n
		if err == nil {
			end = completeRunes(buf[:n])
		}
		win = foldAppend(win, buf[:end])
		if bytes.Contains(win, needle) {
			return true, nil
		}
		if keep := len(needle) - 1; len(win) > keep {
			win = append(win[:0], win[len(win)-keep:]...)
		}
		pending = copy(buf, buf[end:n])
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
}

// completeRunes returns the length of b without an incomplete UTF-8
// sequence at its end.
func completeRunes(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return i
			}
			break
		}
	}
	return len(b)
}

// foldAppend appends s with every letter in lower case (Unicode simple
// folding; bytes that are not UTF-8 are kept): SEARCH compares strings
// case-insensitively (RFC 3501 6.4.4).
func foldAppend(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, c)
			i++
			continue
		}
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
		i += size
	}
	return dst
}
