package imapserver

// COPY, UID COPY (RFC 3501 6.4.7, 6.4.8) and MOVE, UID MOVE (RFC 6851),
// answered with COPYUID (RFC 4315 3). Quota is the store's business: a
// COPY that grows usage past the limit fails with OVERQUOTA, a MOVE within
// one quota root does not grow usage and succeeds even over quota.

import (
	"fmt"

	"github.com/cyrusgo/cyrusgo/libcyrus/imapwire"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
)

func cmdCopy(ss *session, tag string) result    { return ss.copyMessages(false, false) }
func cmdUIDCopy(ss *session, tag string) result { return ss.copyMessages(true, false) }
func cmdMove(ss *session, tag string) result    { return ss.copyMessages(false, true) }
func cmdUIDMove(ss *session, tag string) result { return ss.copyMessages(true, true) }

func (ss *session) copyMessages(byUID, move bool) result {
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
	ext, err := ss.r.ReadAString()
	if err != nil {
		return wireErr(err)
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	cmd := "Copy"
	if move {
		cmd = "Move"
	}
	dollar := set.Dollar
	set = ss.dollarSet(set, byUID)
	name, err := ss.toInternal(ext)
	if err != nil {
		return no("NONEXISTENT", "Mailbox does not exist")
	}
	m := ss.mbox
	uids := m.UIDs()
	seqs := selectMessages(set, byUID, uids)
	if len(seqs) == 0 {
		if byUID || dollar {
			// RFC 5182 2.1: an empty "$" is no error either.
			// RFC 3501 6.4.8: UIDs that do not exist are no error.
			return ok("")
		}
		return no("", "No matching messages")
	}
	pick := make([]uint32, len(seqs))
	for i, s := range seqs {
		pick[i] = uids[s-1]
	}

	dst, err := ss.srv.store.OpenTarget(ss.id, name)
	if err != nil {
		if mailbox.CodeOf(err) == mailbox.CodeNonexistent {
			// RFC 3501 6.4.7: the client may CREATE it and try again.
			return no("TRYCREATE", "Mailbox does not exist")
		}
		return storeResult(err)
	}
	res, err := m.CopyTo(dst, pick, move)
	uidValidity := dst.Entry().UIDValidity
	if cerr := dst.Close(); cerr != nil {
		ss.srv.log.Error(fmt.Sprintf("%s: closing %s: %v", cmd, name, cerr))
	}
	if err != nil {
		return storeResult(err)
	}
	code := ""
	if len(res.SrcUIDs) > 0 {
		code = fmt.Sprintf("COPYUID %d %s %s", uidValidity,
			imapwire.SeqSetOf(res.SrcUIDs), imapwire.SeqSetOf(res.DstUIDs))
	}
	if move {
		// RFC 6851 3.3: COPYUID goes out untagged, before the EXPUNGEs.
		if code != "" {
			ss.w.UntaggedStatus("OK", code, "Completed")
		}
		code = ""
	}
	if err := ss.sendUpdates(true); err != nil {
		return storeResult(err)
	}
	if code != "" {
		return okCode(code, "Completed")
	}
	return ok("")
}
