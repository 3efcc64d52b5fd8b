package imapserver

// APPEND with CATENATE (RFC 4469): the message is built from TEXT
// literals and URL references to messages (or parts of them) on this
// server that the user may read, and appended like any other; with
// MULTIAPPEND each message of the command may be one.
//
// The parts are read and staged as they come, never held in memory: the
// stage reads a catReader, which reads the next cat-part from the wire
// when the one before is used up. A URL that fails ends the command with
// NO [BADURL url] before the literals after it are asked for (RFC 4469
// 4.1); a message that would pass maxmessagesize (or 4 GB) with NO
// [TOOBIG] (4.2). URLs are RFC 5092 IMAP URLs of this server (see
// parseCatURL).

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/imapwire"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/message"
)

// maxCatenated is RFC 4469 4.2's limit, when maxmessagesize sets none.
const maxCatenated = 1<<32 - 1

// maxCatParts bounds the parts of one catenated message, as the number of
// messages of one APPEND is bounded by the line and literal limits.
const maxCatParts = 1000

// readCatenate reads "CATENATE" SP "(" cat-part *(SP cat-part) ")" where
// a message literal would stand, and stages the message; item holds the
// flags and date read before it. done is false when the command ends
// here with res.
func (ss *session) readCatenate(target *mailbox.Mailbox, item mailbox.AppendItem) (mailbox.AppendItem, result, bool) {
	fail := func(r result) (mailbox.AppendItem, result, bool) { return mailbox.AppendItem{}, r, false }
	word, err := ss.r.ReadAtom()
	if err != nil {
		return fail(wireErr(err))
	}
	if !strings.EqualFold(word, "CATENATE") {
		return fail(bad(textAppendArgs))
	}
	if err := ss.r.SP(); err != nil {
		return fail(wireErr(err))
	}
	if err := ss.r.Expect('('); err != nil {
		return fail(wireErr(err))
	}
	limit := int64(maxCatenated)
	if n := ss.srv.maxMsgSize; n > 0 && n < limit {
		limit = n
	}
	cr := &catReader{ss: ss, limit: limit}
	chk := &messageCheck{r: cr, reject8bit: ss.srv.cfg.Bool(config.Reject8Bit)}
	cr.chk = chk
	sm, err := ss.srv.store.Stage(target.Entry().Partition, chk, 0)
	cr.closePart()
	if cr.res != nil || chk.readErr != nil {
		if sm != nil {
			sm.Close()
		}
		if cr.res != nil {
			return fail(*cr.res)
		}
		return fail(wireErr(chk.readErr))
	}
	if err != nil {
		return fail(ss.mboxResult("APPEND", err))
	}
	if cr.total == 0 {
		sm.Close()
		return fail(no("", textZeroLength))
	}
	if msg := chk.finish(); msg != "" {
		sm.Close()
		return fail(no("", msg))
	}
	if chk.allowNull {
		var res result
		var ok bool
		if sm, res, ok = ss.storableBinary(sm, target.Entry().Partition); !ok {
			return fail(res)
		}
	}
	item.Staged = sm
	return item, result{}, true
}

// catReader reads the cat-parts of one CATENATE list as one stream.
type catReader struct {
	ss    *session
	chk   *messageCheck
	limit int64

	cur    io.Reader // the part being read
	closer io.Closer // its message file, for a URL
	parts  int
	total  int64
	done   bool
	res    *result // why the command ends early (not an I/O error of the part)
}

func (cr *catReader) Read(p []byte) (int, error) {
	for {
		if cr.res != nil {
			return 0, errCatenate
		}
		if cr.cur != nil {
			n, err := cr.cur.Read(p)
			cr.total += int64(n)
			if err == io.EOF {
				cr.closePart()
				err = nil
			}
			if err != nil {
				return n, err
			}
			if n > 0 {
				return n, nil
			}
			continue
		}
		if cr.done {
			return 0, io.EOF
		}
		if err := cr.next(); err != nil {
			return 0, err
		}
	}
}

// errCatenate stops the stage when cr.res says why.
var errCatenate = errors.New("catenate failed")

func (cr *catReader) stop(r result) error {
	cr.res = &r
	return errCatenate
}

func (cr *catReader) closePart() {
	if cr.closer != nil {
		cr.closer.Close()
	}
	cr.cur, cr.closer = nil, nil
}

