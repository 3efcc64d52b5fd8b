package mailbox

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/mboxname"
	"github.com/cyrusgo/cyrusgo/libcyrus/quota"
)

// Mailbox is one mailbox opened by one session: the files, the caller's
// identity and rights, and the session's view (the sequence numbers it has
// been told about). Methods are safe for concurrent use, though a session
// normally drives it from one goroutine.
type Mailbox struct {
	s        *Store
	entry    *Entry
	id       acl.Identity
	rights   acl.Rights
	owner    string
	readOnly bool
	fs       *files

	mu      sync.Mutex
	view    view
	seenSet uidSet // the caller's \Seen when not the owner
}

// view is what one session knows: its sequence-to-UID map and how far it
// has followed the index.
type view struct {
	uids          []uint32 // seq-1 -> uid
	pos           []uint32 // seq-1 -> record slot
	commitSeq     uint64
	generation    uint64
	numRecords    uint32
	highestModseq uint64
	uidNext       uint32
	recent        map[uint32]bool
	pending       []uint32 // expunged uids not yet reported
}

// OpenOptions say how a session opens a mailbox.
type OpenOptions struct {
	ReadOnly bool // EXAMINE; a session without write rights is read-only anyway
	// ClaimRecent makes this session the one that sees new messages as
	// \Recent (RFC 3501 2.3.2: exactly one session does). SELECT sets it.
	ClaimRecent bool
}

// Open opens a mailbox for id. The r right is needed.
func (s *Store) Open(id acl.Identity, name string, opts OpenOptions) (*Mailbox, error) {
	e, rights, err := s.Info(id, name)
	if err != nil {
		return nil, err
	}
	if rights&acl.Read == 0 {
		return nil, ErrNoPerm
	}
	return s.open(id, e, rights, opts)
}

// OpenTarget opens a mailbox as the destination of APPEND, COPY or MOVE:
// the i right is what these need (RFC 4314 4), not r. A mailbox the caller
// can neither see nor insert into does not exist for them.
func (s *Store) OpenTarget(id acl.Identity, name string) (*Mailbox, error) {
	e, err := s.Lookup(name)
	if err != nil {
		return nil, err
	}
	rights := s.Rights(id, e)
	if rights&(acl.Lookup|acl.Read|acl.Insert) == 0 {
		return nil, ErrNonexistent
	}
	if rights&acl.Insert == 0 {
		return nil, ErrNoPerm
	}
	return s.open(id, e, rights, OpenOptions{})
}

// OpenForDelivery opens a mailbox to append to it with the rights the
// poster has (LMTP checks p itself: a user's own INBOX is always open to
// delivery).
func (s *Store) OpenForDelivery(name string) (*Mailbox, error) {
	e, err := s.Lookup(name)
	if err != nil {
		return nil, err
	}
	return s.open(acl.Identity{Admin: true}, e, acl.Insert|acl.Post|acl.Write|acl.Seen|acl.DeleteMessages, OpenOptions{})
}

func (s *Store) open(id acl.Identity, e *Entry, rights acl.Rights, opts OpenOptions) (*Mailbox, error) {
	data, meta, err := s.dirs(e)
	if err != nil {
		return nil, err
	}
	fs, err := openFiles(data, meta)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &Error{Code: CodeTemporary, Msg: "Mailbox files are missing (run reconstruct)", Err: err}
		}
		return nil, &Error{Code: CodeTemporary, Msg: "Cannot open mailbox", Err: err}
	}
	owner, _ := mboxname.Owner(e.Name)
	m := &Mailbox{s: s, entry: e, id: id, rights: rights, owner: owner, fs: fs}
	m.readOnly = opts.ReadOnly || rights&(acl.Write|acl.Seen|acl.DeleteMessages|acl.Expunge|acl.Insert) == 0
	m.view.recent = map[uint32]bool{}
	if err := m.load(opts.ClaimRecent && !m.readOnly); err != nil {
		fs.close()
		return nil, err
	}
	return m, nil
}

// Close releases the mailbox's files.
func (m *Mailbox) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fs.close()
	return nil
}

// Name is the internal name.
func (m *Mailbox) Name() string { return m.entry.Name }

// Entry is the list entry the mailbox was opened with.
func (m *Mailbox) Entry() *Entry { return m.entry }

// Rights are the caller's rights.
func (m *Mailbox) Rights() acl.Rights { return m.rights }

// ReadOnly reports whether the session may change the mailbox.
func (m *Mailbox) ReadOnly() bool { return m.readOnly }

