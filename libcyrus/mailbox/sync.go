package mailbox

import (
	"sort"
)

// Update is what changed in a mailbox since the session last looked, in
// the order IMAP reports it: expunges, then the new message count, then
// flag changes.
type Update struct {
	// Expunged holds sequence numbers, each valid at the moment it is
	// reported (the later ones already account for the earlier).
	Expunged []uint32
	// ExpungedUIDs are the same messages by UID (for VANISHED).
	ExpungedUIDs []uint32
	// Exists is the message count after the update; Grew is set when
	// messages were added.
	Exists uint32
	Grew   bool
	Recent uint32
	// Changed holds sequence numbers (after the expunges) whose flags or
	// keywords changed.
	Changed []uint32
	// HighestModseq after the update.
	HighestModseq uint64
}

// Empty reports whether there is nothing to tell.
func (u *Update) Empty() bool {
	return len(u.Expunged) == 0 && !u.Grew && len(u.Changed) == 0
}

// Sync brings the view up to date with the index. Expunges are applied to
// the view only when allowExpunge is set: RFC 3501 7.4.1 forbids sending
// EXPUNGE during FETCH, STORE and SEARCH, so those commands pass false and
// the expunges wait for a later command.
func (m *Mailbox) Sync(allowExpunge bool) (Update, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var u Update
	v := &m.view
	h, err := m.fs.idx.readHeader()
	if err != nil {
		return u, err
	}
	// A replaced index (reconstruct, repack) no longer changes under the
	// old descriptor: look at the path too, and let the lock reopen it.
	if h.CommitSeq != v.commitSeq || m.fs.replaced() {
		l, err := m.fs.lock(false)
		if err != nil {
			return u, err
		}
		h, err = m.fs.idx.readHeader()
		if err == nil {
			err = m.follow(&h, &u)
		}
		l.Unlock()
		if err != nil {
			return u, err
		}
		// Claiming \Recent needs the exclusive lock, which flock cannot
		// take while this process holds the shared one on another fd.
		if u.Grew && m.claimsRecent() && h.LastUID > h.RecentUID {
			m.claimRecentLocked()
		}
	}
	if allowExpunge && len(v.pending) > 0 {
		m.applyExpunges(&u)
	}
	u.Exists = uint32(len(v.uids))
	u.Recent = uint32(len(v.recent))
	u.HighestModseq = v.highestModseq
	return u, nil
}

