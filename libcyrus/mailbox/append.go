package mailbox

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/fsutil"
	"github.com/cyrusgo/cyrusgo/libcyrus/quota"
)

// Staged is a message written to a partition's stage directory, fsynced
// and parsed, ready to be linked into one or more mailboxes of that
// partition. A message for several LMTP recipients is staged once and
// hard-linked into each (singleinstancestore).
type Staged struct {
	stage     *fsutil.Stage
	partition string
	size      int64
	guid      [20]byte
	cache     []byte
}

// ErrTooBig is returned by Stage when the message passes maxSize.
var ErrTooBig = errors.New("message too large")

// Stage reads a whole message from r into the stage directory of
// partition ("" for the default), parses it for the cache and fsyncs it.
// maxSize > 0 bounds the size.
func (s *Store) Stage(partition string, r io.Reader, maxSize int64) (*Staged, error) {
	if partition == "" {
		partition = s.defaultPart
	}
	if _, ok := s.partitions[partition]; !ok {
		return nil, fmt.Errorf("stage: unknown partition %q", partition)
	}
	st, err := fsutil.NewStage(s.stageDir(partition))
	if err != nil {
		return nil, &Error{Code: CodeTemporary, Msg: "Cannot stage message", Err: err}
	}
	ok := false
	defer func() {
		if !ok {
			st.Discard()
		}
	}()
	h := sha1.New()
	src := r
	if maxSize > 0 {
		src = io.LimitReader(r, maxSize+1)
	}
	tee := io.TeeReader(io.TeeReader(src, st), h)
	cache, err := summarize(tee)
	if err == nil {
		// The parser may stop early; the stage must hold every byte.
		_, err = io.Copy(io.Discard, tee)
	}
	if err != nil {
		return nil, &Error{Code: CodeTemporary, Msg: "Cannot stage message", Err: err}
	}
	if maxSize > 0 && st.Size() > maxSize {
		return nil, ErrTooBig
	}
	if err := st.Sync(); err != nil {
		return nil, &Error{Code: CodeTemporary, Msg: "Cannot stage message", Err: err}
	}
	sm := &Staged{stage: st, partition: partition, size: st.Size(), cache: cache}
	copy(sm.guid[:], h.Sum(nil))
	ok = true
	return sm, nil
}

// Size is the message's size in bytes.
func (sm *Staged) Size() int64 { return sm.size }

// GUID is the SHA-1 of the message.
func (sm *Staged) GUID() [20]byte { return sm.guid }

// File is the staged message, for reading (Sieve, duplicate checks).
func (sm *Staged) File() *os.File { return sm.stage.File() }

// Close removes the staged file; the mailboxes it was linked into keep
// their links.
func (sm *Staged) Close() { sm.stage.Discard() }

// AppendItem is one message of an append.
type AppendItem struct {
	Staged       *Staged
	Flags        []string
	InternalDate time.Time // zero: now
}

// Append adds messages to the mailbox in one transaction: all or none.
// The i right is needed; flags the caller may not set are dropped, as
// Cyrus does (s for \Seen, t for \Deleted, w for the rest). It returns the
// new UIDs.
func (m *Mailbox) Append(items []AppendItem) ([]uint32, error) {
	return m.appendItems(items, true)
}

