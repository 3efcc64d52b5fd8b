package mailbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"time"
)

// The index file, cyrusgo.index:
//
//	[0,256)    two header slots of 128 bytes (A and B)
//	[256,...)  records of RecordSize bytes, in UID order
//
// A header write goes to the slot the last one did not use, and readers
// take the valid slot (magic, version, CRC) with the higher commit number,
// so a torn header write leaves the previous header in force. Records are
// written (and fsynced) before the header that counts them: the header is
// the commit point (DESIGN.md 3). Records past the header's count are
// leftovers of an interrupted append and are overwritten by the next one.
// A change made in place (flags, expunge) first marks the header dirty,
// so when a process dies between its record writes and the header, the
// next process to take the exclusive lock recomputes the counters from
// the records before it changes anything (Mailbox.headerForWrite).
// reconstruct and cyr_expire -X replace the whole file (rename) and bump
// the generation; open sessions reopen it at their next lock.
const (
	indexMagic     = "CYGOIDX\x00"
	indexVersion   = 1
	slotSize       = 128
	headerSize     = 2 * slotSize
	RecordSize     = 96
	indexFileName  = "cyrusgo.index"
	cacheFileName  = "cyrusgo.cache"
	headerFileName = "cyrusgo.header"
	lockFileName   = "cyrusgo.lock"
)

// System flags as bits of a record. Expunged is internal: the record stays
// (for QRESYNC and sessions not yet told) until the index is repacked.
const (
	FlagAnswered uint16 = 1 << iota
	FlagFlagged
	FlagDeleted
	FlagDraft
	FlagSeen
	FlagExpunged
)

// ErrCorrupt marks a metadata file that cannot be trusted; reconstruct
// rebuilds it.
var ErrCorrupt = errors.New("corrupt mailbox metadata")

// Header is the index header: the mailbox's counters.
type Header struct {
	CommitSeq      uint64 // bumped by every header write
	Generation     uint64 // bumped when records are rewritten (repack)
	UIDValidity    uint32
	LastUID        uint32
	HighestModseq  uint64
	NumRecords     uint32 // committed records, expunged ones included
	Exists         uint32 // records not expunged
	QuotaUsed      uint64 // bytes of records not expunged
	RecentUID      uint32 // highest UID some session has seen as \Recent
	DeletedModseq  uint64 // highest modseq of records removed by repack
	CacheSize      uint64 // committed length of the cache file
	POP3LastLogin  int64  // unix seconds, for popminpoll
	FirstExpunged  uint32 // lowest record slot that may be expunged (hint)
	CreatedModseq  uint64
	MessagesQuotaN uint32 // unused, reserved
	// Dirty says what a writer that died mid-change may have left
	// inconsistent (dirty* bits); whoever next holds the exclusive lock
	// repairs it before changing anything (Mailbox.headerForWrite).
	Dirty uint32
	// ChangedModseq is the highest modseq given by a change in place
	// (flags, expunge), as opposed to an append: a session whose view is
	// at or above it learns what changed from the new records alone,
	// without scanning the old ones for higher modseqs.
	ChangedModseq uint64
}

// settleRecords ends a change in place: the records and the counters agree
// again, and every record changed carries a modseq up to HighestModseq.
func (h *Header) settleRecords() {
	h.Dirty &^= dirtyRecords
	h.ChangedModseq = h.HighestModseq
}

// headerHasChangedModseq marks a header written with ChangedModseq; one
// written before the field existed reads as changed up to HighestModseq.
const headerHasChangedModseq uint32 = 1

// Dirty bits of the index header.
const (
	// dirtyRecords: records were being changed in place (flags, expunge)
	// and may be ahead of the committed counters and HIGHESTMODSEQ. A
	// writer that went on from the stale header would hand out modseqs
	// some records already carry.
	dirtyRecords uint32 = 1 << iota
	// dirtyQuota: the quota database may not yet hold the usage of this
	// header (the crash came between the index commit and the quota
	// write).
	dirtyQuota
)

