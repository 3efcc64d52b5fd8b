package imapserver

// APPEND (RFC 3501 6.3.11) with MULTIAPPEND (RFC 3502) and APPENDUID
// (RFC 4315 3). Each message literal is streamed into the store's stage
// directory as it arrives, checked on the way as Cyrus's
// message_copy_strict checks it, and never held in memory; the messages
// of one command are appended in one transaction, all or none.
//
// The target mailbox is looked up before the first literal is read, so a
// client told NO [TRYCREATE] never sends the message (no "+" continuation
// for a synchronizing literal); a literal over maxmessagesize is refused
// with NO [TOOBIG] before its "+" (imapwire checks the size first).

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/imapwire"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
)

// Cyrus 3.6's texts for APPEND failures.
const (
	textTooBig       = "Message size exceeds fixed limit"
	textZeroLength   = "Zero-length message literal"
	textBadFlag      = "Invalid flag in Append command"
	textBadDate      = "Invalid date-time in Append command"
	textAppendArgs   = "Missing required argument to Append command"
	textNUL          = "Message contains NUL characters"
	textBareNewline  = "Message contains bare newlines"
	textEightBit     = "Message contains non-ASCII characters in headers"
	textInvalidHdr   = "Message contains invalid header"
	textNoSuchTarget = "Mailbox does not exist"
)