// next reads the next cat-part, or the ")" that ends the list.
func (cr *catReader) next() error {
	r := cr.ss.r
	if cr.parts > 0 {
		c, err := r.Peek()
		if err != nil {
			return cr.wire(err)
		}
		if c == ')' {
			r.Expect(')')
			cr.done = true
			return nil
		}
		if err := r.SP(); err != nil {
			return cr.wire(err)
		}
	}
	if cr.parts++; cr.parts > maxCatParts {
		return cr.stop(bad("Too many message parts in Append command"))
	}
	kind, err := r.ReadAtom()
	if err != nil {
		return cr.wire(err)
	}
	if err := r.SP(); err != nil {
		return cr.wire(err)
	}
	switch strings.ToUpper(kind) {
	case "TEXT":
		if c, _ := r.Peek(); c == '~' {
			// A literal8 (RFC 3516 4.4) may carry NUL and bare LF.
			cr.chk.allowNull = true
		}
		// ReadLiteralReader takes 0 for no limit: at the limit already,
		// 1 lets only the empty literal through below.
		lit, size, err := r.ReadLiteralReader(max(cr.limit-cr.total, 1))
		if err != nil {
			var tb *imapwire.LiteralTooBigError
			if errors.As(err, &tb) {
				return cr.stop(no("TOOBIG", textTooBig))
			}
			return cr.wire(err)
		}
		if size > cr.limit-cr.total {
			return cr.stop(no("TOOBIG", textTooBig))
		}
		cr.cur = lit
		return nil
	case "URL":
		u, err := r.ReadAString()
		if err != nil {
			return cr.wire(err)
		}
		rd, size, closer, res := cr.ss.openCatURL(u)
		if res != nil {
			return cr.stop(*res)
		}
		if cr.total+size > cr.limit {
			closer.Close()
			return cr.stop(no("TOOBIG", textTooBig))
		}
		cr.cur, cr.closer = rd, closer
		return nil
	}
	return cr.stop(bad("Invalid message part type in Append command"))
}

// wire turns a reader error into the command's end: BAD for a syntax
// error, the I/O error itself otherwise.
func (cr *catReader) wire(err error) error {
	if imapwire.IsClientError(err) {
		return cr.stop(wireErr(err))
	}
	return err
}

// catURL is a parsed RFC 5092 message or message-part URL.
type catURL struct {
	mailbox     string // decoded (UTF-8), external form; "" for the selected one
	uidValidity uint32
	uid         uint32
	section     message.SectionSpec
	wholeMsg    bool // no section
	partial     bool
	offset      int64
	length      int64 // -1: to the end
}

