package imapserver

// FETCH items of the extensions beside RFC 3501: EMAILID and THREADID
// (RFC 8474 5), SAVEDATE (RFC 8514 4.1) and PREVIEW (RFC 8970 3). They
// come after the RFC 3501 items of a response, in this order, which RFC
// 3501 7.4.2 allows.

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/imapwire"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/message"
)

// fetchExt are the extension items one FETCH asked for.
type fetchExt struct {
	emailID, threadID, saveDate, preview bool
}

func (x *fetchExt) any() bool { return x.emailID || x.threadID || x.saveDate || x.preview }

// readAtt reads the rest of the extension item up (its name, upper
// case, already read); handled is false for a name that is none of them.
// With single set the item stands alone after the sequence set, where a
// parenthesised list after it may be the fetch modifiers instead.
func (x *fetchExt) readAtt(r *imapwire.Reader, up string, a *fetchArgs, single bool) (handled bool, err error) {
	switch up {
	case "EMAILID":
		x.emailID = true
	case "THREADID":
		x.threadID = true
	case "SAVEDATE":
		x.saveDate = true
	case "PREVIEW":
		x.preview = true
		return true, x.readPreviewMods(r, a, single)
	default:
		return false, nil
	}
	return true, nil
}

// readPreviewMods reads RFC 8970's optional SP "(" preview-mod *(SP
// preview-mod) ")". The only modifier, LAZY, lets the server answer NIL
// when the preview is not at hand; this server computes it on demand for
// every request, which the RFC allows, so LAZY changes nothing. After a
// lone PREVIEW the list may also be, or carry, the fetch modifiers
// (CHANGEDSINCE): "FETCH 1 PREVIEW (CHANGEDSINCE 4)" is read as such.
func (x *fetchExt) readPreviewMods(r *imapwire.Reader, a *fetchArgs, single bool) error {
	if c, ok := r.PeekAfterSP(); !ok || c != '(' {
		return nil
	}
	if err := r.SP(); err != nil {
		return err
	}
	return r.ReadList(func(r *imapwire.Reader) error {
		name, err := r.ReadAtom()
		if err != nil {
			return err
		}
		switch up := strings.ToUpper(name); {
		case up == "LAZY":
			return nil
		case single && up == "CHANGEDSINCE":
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
		return &imapwire.SyntaxError{Msg: "Invalid Fetch attribute PREVIEW modifier " + name}
	})
}

// emailID is the EMAILID of a message (RFC 8474 5.1): Cyrus's form, "M"
// and the first 12 bytes of the content's SHA-1 in hex. It depends only on
// the message's bytes, so it survives COPY and MOVE and is the same for
// the same message in two mailboxes, as RFC 8474 5.1 allows.
func emailID(r *mailbox.Record) string {
	return "M" + hex.EncodeToString(r.GUID[:12])
}

// saveDate is the SAVEDATE of a record (RFC 8514): when it was added to
// this mailbox. Records written before save dates were kept read as the
// epoch; for them the internal date stands in.
func saveDate(r *mailbox.Record) time.Time {
	if r.SaveDate.Unix() <= 0 {
		return r.InternalDate
	}
	return r.SaveDate.In(time.Local)
}

// writeExt writes the extension items of one message's response; item
// writes the separator and the item's name.
func (fx *fetcher) writeExt(fr *fetchRec, sum *message.Summary, ra io.ReaderAt, item func(string)) {
	x, w, r := &fx.args.ext, fx.ss.w, &fr.r
	if !x.any() {
		return
	}
	if x.emailID {
		item("EMAILID")
		w.Raw("(" + emailID(r) + ")")
	}
	if x.threadID {
		// RFC 8474 5.2: NIL when the server does not thread; messages
		// are not grouped into conversations here.
		item("THREADID")
		w.Nil()
	}
	if x.saveDate {
		item("SAVEDATE")
		w.Raw(`"` + saveDate(r).Format(internalDateLayout) + `"`)
	}
	if x.preview {
		item("PREVIEW")
		text, err := fx.preview(r, sum, ra)
		if err != nil {
			if !errors.Is(err, mailbox.ErrExpunged) {
				fx.ss.srv.log.Error(fmt.Sprintf("FETCH PREVIEW: %s uid %d: %v", fx.ss.mboxName, r.UID, err))
			}
			w.Nil()
			return
		}
		w.String(text)
	}
}

// preview computes the PREVIEW of a message, opening what the rest of
// the response did not need.
func (fx *fetcher) preview(r *mailbox.Record, sum *message.Summary, ra io.ReaderAt) (string, error) {
	m := fx.ss.mbox
	if sum == nil {
		data, err := m.CacheData(r)
		if err != nil {
			return "", err
		}
		if sum, err = message.Unmarshal(data); err != nil {
			return "", err
		}
	}
	if _, none := ra.(noFile); none {
		f, err := m.OpenMessage(r)
		if err != nil {
			return "", err
		}
		defer f.Close()
		ra = f
	}
	return messagePreview(sum, ra)
}
