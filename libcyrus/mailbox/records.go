package mailbox

import "fmt"

// Records calls fn with the index record of each sequence number of seqs
// (ascending, as FETCH resolves them), skipping messages whose record is
// gone (repacked while this session still shows them) or damaged. Records in
// consecutive slots are read with one pread, so FETCH 1:* (FLAGS) of a
// large mailbox costs a few dozen reads instead of one per message.
func (m *Mailbox) Records(seqs []uint32, fn func(seq uint32, r *Record)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	const chunk = 512
	buf := make([]byte, 0, chunk*RecordSize)
	var r Record
	for i := 0; i < len(seqs); {
		seq := seqs[i]
		if seq == 0 || int(seq) > len(m.view.uids) {
			return fmt.Errorf("sequence number %d out of range", seq)
		}
		first := m.view.pos[seq-1]
		if first == noPos {
			i++
			continue
		}
		// The run of seqs whose slots follow first.
		n := 1
		for i+n < len(seqs) && n < chunk {
			s := seqs[i+n]
			if s != seq+uint32(n) || int(s) > len(m.view.uids) || m.view.pos[s-1] != first+uint32(n) {
				break
			}
			n++
		}
		b := buf[:n*RecordSize]
		if _, err := m.fs.idx.f.ReadAt(b, recordOffset(first)); err != nil {
			return fmt.Errorf("read records of %s: %w", m.fs.idx.f.Name(), err)
		}
		for j := 0; j < n; j++ {
			s := seq + uint32(j)
			// A damaged record is skipped like a repacked one, as Record's
			// callers do: reconstruct is the cure, not a failed FETCH.
			if r.unmarshal(b[j*RecordSize:]) != nil || r.UID != m.view.uids[s-1] {
				continue
			}
			if !m.isOwner() {
				m.applySeen(&r)
			}
			fn(s, &r)
		}
		i += n
	}
	return nil
}