// load builds the view from scratch. With claimRecent it holds the
// exclusive lock and, having scanned every record anyway, also repairs a
// header a crash left behind its records (counters, HIGHESTMODSEQ) and
// quota usage the crash kept from the quota database.
func (m *Mailbox) load(claimRecent bool) error {
	l, err := m.fs.lock(claimRecent)
	if err != nil {
		return err
	}
	defer l.Unlock()
	h, err := m.fs.idx.readHeader()
	if err != nil {
		return err
	}
	v := &m.view
	v.uids = v.uids[:0]
	v.pos = v.pos[:0]
	maxModseq := h.HighestModseq
	var exists uint32
	var used uint64
	err = m.fs.idx.scanRecords(0, h.NumRecords, func(i uint32, r *Record) error {
		if r.Modseq > maxModseq {
			maxModseq = r.Modseq
		}
		if r.Expunged() {
			return nil
		}
		exists++
		used += r.Size
		v.uids = append(v.uids, r.UID)
		v.pos = append(v.pos, i)
		return nil
	})
	if err != nil {
		return err
	}
	if claimRecent {
		if maxModseq > h.HighestModseq || exists != h.Exists || used != h.QuotaUsed || h.Dirty&dirtyRecords != 0 {
			// A change reached the records but not the header before a
			// crash: the header must never be behind its records.
			h.HighestModseq, h.Exists, h.QuotaUsed = maxModseq, exists, used
			h.settleRecords()
			h.Dirty |= dirtyQuota
			if err := m.commitHeader(&h); err != nil {
				return err
			}
		}
		if h.Dirty&dirtyQuota != 0 {
			m.settleUsage(&h)
		}
	}
	v.commitSeq, v.generation, v.numRecords = h.CommitSeq, h.Generation, h.NumRecords
	v.highestModseq = max(h.HighestModseq, maxModseq)
	v.uidNext = h.LastUID + 1
	if claimRecent && h.LastUID > h.RecentUID {
		for _, u := range v.uids {
			if u > h.RecentUID {
				v.recent[u] = true
			}
		}
		h.RecentUID = h.LastUID
		if err := m.commitHeader(&h); err != nil {
			return err
		}
		v.commitSeq = h.CommitSeq
	}
	if m.isOwner() {
		return nil
	}
	return m.loadSeen()
}

// headerForWrite reads the index header for a change; the caller holds
// the exclusive lock. It first repairs what a writer that died mid-change
// left (Header.Dirty), so no change builds on stale counters or hands out
// a modseq a record already carries.
func (m *Mailbox) headerForWrite() (Header, error) {
	h, err := m.fs.idx.readHeader()
	if err != nil {
		return h, err
	}
	if h.Dirty&dirtyRecords != 0 {
		var exists uint32
		var used uint64
		err := m.fs.idx.scanRecords(0, h.NumRecords, func(_ uint32, r *Record) error {
			h.HighestModseq = max(h.HighestModseq, r.Modseq)
			if !r.Expunged() {
				exists++
				used += r.Size
			}
			return nil
		})
		if err != nil {
			return h, err
		}
		h.Exists, h.QuotaUsed = exists, used
		h.settleRecords()
		h.Dirty |= dirtyQuota
		if err := m.commitHeader(&h); err != nil {
			return h, err
		}
	}
	if h.Dirty&dirtyQuota != 0 {
		m.settleUsage(&h)
	}
	return h, nil
}

// markDirty records, before records are changed in place, that they are
// about to run ahead of the header. No fsync: it guards against a process
// that dies between its writes, whose page-cache writes all survive; after
// a power loss, run reconstruct.
func (m *Mailbox) markDirty(h *Header) error {
	h.Dirty |= dirtyRecords
	return m.fs.idx.writeHeader(h)
}

// settleUsage writes h's usage to the quota database and, once it is
// there, clears dirtyQuota (caller holds the exclusive lock). The clearing
// write is not fsynced: if it is lost, the idempotent quota write is only
// repeated.
func (m *Mailbox) settleUsage(h *Header) {
	if err := m.recordUsage(h); err != nil {
		m.s.log.Error(fmt.Sprintf("quota usage of %s: %v", m.entry.Name, err))
		return
	}
	h.Dirty &^= dirtyQuota
	if err := m.fs.idx.writeHeader(h); err != nil {
		m.s.log.Error(err.Error())
	}
}

func (m *Mailbox) isOwner() bool { return m.owner != "" && m.owner == m.id.UserID }

// commitHeader writes h and fsyncs: the commit point of every change.
func (m *Mailbox) commitHeader(h *Header) error {
	if err := m.fs.idx.writeHeader(h); err != nil {
		return err
	}
	return m.fs.idx.sync()
}

// Status is a mailbox's counters, as STATUS and SELECT report them.
type Status struct {
	Messages      uint32
	Recent        uint32
	UIDNext       uint32
	UIDValidity   uint32
	Unseen        uint32
	FirstUnseen   uint32 // sequence number, 0 if none
	HighestModseq uint64
	Size          uint64
	Deleted       uint32
}

