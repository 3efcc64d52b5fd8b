package imapserver

import (
	"fmt"

	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
)

// sendUpdates tells the client what changed in the selected mailbox
// (RFC 3501 7: untagged EXPUNGE, EXISTS, RECENT and FETCH FLAGS). Callers
// pass allowExpunge false during FETCH, STORE and SEARCH (7.4.1).
func (ss *session) sendUpdates(allowExpunge bool) error {
	if ss.mbox == nil {
		return nil
	}
	u, err := ss.mbox.Sync(allowExpunge)
	if err != nil {
		return err
	}
	ss.writeUpdate(&u)
	if !allowExpunge && ss.qresync() {
		// RFC 7162 3.2: while expunges wait, HIGHESTMODSEQ stays below
		// them, whatever MODSEQ the FETCH responses showed.
		if low := ss.mbox.PendingExpungeModseq(); low > 0 {
			ss.w.Raw(fmt.Sprintf("* OK [HIGHESTMODSEQ %d] Ok\r\n", low-1))
		}
	}
	return nil
}

func (ss *session) writeUpdate(u *mailbox.Update) {
	if ss.qresync() && len(u.ExpungedUIDs) > 0 {
		ss.writeVanished(u)
	} else {
		for _, seq := range u.Expunged {
			ss.w.Untagged()
			ss.w.Number(seq)
			ss.w.Raw(" EXPUNGE\r\n")
		}
	}
	if u.Grew {
		ss.w.Untagged()
		ss.w.Number(u.Exists)
		ss.w.Raw(" EXISTS\r\n")
		if !ss.rev2() { // RFC 9051 E.6: no RECENT response
			ss.w.Untagged()
			ss.w.Number(u.Recent)
			ss.w.Raw(" RECENT\r\n")
		}
	}
	var kc keywordCache
	for _, seq := range u.Changed {
		r, err := ss.mbox.Record(seq)
		if err != nil {
			continue
		}
		ss.w.Untagged()
		ss.w.Number(seq)
		ss.w.Raw(" FETCH (FLAGS ")
		ss.writeFlags(&r, &kc)
		ss.w.Raw(" UID ")
		ss.w.Number(r.UID)
		if ss.condstore() {
			// RFC 7162 3.1: CONDSTORE-aware clients get the modseq.
			ss.w.Raw(" MODSEQ (")
			ss.w.Number64(r.Modseq)
			ss.w.Byte(')')
		}
		ss.w.Raw(")\r\n")
	}
}
