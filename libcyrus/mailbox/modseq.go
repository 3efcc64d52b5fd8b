package mailbox

// Mod-sequences for CONDSTORE and QRESYNC (RFC 7162).
//
// How long expunges are remembered: an expunged message keeps its index
// record, flagged expunged and stamped with the modseq of the expunge,
// until cyr_expire -X removes the records expunged longer ago than its
// duration (ExpireExpunged; Debian's EVENTS run "cyr_expire -E 4 -X 28"
// daily, so 28 days). expunge_mode only decides when the message file
// goes: at once with immediate, with the record otherwise; unlike Cyrus,
// immediate does not drop the record, so QRESYNC stays exact. A repack
// raises the header's DeletedModseq to the highest modseq it dropped;
// from there down the index no longer knows what vanished, and QRESYNC
// reports every UID the client knows that no longer exists (RFC 7162
// 3.2.5.2, 3.2.6).

// HighestModseq is the highest mod-sequence the session's view has
// followed (what HIGHESTMODSEQ reports).
func (m *Mailbox) HighestModseq() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.view.highestModseq
}

// Expunges is what the index remembers of the expunges after a
// mod-sequence.
type Expunges struct {
	// UIDs are the expunged messages with a modseq above the one asked
	// for, ascending; messages the view still shows (their expunge not
	// yet reported to this session) are left out.
	UIDs []uint32
	// Complete is false when the index forgot expunges after the
	// modseq asked for (a repack removed records up to DeletedModseq):
	// the caller must then treat every UID it knows of and cannot find
	// as expunged.
	Complete bool
	// Live are the UIDs of the messages in the view, ascending.
	Live []uint32
	// LastUID is the highest UID ever assigned.
	LastUID uint32
}

// ExpungedSince returns the expunges with a mod-sequence above modseq
// (RFC 7162 3.2.5.1 and 3.2.6: QRESYNC and UID FETCH VANISHED).
func (m *Mailbox) ExpungedSince(modseq uint64) (Expunges, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var x Expunges
	l, err := m.fs.lock(false)
	if err != nil {
		return x, err
	}
	defer l.Unlock()
	h, err := m.fs.idx.readHeader()
	if err != nil {
		return x, err
	}
	// The lock may have reopened a repacked index: the view's slots must
	// point into it before anything reads a record by sequence number.
	if err := m.remapPositions(&h); err != nil {
		return x, err
	}
	x.Complete = modseq >= h.DeletedModseq
	x.LastUID = h.LastUID
	x.Live = append([]uint32(nil), m.view.uids...)
	err = m.fs.idx.scanRecords(0, h.NumRecords, func(_ uint32, r *Record) error {
		if r.Expunged() && r.Modseq > modseq && m.seqLocked(r.UID) == 0 {
			x.UIDs = append(x.UIDs, r.UID)
		}
		return nil
	})
	return x, err
}

// PendingExpungeModseq is the lowest mod-sequence of the expunges the
// view holds back (RFC 3501 7.4.1 forbids reporting them during FETCH,
// STORE and SEARCH), 0 when there are none. RFC 7162 3.2 wants a
// HIGHESTMODSEQ below it sent meanwhile, so a client that loses the
// connection resynchronises from before them.
func (m *Mailbox) PendingExpungeModseq() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var low uint64
	for _, uid := range m.view.pending {
		seq := m.seqLocked(uid)
		if seq == 0 {
			continue
		}
		p := m.view.pos[seq-1]
		if p == noPos {
			// Repacked away: DeletedModseq stands for it.
			continue
		}
		r, err := m.fs.idx.readRecord(p)
		if err != nil || r.UID != uid {
			continue
		}
		if low == 0 || r.Modseq < low {
			low = r.Modseq
		}
	}
	return low
}