func (h *Header) marshal(b []byte) {
	clear(b[:slotSize])
	copy(b[0:8], indexMagic)
	le := binary.LittleEndian
	le.PutUint32(b[8:], indexVersion)
	le.PutUint64(b[16:], h.CommitSeq)
	le.PutUint64(b[24:], h.Generation)
	le.PutUint32(b[32:], h.UIDValidity)
	le.PutUint32(b[36:], h.LastUID)
	le.PutUint64(b[40:], h.HighestModseq)
	le.PutUint32(b[48:], h.NumRecords)
	le.PutUint32(b[52:], h.Exists)
	le.PutUint64(b[56:], h.QuotaUsed)
	le.PutUint32(b[64:], h.RecentUID)
	le.PutUint32(b[68:], h.FirstExpunged)
	le.PutUint64(b[72:], h.DeletedModseq)
	le.PutUint64(b[80:], h.CacheSize)
	le.PutUint64(b[88:], uint64(h.POP3LastLogin))
	le.PutUint64(b[96:], h.CreatedModseq)
	le.PutUint32(b[104:], h.Dirty)
	le.PutUint64(b[108:], h.ChangedModseq)
	le.PutUint32(b[116:], headerHasChangedModseq)
	le.PutUint32(b[slotSize-4:], crc32.ChecksumIEEE(b[:slotSize-4]))
}

func (h *Header) unmarshal(b []byte) bool {
	if len(b) < slotSize || string(b[0:8]) != indexMagic {
		return false
	}
	le := binary.LittleEndian
	if le.Uint32(b[slotSize-4:]) != crc32.ChecksumIEEE(b[:slotSize-4]) || le.Uint32(b[8:]) != indexVersion {
		return false
	}
	h.CommitSeq = le.Uint64(b[16:])
	h.Generation = le.Uint64(b[24:])
	h.UIDValidity = le.Uint32(b[32:])
	h.LastUID = le.Uint32(b[36:])
	h.HighestModseq = le.Uint64(b[40:])
	h.NumRecords = le.Uint32(b[48:])
	h.Exists = le.Uint32(b[52:])
	h.QuotaUsed = le.Uint64(b[56:])
	h.RecentUID = le.Uint32(b[64:])
	h.FirstExpunged = le.Uint32(b[68:])
	h.DeletedModseq = le.Uint64(b[72:])
	h.CacheSize = le.Uint64(b[80:])
	h.POP3LastLogin = int64(le.Uint64(b[88:]))
	h.CreatedModseq = le.Uint64(b[96:])
	h.Dirty = le.Uint32(b[104:])
	h.ChangedModseq = h.HighestModseq
	if le.Uint32(b[116:])&headerHasChangedModseq != 0 {
		h.ChangedModseq = le.Uint64(b[108:])
	}
	return true
}

// Record is one message in the index.
type Record struct {
	UID          uint32
	Flags        uint16 // system flags, Flag*
	InternalDate time.Time
	Size         uint64
	GUID         [20]byte
	UserFlags    [2]uint64 // bit i: the i-th keyword of the mailbox header
	Modseq       uint64
	CacheOffset  uint64
	CacheLen     uint32
	SaveDate     time.Time
	// ExpungedAt is when the record was expunged (zero while it is
	// not): cyr_expire -X removes what was expunged long enough ago.
	ExpungedAt time.Time
}

// Expunged reports whether the record is expunged.
func (r *Record) Expunged() bool { return r.Flags&FlagExpunged != 0 }

// HasUserFlag reports whether keyword number i is set.
func (r *Record) HasUserFlag(i int) bool { return r.UserFlags[i/64]&(1<<(i%64)) != 0 }

// SetUserFlag sets or clears keyword number i.
func (r *Record) SetUserFlag(i int, on bool) {
	if on {
		r.UserFlags[i/64] |= 1 << (i % 64)
	} else {
		r.UserFlags[i/64] &^= 1 << (i % 64)
	}
}

func (r *Record) marshal(b []byte) {
	clear(b[:RecordSize])
	le := binary.LittleEndian
	le.PutUint32(b[0:], r.UID)
	le.PutUint16(b[4:], r.Flags)
	_, off := r.InternalDate.Zone()
	le.PutUint16(b[6:], uint16(int16(off/60)))
	le.PutUint64(b[8:], uint64(r.InternalDate.Unix()))
	le.PutUint64(b[16:], r.Size)
	copy(b[24:44], r.GUID[:])
	le.PutUint32(b[44:], uint32(r.SaveDate.Unix()))
	le.PutUint64(b[48:], r.UserFlags[0])
	le.PutUint64(b[56:], r.UserFlags[1])
	le.PutUint64(b[64:], r.Modseq)
	le.PutUint64(b[72:], r.CacheOffset)
	le.PutUint32(b[80:], r.CacheLen)
	if !r.ExpungedAt.IsZero() {
		le.PutUint32(b[84:], uint32(r.ExpungedAt.Unix()))
	}
	le.PutUint32(b[RecordSize-4:], crc32.ChecksumIEEE(b[:RecordSize-4]))
}