// follow reads what changed between the view and header h (shared lock
// held) into u.
func (m *Mailbox) follow(h *Header, u *Update) error {
	v := &m.view
	if h.UIDValidity != m.entry.UIDValidity {
		// Cannot happen for a mailbox we hold open; treat as corrupt.
		return ErrCorrupt
	}
	if h.Generation != v.generation {
		if err := m.remap(h, u); err != nil {
			return err
		}
	} else {
		changedFrom := v.highestModseq
		// Appends raise HIGHESTMODSEQ too; only a change in place (or a
		// writer that died mid-change) calls for a scan of the old records.
		inPlace := h.ChangedModseq > changedFrom || h.Dirty&dirtyRecords != 0
		if inPlace && v.numRecords > 0 {
			err := m.fs.idx.scanRecords(0, v.numRecords, func(i uint32, r *Record) error {
				if r.Modseq <= changedFrom {
					return nil
				}
				seq := m.seqLocked(r.UID)
				if seq == 0 {
					return nil
				}
				if r.Expunged() {
					if !containsUID(v.pending, r.UID) {
						v.pending = append(v.pending, r.UID)
					}
					return nil
				}
				u.Changed = append(u.Changed, seq)
				return nil
			})
			if err != nil {
				return err
			}
		}
		if h.NumRecords > v.numRecords {
			err := m.fs.idx.scanRecords(v.numRecords, h.NumRecords, func(i uint32, r *Record) error {
				if r.Expunged() {
					return nil
				}
				v.uids = append(v.uids, r.UID)
				v.pos = append(v.pos, i)
				u.Grew = true
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	v.commitSeq, v.generation, v.numRecords = h.CommitSeq, h.Generation, h.NumRecords
	if h.HighestModseq > v.highestModseq {
		v.highestModseq = h.HighestModseq
	}
	v.uidNext = h.LastUID + 1
	return nil
}

// claimsRecent: a read-write session claims \Recent for what it sees
// first. EXAMINE sessions never do.
func (m *Mailbox) claimsRecent() bool { return !m.readOnly }

// claimRecentLocked marks messages above the header's RecentUID as recent
// in this session and advances RecentUID, under the exclusive lock.
func (m *Mailbox) claimRecentLocked() {
	l, err := m.fs.lock(true)
	if err != nil {
		return
	}
	defer l.Unlock()
	h, err := m.headerForWrite()
	if err != nil || h.LastUID <= h.RecentUID {
		return
	}
	for _, uid := range m.view.uids {
		if uid > h.RecentUID {
			m.view.recent[uid] = true
		}
	}
	h.RecentUID = h.LastUID
	if m.commitHeader(&h) == nil {
		m.view.commitSeq = h.CommitSeq
	}
}

// remap rebuilds slot positions after a repack moved records.
func (m *Mailbox) remap(h *Header, u *Update) error {
	v := &m.view
	slot := make(map[uint32]uint32, len(v.uids))
	var fresh []uint32
	var freshPos []uint32
	last := uint32(0)
	if n := len(v.uids); n > 0 {
		last = v.uids[n-1]
	}
	err := m.fs.idx.scanRecords(0, h.NumRecords, func(i uint32, r *Record) error {
		if r.Expunged() {
			return nil
		}
		slot[r.UID] = i
		if r.UID > last {
			fresh = append(fresh, r.UID)
			freshPos = append(freshPos, i)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, uid := range v.uids {
		p, ok := slot[uid]
		if !ok {
			v.pos[i] = noPos
			if !containsUID(v.pending, uid) {
				v.pending = append(v.pending, uid)
			}
			continue
		}
		v.pos[i] = p
		u.Changed = append(u.Changed, uint32(i+1))
	}
	if len(fresh) > 0 {
		v.uids = append(v.uids, fresh...)
		v.pos = append(v.pos, freshPos...)
		u.Grew = true
	}
	return nil
}

// remapPositions points the view's sequence numbers at the slots of h's
// records when a write of this session took the lock after reconstruct or
// a repack replaced the index (h.Generation differs from the view's): the
// write and later Record calls read the new file. The view's generation
// stays, so the next Sync still remaps and reports.
func (m *Mailbox) remapPositions(h *Header) error {
	v := &m.view
	if h.Generation == v.generation {
		return nil
	}
	slot := make(map[uint32]uint32, len(v.uids))
	err := m.fs.idx.scanRecords(0, h.NumRecords, func(i uint32, r *Record) error {
		slot[r.UID] = i
		return nil
	})
	if err != nil {
		return err
	}
	for i, uid := range v.uids {
		p, ok := slot[uid]
		if !ok {
			p = noPos
			if !containsUID(v.pending, uid) {
				v.pending = append(v.pending, uid)
			}
		}
		v.pos[i] = p
	}
	return nil
}

// applyExpunges removes pending expunges from the view, highest sequence
// first so each reported number is still valid when the client applies it.
func (m *Mailbox) applyExpunges(u *Update) {
	v := &m.view
	sort.Slice(v.pending, func(i, j int) bool { return v.pending[i] > v.pending[j] })
	for _, uid := range v.pending {
		seq := m.seqLocked(uid)
		if seq == 0 {
			continue
		}
		i := int(seq - 1)
		v.uids = append(v.uids[:i], v.uids[i+1:]...)
		v.pos = append(v.pos[:i], v.pos[i+1:]...)
		delete(v.recent, uid)
		u.Expunged = append(u.Expunged, seq)
		u.ExpungedUIDs = append(u.ExpungedUIDs, uid)
	}
	v.pending = v.pending[:0]
	// Flag changes were numbered before the expunges; renumber them.
	if len(u.Changed) > 0 {
		var changed []uint32
		// Expunged holds original numbers too: it was built from the
		// highest down, so no removal shifted a later one.
		for _, seq := range u.Changed {
			below, gone := uint32(0), false
			for _, e := range u.Expunged {
				if e < seq {
					below++
				} else if e == seq {
					gone = true
				}
			}
			if !gone {
				changed = append(changed, seq-below)
			}
		}
		u.Changed = changed
	}
}

func (m *Mailbox) seqLocked(uid uint32) uint32 {
	uids := m.view.uids
	i := sort.Search(len(uids), func(i int) bool { return uids[i] >= uid })
	if i < len(uids) && uids[i] == uid {
		return uint32(i + 1)
	}
	return 0
}

func containsUID(s []uint32, uid uint32) bool {
	for _, x := range s {
		if x == uid {
			return true
		}
	}
	return false
}
