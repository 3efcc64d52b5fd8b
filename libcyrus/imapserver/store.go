package imapserver

// STORE and UID STORE (RFC 3501 6.4.6, 6.4.8) with CONDSTORE's
// UNCHANGEDSINCE (RFC 7162 3.1.3). The store applies the ACL: flags the
// session has no right to change are ignored, as Cyrus ignores them.

import (
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/imapwire"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
)

func cmdStore(ss *session, tag string) result    { return ss.store(false) }
func cmdUIDStore(ss *session, tag string) result { return ss.store(true) }

func (ss *session) store(byUID bool) result {
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
	var unchangedSince uint64
	conditional := false
	if c, _ := ss.r.Peek(); c == '(' {
		err := ss.r.ReadList(func(r *imapwire.Reader) error {
			name, err := r.ReadAtom()
			if err != nil {
				return err
			}
			if !strings.EqualFold(name, "UNCHANGEDSINCE") {
				return &imapwire.SyntaxError{Msg: "Invalid Store modifier " + name}
			}
			if err := r.SP(); err != nil {
				return err
			}
			unchangedSince, err = r.ReadNumber64()
			conditional = true
			return err
		})
		if err != nil {
			return wireErr(err)
		}
		if err := ss.r.SP(); err != nil {
			return wireErr(err)
		}
	}
	item, err := ss.r.ReadAtom()
	if err != nil {
		return wireErr(err)
	}
	var op mailbox.FlagOp
	up := strings.ToUpper(item)
	silent := strings.HasSuffix(up, ".SILENT")
	switch strings.TrimSuffix(up, ".SILENT") {
	case "FLAGS":
		op = mailbox.FlagsReplace
	case "+FLAGS":
		op = mailbox.FlagsAdd
	case "-FLAGS":
		op = mailbox.FlagsRemove
	default:
		return wireErr(&imapwire.SyntaxError{Msg: "Invalid Store attribute " + item})
	}
	if err := ss.r.SP(); err != nil {
		return wireErr(err)
	}
	var flags []string
	if c, _ := ss.r.Peek(); c == '(' {
		flags, err = ss.r.ReadFlagList()
		if err != nil {
			return wireErr(err)
		}
	} else {
		// RFC 3501 9: store-att-flags also takes flags without the
		// parentheses.
		for {
			f, err := ss.r.ReadFlag()
			if err != nil {
				return wireErr(err)
			}
			flags = append(flags, f)
			if !ss.r.PeekSP() {
				break
			}
			ss.r.SP()
		}
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	set = ss.dollarSet(set, byUID)
	kept := flags[:0]
	for _, f := range flags {
		if strings.HasPrefix(f, `\`) && !isSystemFlag(f) {
			return bad("Invalid system flag in Store command")
		}
		// RFC 3501 2.3.2: \Recent cannot be altered by the client.
		if !strings.EqualFold(f, `\Recent`) {
			kept = append(kept, f)
		}
	}
	flags = kept
	m := ss.mbox
	if m.ReadOnly() {
		return no("READ-ONLY", "Mailbox is read-only")
	}

	uids := m.UIDs()
	seqs := selectMessages(set, byUID, uids)
	pick := make([]uint32, len(seqs))
	for i, s := range seqs {
		pick[i] = uids[s-1]
	}
	if conditional {
		ss.enableCondstore()
	}
	var res mailbox.StoreResult
	if conditional && unchangedSince == 0 {
		// RFC 7162 3.1.3: UNCHANGEDSINCE 0 always fails, every message
		// having a mod-sequence.
		res.Modified = pick
	} else if res, err = m.StoreFlags(pick, op, flags, unchangedSince); err != nil {
		return storeResult(err)
	}
	// RFC 7162 3.1.3: a CONDSTORE-aware client is told the new
	// mod-sequence of each message, even with .SILENT (then alone, as the
	// RFC's examples show, with the UID, 3.2.4).
	withModseq := ss.condstore()
	if !silent || withModseq {
		var kc keywordCache
		for _, uid := range res.Changed {
			seq := m.SeqOf(uid)
			if seq == 0 {
				continue
			}
			r, err := m.Record(seq)
			if err != nil {
				continue
			}
			ss.w.Untagged()
			ss.w.Number(seq)
			ss.w.Raw(" FETCH (")
			sep := ""
			if !silent {
				ss.w.Raw("FLAGS ")
				ss.writeFlags(&r, &kc)
				sep = " "
			}
			if byUID || ss.condstore() {
				ss.w.Raw(sep + "UID ")
				ss.w.Number(uid)
				sep = " "
			}
			if withModseq {
				ss.w.Raw(sep + "MODSEQ (")
				ss.w.Number64(r.Modseq)
				ss.w.Byte(')')
			}
			ss.w.Raw(")\r\n")
		}
	}
	// RFC 3501 7.4.1: no EXPUNGE during STORE; UID STORE may have them.
	if err := ss.sendUpdates(byUID); err != nil {
		return storeResult(err)
	}
	if len(res.Modified) > 0 {
		// RFC 7162 3.1.3: the messages UNCHANGEDSINCE kept, as sequence
		// numbers or UIDs like the command's own set.
		mod := res.Modified
		if !byUID {
			mod = make([]uint32, 0, len(res.Modified))
			for _, u := range res.Modified {
				if s := m.SeqOf(u); s > 0 {
					mod = append(mod, s)
				}
			}
		}
		return okCode("MODIFIED "+imapwire.SeqSetOf(mod).String(), "Conditional STORE failed")
	}
	return ok("")
}

// isSystemFlag reports whether f is a system flag (RFC 3501 2.3.2);
// \Recent is one, though STORE drops it.
func isSystemFlag(f string) bool {
	switch strings.ToLower(f) {
	case `\answered`, `\flagged`, `\deleted`, `\seen`, `\draft`, `\recent`:
		return true
	}
	return false
}