func (r *Record) unmarshal(b []byte) error {
	if len(b) < RecordSize {
		return fmt.Errorf("short record: %w", ErrCorrupt)
	}
	le := binary.LittleEndian
	if le.Uint32(b[RecordSize-4:]) != crc32.ChecksumIEEE(b[:RecordSize-4]) {
		return fmt.Errorf("record checksum mismatch: %w", ErrCorrupt)
	}
	r.UID = le.Uint32(b[0:])
	r.Flags = le.Uint16(b[4:])
	tz := int(int16(le.Uint16(b[6:])))
	r.InternalDate = time.Unix(int64(le.Uint64(b[8:])), 0).In(time.FixedZone("", tz*60))
	r.Size = le.Uint64(b[16:])
	copy(r.GUID[:], b[24:44])
	r.SaveDate = time.Unix(int64(le.Uint32(b[44:])), 0)
	r.UserFlags[0] = le.Uint64(b[48:])
	r.UserFlags[1] = le.Uint64(b[56:])
	r.Modseq = le.Uint64(b[64:])
	r.CacheOffset = le.Uint64(b[72:])
	r.CacheLen = le.Uint32(b[80:])
	r.ExpungedAt = time.Time{}
	if t := le.Uint32(b[84:]); t != 0 {
		r.ExpungedAt = time.Unix(int64(t), 0)
	}
	return nil
}

// indexFile is an open cyrusgo.index.
type indexFile struct {
	f *os.File
}

func recordOffset(i uint32) int64 { return headerSize + int64(i)*RecordSize }

// readHeader returns the newer valid header slot.
func (x *indexFile) readHeader() (Header, error) {
	var b [headerSize]byte
	if _, err := x.f.ReadAt(b[:], 0); err != nil {
		if errors.Is(err, io.EOF) {
			return Header{}, fmt.Errorf("%s: short header: %w", x.f.Name(), ErrCorrupt)
		}
		return Header{}, fmt.Errorf("read %s: %w", x.f.Name(), err)
	}
	var a, c Header
	okA := a.unmarshal(b[:slotSize])
	okC := c.unmarshal(b[slotSize:])
	switch {
	case okA && okC:
		if c.CommitSeq > a.CommitSeq {
			return c, nil
		}
		return a, nil
	case okA:
		return a, nil
	case okC:
		return c, nil
	}
	return Header{}, fmt.Errorf("%s: no valid header: %w", x.f.Name(), ErrCorrupt)
}

// writeHeader writes h (with the next commit number) into the slot not
// holding the current header. The caller fsyncs.
func (x *indexFile) writeHeader(h *Header) error {
	h.CommitSeq++
	var b [slotSize]byte
	h.marshal(b[:])
	off := int64(h.CommitSeq%2) * slotSize
	if _, err := x.f.WriteAt(b[:], off); err != nil {
		return fmt.Errorf("write index header %s: %w", x.f.Name(), err)
	}
	return nil
}

func (x *indexFile) readRecord(i uint32) (Record, error) {
	var b [RecordSize]byte
	var r Record
	if _, err := x.f.ReadAt(b[:], recordOffset(i)); err != nil {
		return r, fmt.Errorf("read record %d of %s: %w", i, x.f.Name(), err)
	}
	if err := r.unmarshal(b[:]); err != nil {
		return r, fmt.Errorf("record %d of %s: %w", i, x.f.Name(), err)
	}
	return r, nil
}

func (x *indexFile) writeRecord(i uint32, r *Record) error {
	var b [RecordSize]byte
	r.marshal(b[:])
	if _, err := x.f.WriteAt(b[:], recordOffset(i)); err != nil {
		return fmt.Errorf("write record %d of %s: %w", i, x.f.Name(), err)
	}
	return nil
}

// scanRecords calls fn for records [from, to) in order, reading in large
// chunks so a scan of a million records is a few dozen reads.
func (x *indexFile) scanRecords(from, to uint32, fn func(i uint32, r *Record) error) error {
	const chunk = 2048
	buf := make([]byte, chunk*RecordSize)
	var r Record
	for i := from; i < to; {
		n := to - i
		if n > chunk {
			n = chunk
		}
		b := buf[:int(n)*RecordSize]
		if _, err := x.f.ReadAt(b, recordOffset(i)); err != nil {
			return fmt.Errorf("read records of %s: %w", x.f.Name(), err)
		}
		for j := uint32(0); j < n; j++ {
			if err := r.unmarshal(b[int(j)*RecordSize:]); err != nil {
				return fmt.Errorf("record %d of %s: %w", i+j, x.f.Name(), err)
			}
			if err := fn(i+j, &r); err != nil {
				return err
			}
		}
		i += n
	}
	return nil
}

func (x *indexFile) sync() error {
	if err := x.f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", x.f.Name(), err)
	}
	return nil
}
