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
// parseCatURL in imapurl.go).

import (
	"errors"
	"io"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/imapwire"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
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
