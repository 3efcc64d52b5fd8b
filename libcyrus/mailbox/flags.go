package mailbox

import (
	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
)

// FlagOp is how STORE combines flags (RFC 3501 6.4.6).
type FlagOp int

// The STORE operations.
const (
	FlagsReplace FlagOp = iota // FLAGS
	FlagsAdd                   // +FLAGS
	FlagsRemove                // -FLAGS
)

// StoreResult says what a STORE did.
type StoreResult struct {
	// Changed are the UIDs whose flags changed, with their new modseq.
	Changed []uint32
	// Modified are UIDs skipped because their modseq was above
	// UNCHANGEDSINCE (RFC 7162 3.1.3).
	Modified []uint32
	// HighestModseq after the store.
	HighestModseq uint64
}

// StoreFlags changes flags of the messages with the given UIDs (those in
// the view; others are ignored). unchangedSince > 0 applies CONDSTORE's
// UNCHANGEDSINCE. Flags the caller may not change are ignored; if it may
// change none of them the STORE fails with NOPERM.
func (m *Mailbox) StoreFlags(uids []uint32, op FlagOp, flags []string, unchangedSince uint64) (StoreResult, error) {
	var res StoreResult
	if m.readOnly {
		return res, ErrNoPerm
	}
	allowed := m.allowedFlags(flags)
	if len(allowed) < len(flags) && len(allowed) == 0 && len(flags) > 0 {
		return res, ErrNoPerm
	}
	// A replace must not touch flags the caller has no right to: keep
	// their current state.
	var keepMask uint16
	if m.rights&acl.Seen == 0 {
		keepMask |= FlagSeen
	}
	if m.rights&acl.DeleteMessages == 0 {
		keepMask |= FlagDeleted
	}
	keepKeywords := m.rights&acl.Write == 0
	if keepKeywords {
		keepMask |= FlagAnswered | FlagFlagged | FlagDraft
	}
	nonOwnerSeen := !m.isOwner()

	m.mu.Lock()
	defer m.mu.Unlock()
	l, err := m.fs.lock(true)
	if err != nil {
		return res, err
	}
	defer l.Unlock()
	if err := m.fs.reloadHeader(); err != nil {
		return res, err
	}
	h, err := m.headerForWrite()
	if err != nil {
		return res, err
	}
	if err := m.remapPositions(&h); err != nil {
		return res, err
	}
	startSeq := h.CommitSeq
	kw, err := m.fs.keywordBits(allowed, op != FlagsRemove)
	if err != nil {
		return res, &Error{Code: CodeLimit, Msg: err.Error()}
	}
	bits := systemBits(allowed)
	seenChanges := map[uint32]bool{}
	before := h.HighestModseq
	for _, uid := range uids {
		seq := m.seqLocked(uid)
		if seq == 0 {
			continue
		}
		p := m.view.pos[seq-1]
		if p == noPos {
			continue
		}
		r, err := m.fs.idx.readRecord(p)
		if err != nil {
			return res, err
		}
		if r.Expunged() {
			continue
		}
		if unchangedSince > 0 && r.Modseq > unchangedSince {
			res.Modified = append(res.Modified, uid)
			continue
		}
		nf, nk := r.Flags, r.UserFlags
		switch op {
		case FlagsAdd:
			nf |= bits
			nk[0] |= kw[0]
			nk[1] |= kw[1]
		case FlagsRemove:
			nf &^= bits
			nk[0] &^= kw[0]
			nk[1] &^= kw[1]
		case FlagsReplace:
			nf = (r.Flags & (keepMask | FlagExpunged)) | (bits &^ keepMask)
			if !keepKeywords {
				nk = kw
			}
		}
		if nonOwnerSeen {
			// \Seen of someone not the owner lives in the seen database.
			want := nf&FlagSeen != 0
			nf = nf&^FlagSeen | r.Flags&FlagSeen
			if want != m.seenUIDLocked(uid) && m.rights&acl.Seen != 0 {
				seenChanges[uid] = want
			}
		}
		if nf == r.Flags && nk == r.UserFlags {
			if _, ok := seenChanges[uid]; ok {
				res.Changed = append(res.Changed, uid)
			}
			continue
		}
		if h.Dirty&dirtyRecords == 0 {
			if err := m.markDirty(&h); err != nil {
				return res, err
			}
		}
		h.HighestModseq++
		r.Flags, r.UserFlags, r.Modseq = nf, nk, h.HighestModseq
		if err := m.fs.idx.writeRecord(p, &r); err != nil {
			return res, err
		}
		res.Changed = append(res.Changed, uid)
	}
	if h.HighestModseq != before {
		// One fsync covers the records and the header: a crash in between
		// leaves records ahead of the header, marked dirty for the next
		// writer (headerForWrite) to repair.
		h.settleRecords()
		if err := m.commitHeader(&h); err != nil {
			return res, err
		}
		if m.view.highestModseq == before && m.view.commitSeq == startSeq {
			// Nobody else wrote meanwhile: this session already knows
			// about its own changes.
			m.view.highestModseq = h.HighestModseq
			m.view.commitSeq = h.CommitSeq
		}
	}
	if len(seenChanges) > 0 {
		if err := m.storeSeenLocked(seenChanges); err != nil {
			return res, err
		}
	}
	res.HighestModseq = h.HighestModseq
	return res, nil
}