// Status returns the view's counters (what this session has been told).
func (m *Mailbox) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := Status{
		Messages:      uint32(len(m.view.uids)),
		Recent:        uint32(len(m.view.recent)),
		UIDNext:       m.view.uidNext,
		UIDValidity:   m.entry.UIDValidity,
		HighestModseq: m.view.highestModseq,
	}
	for i := range m.view.uids {
		r, err := m.recordLocked(i)
		if err != nil {
			continue
		}
		st.Size += r.Size
		if r.Flags&FlagDeleted != 0 {
			st.Deleted++
		}
		if !m.seenLocked(&r) {
			st.Unseen++
			if st.FirstUnseen == 0 {
				st.FirstUnseen = uint32(i + 1)
			}
		}
	}
	return st
}

// Count is the number of messages in the view.
func (m *Mailbox) Count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.view.uids)
}

// UIDs returns a copy of the view's UIDs in sequence order.
func (m *Mailbox) UIDs() []uint32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]uint32(nil), m.view.uids...)
}

// SeqOf returns the sequence number of uid, 0 if not in the view.
func (m *Mailbox) SeqOf(uid uint32) uint32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := sort.Search(len(m.view.uids), func(i int) bool { return m.view.uids[i] >= uid })
	if i < len(m.view.uids) && m.view.uids[i] == uid {
		return uint32(i + 1)
	}
	return 0
}

// IsRecent reports whether uid is \Recent in this session.
func (m *Mailbox) IsRecent(uid uint32) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.view.recent[uid]
}

// ErrExpunged is returned for a message that was expunged after the view
// was taken and whose record is gone.
var ErrExpunged = errors.New("message has been expunged")

// Record returns the index record of sequence number seq (1-based).
func (m *Mailbox) Record(seq uint32) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if seq == 0 || int(seq) > len(m.view.uids) {
		return Record{}, fmt.Errorf("sequence number %d out of range", seq)
	}
	return m.recordLocked(int(seq - 1))
}

func (m *Mailbox) recordLocked(i int) (Record, error) {
	p := m.view.pos[i]
	if p == noPos {
		return Record{}, ErrExpunged
	}
	r, err := m.fs.idx.readRecord(p)
	if err != nil {
		return r, err
	}
	if r.UID != m.view.uids[i] {
		return r, fmt.Errorf("record slot %d holds uid %d, want %d: %w", p, r.UID, m.view.uids[i], ErrCorrupt)
	}
	if !m.isOwner() {
		m.applySeen(&r)
	}
	return r, nil
}

// noPos marks a message whose record was removed by a repack while this
// session still shows it.
const noPos = ^uint32(0)

// Flags returns the IMAP flags of r: system flags and keywords, plus
// \Recent when it is recent in this session.
func (m *Mailbox) Flags(r *Record) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, f := range systemFlags {
		if r.Flags&f.bit != 0 {
			out = append(out, f.name)
		}
	}
	for i, name := range m.fs.hdr.UserFlags {
		if r.HasUserFlag(i) {
			out = append(out, name)
		}
	}
	if m.view.recent[r.UID] {
		out = append(out, `\Recent`)
	}
	return out
}

// Keywords returns the mailbox's defined keywords (for PERMANENTFLAGS).
func (m *Mailbox) Keywords() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.fs.hdr.UserFlags...)
}

var systemFlags = []struct {
	bit  uint16
	name string
}{
	{FlagAnswered, `\Answered`},
	{FlagFlagged, `\Flagged`},
	{FlagDeleted, `\Deleted`},
	{FlagSeen, `\Seen`},
	{FlagDraft, `\Draft`},
}

// systemFlagBit returns the bit of a system flag name (case-insensitive).
func systemFlagBit(name string) (uint16, bool) {
	for _, f := range systemFlags {
		if equalFold(f.name, name) {
			return f.bit, true
		}
	}
	return 0, false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

// OpenMessage opens the message file of r for reading.
func (m *Mailbox) OpenMessage(r *Record) (*os.File, error) {
	f, err := os.Open(m.fs.messagePath(r.UID))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, ErrExpunged
		}
		return nil, fmt.Errorf("open message %d of %s: %w", r.UID, m.entry.Name, err)
	}
	return f, nil
}

// CacheData returns r's parsed summary as stored in the cache (package
// message decodes it).
func (m *Mailbox) CacheData(r *Record) ([]byte, error) {
	// Under mu: a Sync may swap in a cache file reconstruct replaced.
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.fs.cache.read(r.CacheOffset, r.CacheLen)
}

// recordUsage updates the quota database with the mailbox's own usage
// from its header: an absolute, idempotent write (see package quota).
func (m *Mailbox) recordUsage(h *Header) error {
	root, ok, err := m.s.quota.Root(m.entry.Name)
	if err != nil || !ok {
		return err
	}
	return m.s.quota.SetMailboxUsage(root, m.entry.Name, quota.Usage{Bytes: int64(h.QuotaUsed), Messages: int64(h.Exists)})
}