// cmdAppend is RFC 3501 6.3.11 and RFC 3502 6.3.11.
func cmdAppend(ss *session, tag string) result {
	ext, err := ss.readMboxArg()
	if err != nil {
		return wireErr(err)
	}
	name, err := ss.toInternal(ext)
	if err != nil {
		return no("TRYCREATE", textNoSuchTarget)
	}
	target, rights, res, found := ss.appendTarget(name)
	if !found {
		// RFC 3501 6.3.11: the message is not read. What the client
		// sends of the command is skipped after the answer (by the next
		// ReadTag): a non-synchronizing literal may be on its way, and
		// the client hears the answer without waiting for it.
		return res
	}
	defer target.Close()

	var items []mailbox.AppendItem
	defer func() {
		for _, it := range items {
			it.Staged.Close()
		}
	}()
	for {
		item, res, done := ss.readAppendMessage(target, rights)
		if !done {
			return res
		}
		items = append(items, item)
		// RFC 3502 6.3.11: another message follows.
		if !ss.r.PeekSP() {
			break
		}
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	uids, err := target.Append(items)
	if err != nil {
		switch mailbox.CodeOf(err) {
		case mailbox.CodeNonexistent:
			return no("TRYCREATE", textNoSuchTarget)
		case mailbox.CodeOverQuota:
			// RFC 9208 4.3: the append would pass the quota root's limit.
			return no("OVERQUOTA", textOverQuota)
		}
		return ss.mboxResult("APPEND", err)
	}
	if ss.mbox != nil && ss.mboxName == name {
		// RFC 3501 6.3.11: the selected mailbox's client hears of the
		// new messages.
		if err := ss.sendUpdates(true); err != nil {
			return storeResult(err)
		}
	}
	// RFC 4315 3: APPENDUID uidvalidity uid-set.
	code := fmt.Sprintf("APPENDUID %d %s", target.Entry().UIDValidity, imapwire.SeqSetOf(uids))
	return okCode(code, "Completed")
}

// appendTarget opens the mailbox APPEND adds to; the i right is needed
// (RFC 4314 4). A mailbox the client may insert into but not read (a
// drop box) is opened as delivery opens it, and the flags it may not set
// are dropped here.
func (ss *session) appendTarget(name string) (*mailbox.Mailbox, acl.Rights, result, bool) {
	_, rights, err := ss.srv.store.Info(ss.id, name)
	if err != nil {
		if mailbox.CodeOf(err) == mailbox.CodeNonexistent {
			// RFC 3501 6.3.11: the client may CREATE it and retry.
			return nil, 0, no("TRYCREATE", textNoSuchTarget), false
		}
		return nil, 0, ss.mboxResult("APPEND", err), false
	}
	if rights&acl.Insert == 0 {
		return nil, 0, no("", textPermission), false
	}
	m, err := ss.srv.store.OpenTarget(ss.id, name)
	if err != nil {
		if mailbox.CodeOf(err) == mailbox.CodeNonexistent {
			return nil, 0, no("TRYCREATE", textNoSuchTarget), false
		}
		return nil, 0, ss.mboxResult("APPEND", err), false
	}
	return m, rights, result{}, true
}

// readAppendMessage reads SP [flag-list SP] [date-time SP] literal and
// stages the literal. done is false when the command ends here with res.
func (ss *session) readAppendMessage(target *mailbox.Mailbox, rights acl.Rights) (item mailbox.AppendItem, res result, done bool) {
	// A failure leaves the rest of the command to the next ReadTag.
	fail := func(r result) (mailbox.AppendItem, result, bool) {
		return mailbox.AppendItem{}, r, false
	}
	if err := ss.r.SP(); err != nil {
		return mailbox.AppendItem{}, wireErr(err), false
	}
	c, err := ss.r.Peek()
	if err != nil {
		return mailbox.AppendItem{}, wireErr(err), false
	}
	if c == '(' {
		flags, err := ss.r.ReadFlagList()
		if err != nil {
			return mailbox.AppendItem{}, wireErr(err), false
		}
		for _, f := range flags {
			if !appendFlagOK(f) {
				return fail(bad(textBadFlag))
			}
		}
		item.Flags = allowedAppendFlags(flags, rights)
		if err := ss.r.SP(); err != nil {
			return mailbox.AppendItem{}, wireErr(err), false
		}
		if c, err = ss.r.Peek(); err != nil {
			return mailbox.AppendItem{}, wireErr(err), false
		}
	}
	if c == '"' {
		date, err := ss.r.ReadDateTime()
		if err != nil {
			if imapwire.IsClientError(err) {
				return fail(bad(textBadDate))
			}
			return mailbox.AppendItem{}, wireErr(err), false
		}
		item.InternalDate = date
		if err := ss.r.SP(); err != nil {
			return mailbox.AppendItem{}, wireErr(err), false
		}
		if c, err = ss.r.Peek(); err != nil {
			return mailbox.AppendItem{}, wireErr(err), false
		}
	}
	if c == 'C' || c == 'c' {
		// RFC 4469: CATENATE (catenate.go).
		return ss.readCatenate(target, item)
	}
	if c != '{' && c != '~' {
		return fail(bad(textAppendArgs))
	}
	// RFC 3516 4.4: a literal8 message may hold NUL and bare LF in its
	// body.
	binary := c == '~'
	lit, size, err := ss.r.ReadLiteralReader(ss.srv.maxMsgSize)
	if err != nil {
		var tb *imapwire.LiteralTooBigError
		if errors.As(err, &tb) {
			// RFC 7888 4 / RFC 4469: refused before the "+".
			return fail(no("TOOBIG", textTooBig))
		}
		return mailbox.AppendItem{}, wireErr(err), false
	}
	if size == 0 {
		return fail(no("", textZeroLength))
	}
	chk := &messageCheck{r: lit, allowNull: binary, reject8bit: ss.srv.cfg.Bool(config.Reject8Bit)}
	sm, err := ss.srv.store.Stage(target.Entry().Partition, chk, 0)
	if chk.readErr != nil {
		// The connection failed in the middle of the literal.
		if sm != nil {
			sm.Close()
		}
		return mailbox.AppendItem{}, wireErr(chk.readErr), false
	}
	if err != nil {
		return fail(ss.mboxResult("APPEND", err))
	}
	if msg := chk.finish(); msg != "" {
		sm.Close()
		return fail(no("", msg))
	}
	if binary {
		// RFC 3516 4.4 (binary_append.go).
		var res result
		var ok bool
		if sm, res, ok = ss.storableBinary(sm, target.Entry().Partition); !ok {
			return fail(res)
		}
	}
	item.Staged = sm
	return item, result{}, true
}

// appendFlagOK reports whether an APPEND may carry f: a keyword or a
// system flag other than \Recent (RFC 3501 6.3.11: \Recent is the
// server's).
func appendFlagOK(f string) bool {
	if !strings.HasPrefix(f, `\`) {
		return true
	}
	switch strings.ToLower(f) {
	case `\answered`, `\flagged`, `\deleted`, `\seen`, `\draft`:
		return true
	}
	return false
}

// allowedAppendFlags drops the flags rights do not let the client set, as
// Cyrus does: \Seen needs s, \Deleted t, the others w.
func allowedAppendFlags(flags []string, rights acl.Rights) []string {
	var out []string
	for _, f := range flags {
		need := acl.Write
		switch strings.ToLower(f) {
		case `\seen`:
			need = acl.Seen
		case `\deleted`:
			need = acl.DeleteMessages
		}
		if rights&need != 0 {
			out = append(out, f)
		}
	}
	return out
}

// messageCheck passes a message through while applying the rules of
// Cyrus's message_copy_strict: no NUL (except in a literal8), no LF
// without CR before it (except in a literal8's body), no 8-bit header
// bytes when reject8bit is set, and header lines that are a field name
// and a colon, a continuation, or a "From " line, the header ending with
// a line end. It never buffers the message.
type messageCheck struct {
	r          io.Reader
	allowNull  bool
	reject8bit bool

	readErr error  // the connection failed: not a message problem
	msg     string // the first byte rule broken
	badHdr  bool   // the field-name rule broken (checked after the bytes)

	started  bool
	inHeader bool
	sawCR    bool
	blank    bool // nothing but CR since the last LF

	hdr  hdrState // the field-name check of the header
	from int      // bytes of "From " matched at the start of a line
}

type hdrState uint8

const (
	hdrLineStart hdrState = iota
	hdrFrom               // maybe a "From " line
	hdrName               // in a field name, before the colon
	hdrRest               // the rest of a line
	hdrDone               // the header ended (or failed): no more checks
)

func (mc *messageCheck) Read(p []byte) (int, error) {
	n, err := mc.r.Read(p)
	if !mc.started {
		mc.started, mc.inHeader, mc.blank = true, true, true
	}
	for _, c := range p[:n] {
		mc.scan(c)
	}
	if err != nil && err != io.EOF {
		mc.readErr = err
	}
	return n, err
}

func (mc *messageCheck) fail(msg string) {
	if mc.msg == "" {
		mc.msg = msg
	}
}

func (mc *messageCheck) scan(c byte) {
	switch {
	case c == 0 && !mc.allowNull:
		mc.fail(textNUL)
	case c == '\n':
		if !mc.sawCR && (mc.inHeader || !mc.allowNull) {
			mc.fail(textBareNewline)
		}
		mc.sawCR = false
		if mc.blank {
			mc.inHeader = false
		}
		mc.blank = true
	case c == '\r':
		mc.sawCR = true
	default:
		mc.sawCR, mc.blank = false, false
		if mc.inHeader && c >= 0x80 && mc.reject8bit {
			mc.fail(textEightBit)
		}
	}
	mc.header(c)
}

// header follows the field-name rule of the header section.
func (mc *messageCheck) header(c byte) {
	const from = "From "
	switch mc.hdr {
	case hdrLineStart:
		switch {
		case c == '\r':
			mc.hdr = hdrDone // the empty line: the header ends
		case c == ' ' || c == '\t':
			mc.hdr = hdrRest // a continuation line
		case c == ':':
			mc.badHeader()
		case c == from[0]:
			mc.hdr, mc.from = hdrFrom, 1
		default:
			mc.hdr = hdrName
			mc.nameByte(c)
		}
	case hdrFrom:
		if c == from[mc.from] {
			mc.from++
			if mc.from == len(from) {
				mc.hdr = hdrRest // a "From " line needs no colon
			}
			return
		}
		// Not "From ": what was matched is an ordinary name so far.
		mc.hdr = hdrName
		mc.nameByte(c)
	case hdrName:
		mc.nameByte(c)
	case hdrRest:
		if c == '\n' {
			mc.hdr = hdrLineStart
		}
	}
}

func (mc *messageCheck) nameByte(c byte) {
	switch {
	case c == ':':
		mc.hdr = hdrRest
	case c <= ' ':
		mc.badHeader()
	}
}

func (mc *messageCheck) badHeader() {
	mc.hdr = hdrDone
	mc.badHdr = true
}

// finish returns the rule the message broke, "" if none: the byte rules
// first, as Cyrus checks the header only of a message that passed them.
// A header that ends without a line end is invalid.
func (mc *messageCheck) finish() string {
	if mc.msg != "" {
		return mc.msg
	}
	if mc.badHdr || mc.hdr != hdrDone && mc.hdr != hdrLineStart {
		return textInvalidHdr
	}
	return ""
}
