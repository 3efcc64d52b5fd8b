package mailbox

import (
	"os"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
)

// Expunge removes messages marked \Deleted: all of them when uids is nil
// (EXPUNGE), else only those listed (UID EXPUNGE, RFC 4315). The e right
// is needed. The records stay, flagged expunged, so sessions that have not
// been told and QRESYNC clients can still be answered; with expunge_mode
// immediate the message files go at once, otherwise cyr_expire -X removes
// them later. Usage shrinks at once either way, so expunging always works
// over quota. It returns the UIDs expunged.
func (m *Mailbox) Expunge(uids []uint32) ([]uint32, error) {
	if m.readOnly || m.rights&acl.Expunge == 0 {
		return nil, ErrNoPerm
	}
	var only map[uint32]bool
	if uids != nil {
		only = make(map[uint32]bool, len(uids))
		for _, u := range uids {
			only[u] = true
		}
	}
	return m.expungeWhere(func(r *Record) bool {
		return r.Flags&FlagDeleted != 0 && (only == nil || only[r.UID])
	})
}

// expungeWhere expunges every live record matching pick.
func (m *Mailbox) expungeWhere(pick func(r *Record) bool) ([]uint32, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, err := m.fs.lock(true)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	h, err := m.headerForWrite()
	if err != nil {
		return nil, err
	}
	if err := m.remapPositions(&h); err != nil {
		return nil, err
	}
	var done []uint32
	var changed []struct {
		slot uint32
		r    Record
	}
	err = m.fs.idx.scanRecords(0, h.NumRecords, func(i uint32, r *Record) error {
		if r.Expunged() || !pick(r) {
			return nil
		}
		c := *r
		changed = append(changed, struct {
			slot uint32
			r    Record
		}{i, c})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(changed) == 0 {
		return nil, nil
	}
	if err := m.markDirty(&h); err != nil {
		return nil, err
	}
	now := m.s.now()
	for _, c := range changed {
		h.HighestModseq++
		c.r.Flags |= FlagExpunged
		c.r.Modseq = h.HighestModseq
		c.r.ExpungedAt = now
		if err := m.fs.idx.writeRecord(c.slot, &c.r); err != nil {
			return nil, err
		}
		h.Exists--
		h.QuotaUsed -= c.r.Size
		done = append(done, c.r.UID)
	}
	h.settleRecords()
	h.Dirty |= dirtyQuota
	if err := m.commitHeader(&h); err != nil {
		return nil, err
	}
	m.settleUsage(&h)
	if m.s.immediate {
		for _, uid := range done {
			os.Remove(m.fs.messagePath(uid))
		}
	}
	return done, nil
}
