package imapserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/imapwire"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
)

func cmdSelect(ss *session, tag string) result  { return ss.selectMailbox(false) }
func cmdExamine(ss *session, tag string) result { return ss.selectMailbox(true) }

// selectMailbox is SELECT and EXAMINE (RFC 3501 6.3.1, 6.3.2), answered
// with the lines Cyrus 3.6 sends.
func (ss *session) selectMailbox(examine bool) result {
	if err := ss.r.SP(); err != nil {
		return wireErr(err)
	}
	ext, err := ss.r.ReadAString()
	if err != nil {
		return wireErr(err)
	}
	// RFC 7162 3.1.8, 3.2.5: CONDSTORE and QRESYNC (condstore.go).
	var params selectParams
	if ss.r.PeekSP() {
		ss.r.SP()
		if params, err = ss.readSelectParams(); err != nil {
			return wireErr(err)
		}
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	if ss.mbox != nil {
		// RFC 7162 3.2.11: leaving the old mailbox is announced.
		ss.closeMailbox(false)
		ss.w.Raw("* OK [CLOSED] Ok\r\n")
	}
	if params.condstore {
		// Nothing is selected: HIGHESTMODSEQ follows with the new mailbox.
		ss.enabled["CONDSTORE"] = true
	}
	name, err := ss.toInternal(ext)
	if err != nil {
		return no("NONEXISTENT", "Mailbox does not exist")
	}
	m, err := ss.srv.store.Open(ss.id, name, mailbox.OpenOptions{ReadOnly: examine, ClaimRecent: !examine})
	if err != nil {
		return storeResult(err)
	}
	ss.mbox, ss.mboxName, ss.state = m, name, stateSelected
	st := m.Status()
	ss.w.Raw(fmt.Sprintf("* %d EXISTS\r\n", st.Messages))
	if !ss.rev2() {
		ss.w.Raw(fmt.Sprintf("* %d RECENT\r\n", st.Recent)) // gone in RFC 9051 (E.6)
	}
	flags := append([]string{`\Answered`, `\Flagged`, `\Draft`, `\Deleted`, `\Seen`}, m.Keywords()...)
	ss.w.Raw("* FLAGS (" + strings.Join(flags, " ") + ")\r\n")
	ss.w.Raw("* OK [PERMANENTFLAGS (" + strings.Join(ss.permanentFlags(m), " ") + ")] Ok\r\n")
	if st.FirstUnseen > 0 && !ss.rev2() { // gone in RFC 9051 (E.7)
		ss.w.Raw(fmt.Sprintf("* OK [UNSEEN %d] Ok\r\n", st.FirstUnseen))
	}
	ss.w.Raw(fmt.Sprintf("* OK [UIDVALIDITY %d] Ok\r\n", st.UIDValidity))
	ss.w.Raw(fmt.Sprintf("* OK [UIDNEXT %d] Ok\r\n", st.UIDNext))
	ss.w.Raw(fmt.Sprintf("* OK [HIGHESTMODSEQ %d] Ok\r\n", st.HighestModseq))
	ss.w.Raw(fmt.Sprintf("* OK [MAILBOXID (%s)] Ok\r\n", m.Entry().UniqueID))
	if ss.rev2() {
		ss.writeSelectedList(name)
	}
	ss.searchRes = nil // RFC 5182 2.1
	if params.qresync != nil {
		if err := ss.qresyncSelect(params.qresync); err != nil {
			return storeResult(err)
		}
	}
	if m.ReadOnly() {
		return okCode("READ-ONLY", "Completed")
	}
	return okCode("READ-WRITE", "Completed")
}

// permanentFlags lists the flags the session may set for good.
func (ss *session) permanentFlags(m *mailbox.Mailbox) []string {
	if m.ReadOnly() {
		return nil
	}
	r := m.Rights()
	var out []string
	if r&acl.Write != 0 {
		out = append(out, `\Answered`, `\Flagged`, `\Draft`)
	}
	if r&acl.DeleteMessages != 0 {
		out = append(out, `\Deleted`)
	}
	if r&acl.Seen != 0 {
		out = append(out, `\Seen`)
	}
	if r&acl.Write != 0 {
		out = append(out, m.Keywords()...)
		out = append(out, `\*`)
	}
	return out
}

// closeMailbox leaves the selected mailbox; expunge applies CLOSE's
// silent expunge (RFC 3501 6.4.2).
func (ss *session) closeMailbox(expunge bool) {
	if ss.mbox == nil {
		return
	}
	if expunge && !ss.mbox.ReadOnly() && ss.mbox.Rights()&acl.Expunge != 0 {
		if _, err := ss.mbox.Expunge(nil); err != nil {
			ss.srv.log.Error(fmt.Sprintf("CLOSE expunge of %s: %v", ss.mboxName, err))
		}
	}
	ss.mbox.Close()
	ss.mbox, ss.mboxName = nil, ""
	ss.searchRes = nil
	ss.state = stateAuth
}

func cmdClose(ss *session, tag string) result {
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	ss.closeMailbox(true)
	return ok("")
}

func cmdUnselect(ss *session, tag string) result {
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	ss.closeMailbox(false)
	return ok("")
}

func cmdCheck(ss *session, tag string) result {
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	if err := ss.sendUpdates(true); err != nil {
		return storeResult(err)
	}
	return ok("")
}

func cmdExpunge(ss *session, tag string) result {
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	return ss.expunge(nil)
}

// cmdUIDExpunge is RFC 4315 2.1.
func cmdUIDExpunge(ss *session, tag string) result {
	if err := ss.r.SP(); err != nil {
		return wireErr(err)
	}
	set, err := ss.r.ReadSequenceSet()
	if err != nil {
		return wireErr(err)
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	set = ss.dollarSet(set, true)
	uids := ss.mbox.UIDs()
	var pick []uint32
	last := uint32(0)
	if len(uids) > 0 {
		last = uids[len(uids)-1]
	}
	for _, u := range uids {
		if set.Contains(u, last) {
			pick = append(pick, u)
		}
	}
	if pick == nil {
		pick = []uint32{}
	}
	return ss.expunge(pick)
}

func (ss *session) expunge(uids []uint32) result {
	if ss.mbox.ReadOnly() {
		return no("READ-ONLY", "Mailbox is read-only")
	}
	gone, err := ss.mbox.Expunge(uids)
	if err != nil {
		return storeResult(err)
	}
	if err := ss.sendUpdates(true); err != nil {
		return storeResult(err)
	}
	if len(gone) > 0 && ss.qresync() {
		// RFC 7162 3.2.7, 3.2.9: the new HIGHESTMODSEQ in the tagged OK.
		return okCode(fmt.Sprintf("HIGHESTMODSEQ %d", ss.mbox.HighestModseq()), "Completed")
	}
	return ok("")
}

// cmdIdle is RFC 2177: changes by other processes reach the client as
// they happen (inotify on the index, imapidlepoll as the fallback), until
// the client sends DONE or imapidletimeout passes.
func cmdIdle(ss *session, tag string) result {
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	if err := ss.w.Continue("idling"); err != nil {
		return wireErr(err)
	}
	ctx, cancel := context.WithCancel(ss.ctx)
	defer cancel()
	var wake <-chan struct{}
	if ss.mbox != nil {
		wake, _ = ss.mbox.Watch(ctx)
	}
	poll := ss.srv.cfg.Duration(config.IMAPIdlePoll)
	if poll <= 0 || poll > time.Minute {
		poll = time.Minute
	}
	ticker := time.NewTicker(poll)
	defer ticker.Stop()

	type line struct {
		s   string
		err error
	}
	lines := make(chan line, 1)
	ss.conn.SetReadDeadline(time.Now().Add(ss.srv.idleTime))
	go func() {
		s, err := ss.r.ReadLine(64)
		lines <- line{s, err}
	}()
	for {
		select {
		case l := <-lines:
			if l.err != nil {
				if errors.Is(l.err, io.EOF) || !imapwire.IsClientError(l.err) {
					return result{err: l.err}
				}
				return bad("Invalid Idle continuation")
			}
			if !strings.EqualFold(strings.TrimSpace(l.s), "DONE") {
				return bad("Invalid Idle continuation")
			}
			if err := ss.sendUpdates(true); err != nil {
				return storeResult(err)
			}
			return ok("")
		case <-wake:
		case <-ticker.C:
		case <-ss.ctx.Done():
			ss.w.Raw("* BYE Server shutting down\r\n")
			ss.w.Flush()
			ss.state = stateLogout
			return result{status: answered}
		}
		if err := ss.sendUpdates(true); err != nil {
			return storeResult(err)
		}
		if err := ss.w.Flush(); err != nil {
			return wireErr(err)
		}
	}
}