// badURL is the answer to a URL that cannot be used (RFC 4469 4.1). The
// URL goes in the response code; "]" and control characters, which
// url-resp-text cannot hold, are percent-encoded.
func badURL(u, text string) *result {
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c == ']' || c < 0x20 || c == 0x7f || c >= 0x80 && !utf8.ValidString(u) {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	r := no("BADURL "+b.String(), text)
	return &r
}

// parseCatURL parses u: an absolute IMAP URL of this server and user
// ("imap://user@host/INBOX/;UID=1"), an absolute path ("/INBOX;UIDVALIDITY=5/;UID=1/;SECTION=1.MIME"),
// or, with a mailbox selected, a path relative to it (";UID=1").
// Parameter names are case-insensitive; URLAUTH and other parameters are
// not supported.
func (ss *session) parseCatURL(u string) (*catURL, string) {
	const malformed = "Improperly specified URL"
	path := u
	if len(u) >= 7 && strings.EqualFold(u[:7], "imap://") {
		rest := u[7:]
		slash := strings.IndexByte(rest, '/')
		if slash < 0 {
			return nil, malformed
		}
		auth, hostPort := "", rest[:slash]
		if at := strings.LastIndexByte(hostPort, '@'); at >= 0 {
			auth, hostPort = hostPort[:at], hostPort[at+1:]
		}
		host := hostPort
		if colon := strings.LastIndexByte(hostPort, ':'); colon >= 0 {
			host = hostPort[:colon]
		}
		user := auth
		if semi := strings.IndexByte(auth, ';'); semi >= 0 {
			user = auth[:semi]
		}
		user, err := url.PathUnescape(user)
		if err != nil || !strings.EqualFold(host, ss.srv.serverName) || user != "" && user != ss.user {
			return nil, "Only URLs of this server and user are supported"
		}
		path = rest[slash:]
	} else if i := strings.IndexAny(u, ":"); i >= 0 && !strings.ContainsAny(u[:i], "/;") {
		return nil, "Only IMAP URLs are supported"
	}
	var cu catURL
	cu.length = -1
	var params string
	switch {
	case strings.HasPrefix(path, "/"):
		i := indexFold(path, "/;UID=")
		if i < 0 {
			return nil, malformed
		}
		mbox := path[1:i]
		params = path[i+2:]
		if j := indexFold(mbox, ";UIDVALIDITY="); j >= 0 {
			n, err := strconv.ParseUint(mbox[j+len(";UIDVALIDITY="):], 10, 32)
			if err != nil || n == 0 {
				return nil, malformed
			}
			cu.uidValidity = uint32(n)
			mbox = mbox[:j]
		}
		name, err := url.PathUnescape(mbox)
		if err != nil || name == "" || !utf8.ValidString(name) {
			return nil, malformed
		}
		cu.mailbox = name
	case hasPrefixFold(path, ";UID="):
		if ss.mbox == nil {
			return nil, "No mailbox is selected or specified"
		}
		params = path[1:]
	default:
		return nil, malformed
	}
	for k, p := range strings.Split(params, "/;") {
		eq := strings.IndexByte(p, '=')
		if eq < 0 {
			return nil, malformed
		}
		name, val := strings.ToUpper(p[:eq]), p[eq+1:]
		switch {
		case k == 0 && name == "UID":
			n, err := strconv.ParseUint(val, 10, 32)
			if err != nil || n == 0 {
				return nil, malformed
			}
			cu.uid = uint32(n)
		case k == 1 && name == "SECTION":
			sec, err := url.PathUnescape(val)
			if err != nil || !parseURLSection(sec, &cu.section) {
				return nil, malformed
			}
		case k >= 1 && name == "PARTIAL" && !cu.partial:
			off, n, ok := strings.Cut(val, ".")
			o, err := strconv.ParseInt(off, 10, 64)
			if err != nil || o < 0 {
				return nil, malformed
			}
			cu.partial, cu.offset = true, o
			if ok {
				l, err := strconv.ParseInt(n, 10, 64)
				if err != nil || l <= 0 {
					return nil, malformed
				}
				cu.length = l
			}
		default:
			return nil, malformed
		}
	}
	cu.wholeMsg = len(cu.section.Path) == 0 && cu.section.Specifier == ""
	return &cu, ""
}

// parseURLSection parses the decoded enc-section of a URL (RFC 5092 3:
// the section of RFC 3501 without its brackets).
func parseURLSection(s string, sp *message.SectionSpec) bool {
	tok, fields, hasFields := strings.Cut(s, " ")
	if parseSectionText(tok, sp) != nil {
		return false
	}
	isFields := strings.HasPrefix(sp.Specifier, "HEADER.FIELDS")
	if isFields != hasFields {
		return false
	}
	if !isFields {
		return true
	}
	if !strings.HasPrefix(fields, "(") || !strings.HasSuffix(fields, ")") {
		return false
	}
	for _, f := range strings.Fields(fields[1 : len(fields)-1]) {
		if !validFieldName(f) {
			return false
		}
		sp.Fields = append(sp.Fields, f)
	}
	return len(sp.Fields) > 0
}

func indexFold(s, sub string) int {
	return strings.Index(strings.ToUpper(s), strings.ToUpper(sub))
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// openCatURL opens what u names: a reader of its bytes, their number and
// the message file to close after; res is the BADURL answer when u cannot
// be used.
func (ss *session) openCatURL(u string) (rd io.Reader, size int64, closer io.Closer, res *result) {
	cu, why := ss.parseCatURL(u)
	if cu == nil {
		return nil, 0, nil, badURL(u, why)
	}
	name := ss.mboxName
	if cu.mailbox != "" {
		var err error
		name, err = ss.ns.ToInternal(cu.mailbox, ss.user)
		if err != nil {
			return nil, 0, nil, badURL(u, textNoSuchTarget)
		}
	}
	// A mailbox of its own, read-only, even when it is the selected one:
	// its view is fresh and the session's is left alone.
	m, err := ss.srv.store.Open(ss.id, name, mailbox.OpenOptions{ReadOnly: true})
	if err != nil {
		switch mailbox.CodeOf(err) {
		case mailbox.CodeNonexistent:
			return nil, 0, nil, badURL(u, textNoSuchTarget)
		case mailbox.CodeNoPerm:
			return nil, 0, nil, badURL(u, "Permission denied")
		}
		return nil, 0, nil, badURL(u, storeResult(err).text)
	}
	defer m.Close()
	if m.Rights()&acl.Read == 0 {
		return nil, 0, nil, badURL(u, "Permission denied")
	}
	if cu.uidValidity != 0 && cu.uidValidity != m.Entry().UIDValidity {
		return nil, 0, nil, badURL(u, "Uidvalidity of mailbox has changed")
	}
	seq := m.SeqOf(cu.uid)
	var rec mailbox.Record
	if seq != 0 {
		rec, err = m.Record(seq)
	}
	if seq == 0 || err != nil || rec.Expunged() {
		return nil, 0, nil, badURL(u, "No such message in mailbox")
	}
	f, err := m.OpenMessage(&rec)
	if err != nil {
		return nil, 0, nil, badURL(u, "No such message in mailbox")
	}
	var sr sizedReader = io.NewSectionReader(f, 0, int64(rec.Size))
	if !cu.wholeMsg {
		sr = nil
		data, err := m.CacheData(&rec)
		var sum *message.Summary
		if err == nil {
			sum, err = message.Unmarshal(data)
		}
		if err == nil {
			var ref message.SectionRef
			if ref, err = sum.Resolve(cu.section); err == nil {
				var r io.Reader
				if r, err = ref.Reader(f); err == nil {
					sr, _ = r.(sizedReader)
				}
			}
		}
		if sr == nil {
			f.Close()
			return nil, 0, nil, badURL(u, "No such message part")
		}
	}
	size = sr.Size()
	if cu.partial {
		start := min(cu.offset, size)
		n := size - start
		if cu.length >= 0 {
			n = min(n, cu.length)
		}
		if _, err := sr.Seek(start, io.SeekStart); err != nil {
			f.Close()
			return nil, 0, nil, badURL(u, "No such message part")
		}
		return io.LimitReader(sr, n), n, f, nil
	}
	return sr, size, f, nil
}