// appendItems is Append; checkQuota is false for a MOVE within one quota
// root, which does not grow usage.
func (m *Mailbox) appendItems(items []AppendItem, checkQuota bool) ([]uint32, error) {
	if m.rights&(acl.Insert|acl.Post) == 0 {
		return nil, ErrNoPerm
	}
	var total int64
	for _, it := range items {
		total += it.Staged.size
	}
	if checkQuota {
		if err := m.checkQuota(total, int64(len(items))); err != nil {
			return nil, err
		}
	}
	h, release, err := m.beginAppend()
	if err != nil {
		return nil, err
	}
	defer release()
	now := m.s.now()
	var uids []uint32
	var linked []string
	undo := func() {
		for _, p := range linked {
			os.Remove(p)
		}
	}
	cacheEnd := h.CacheSize
	slot := h.NumRecords
	for _, it := range items {
		flags := m.allowedFlags(it.Flags)
		kw, err := m.fs.keywordBits(flags, true)
		if err != nil {
			undo()
			return nil, &Error{Code: CodeLimit, Msg: err.Error()}
		}
		h.LastUID++
		h.HighestModseq++
		uid := h.LastUID
		dst := m.fs.messagePath(uid)
		os.Remove(dst) // a leftover of an append that never committed
		if err := it.Staged.stage.Link(dst); err != nil {
			undo()
			return nil, &Error{Code: CodeTemporary, Msg: "Cannot store message", Err: err}
		}
		linked = append(linked, dst)
		off := cacheEnd
		if off < cacheHeaderLen {
			off = cacheHeaderLen
		}
		cacheEnd, err = m.fs.cache.append(off, it.Staged.cache)
		if err != nil {
			undo()
			return nil, &Error{Code: CodeTemporary, Msg: "Cannot store message", Err: err}
		}
		date := it.InternalDate
		if date.IsZero() {
			date = now
		}
		r := Record{
			UID:          uid,
			Flags:        systemBits(flags),
			InternalDate: date,
			Size:         uint64(it.Staged.size),
			GUID:         it.Staged.guid,
			UserFlags:    kw,
			Modseq:       h.HighestModseq,
			CacheOffset:  off,
			CacheLen:     uint32(len(it.Staged.cache)),
			SaveDate:     now,
		}
		if err := m.fs.idx.writeRecord(slot, &r); err != nil {
			undo()
			return nil, &Error{Code: CodeTemporary, Msg: "Cannot store message", Err: err}
		}
		slot++
		h.NumRecords = slot
		h.Exists++
		h.QuotaUsed += r.Size
		uids = append(uids, uid)
	}
	h.CacheSize = cacheEnd
	// Usage reaches the quota database only after the commit; until it
	// does, the header says so.
	h.Dirty |= dirtyQuota
	// Durability order (DESIGN.md 3): message files and their directory
	// are synced by Link; then the cache and the records; then the header,
	// which commits.
	if err := m.fs.cache.sync(); err != nil {
		undo()
		return nil, &Error{Code: CodeTemporary, Msg: "Cannot store message", Err: err}
	}
	if err := m.fs.idx.sync(); err != nil {
		undo()
		return nil, &Error{Code: CodeTemporary, Msg: "Cannot store message", Err: err}
	}
	if err := m.commitHeader(&h); err != nil {
		undo()
		return nil, &Error{Code: CodeTemporary, Msg: "Cannot store message", Err: err}
	}
	m.settleUsage(&h)
	return uids, nil
}

// allowedFlags drops flags the caller may not set.
func (m *Mailbox) allowedFlags(flags []string) []string {
	var out []string
	for _, f := range flags {
		bit, system := systemFlagBit(f)
		switch {
		case system && bit == FlagSeen:
			if m.rights&acl.Seen == 0 {
				continue
			}
		case system && bit == FlagDeleted:
			if m.rights&acl.DeleteMessages == 0 {
				continue
			}
		case equalFold(f, `\Recent`):
			continue // RFC 3501: \Recent cannot be set by a client
		default:
			if m.rights&acl.Write == 0 {
				continue
			}
		}
		out = append(out, f)
	}
	return out
}

func systemBits(flags []string) uint16 {
	var b uint16
	for _, f := range flags {
		if bit, ok := systemFlagBit(f); ok {
			b |= bit
		}
	}
	return b
}

// checkQuota refuses an addition that would pass the quota root's limits.
func (m *Mailbox) checkQuota(bytes, messages int64) error {
	root, ok, err := m.s.quota.Root(m.entry.Name)
	if err != nil {
		return &Error{Code: CodeTemporary, Msg: "Cannot read quota", Err: err}
	}
	if !ok {
		return nil
	}
	if err := m.s.quota.Check(root, bytes, messages); err != nil {
		if errors.Is(err, quota.ErrOverQuota) {
			return ErrOverQuota
		}
		return &Error{Code: CodeTemporary, Msg: "Cannot read quota", Err: err}
	}
	return nil
}

// QuotaRoot returns the quota root of the mailbox, if any.
func (m *Mailbox) QuotaRoot() (string, bool, error) { return m.s.quota.Root(m.entry.Name) }

// AppendReader stages r and appends it: the simple path for IMAP APPEND
// of one message.
func (m *Mailbox) AppendReader(r io.Reader, flags []string, date time.Time, maxSize int64) (uint32, error) {
	sm, err := m.s.Stage(m.entry.Partition, r, maxSize)
	if err != nil {
		return 0, err
	}
	defer sm.Close()
	uids, err := m.Append([]AppendItem{{Staged: sm, Flags: flags, InternalDate: date}})
	if err != nil {
		return 0, err
	}
	return uids[0], nil
}

// beginAppend takes the session lock and the exclusive index lock and
// reads the header an append builds on, repaired and with this view's
// record positions current; release gives both locks back.
func (m *Mailbox) beginAppend() (h Header, release func(), err error) {
	m.mu.Lock()
	l, err := m.fs.lock(true)
	if err != nil {
		m.mu.Unlock()
		return h, nil, err
	}
	release = func() {
		l.Unlock()
		m.mu.Unlock()
	}
	if err = m.fs.reloadHeader(); err == nil {
		if h, err = m.headerForWrite(); err == nil {
			err = m.remapPositions(&h)
		}
	}
	if err != nil {
		release()
		return h, nil, err
	}
	return h, release, nil
}
