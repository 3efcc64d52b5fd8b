package mailbox

import (
	"fmt"
	"os"
	"sort"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/fsutil"
)

// CopyResult maps source UIDs to the UIDs they got in the destination
// (COPYUID, RFC 4315).
type CopyResult struct {
	SrcUIDs []uint32
	DstUIDs []uint32
}

// CopyTo copies messages (by UID, in UID order) into dst: hard links of
// the message files when both are on one partition, the cached summary
// reused, flags and keywords kept (those the caller may set in dst). The
// r right on the source and i on dst are needed, and dst's quota must
// allow the growth unless move is set and both share a quota root: a MOVE
// within one root does not grow usage, so it works even over quota.
func (m *Mailbox) CopyTo(dst *Mailbox, uids []uint32, move bool) (CopyResult, error) {
	var res CopyResult
	if m.rights&acl.Read == 0 || dst.rights&acl.Insert == 0 {
		return res, ErrNoPerm
	}
	if move && (m.readOnly || m.rights&(acl.DeleteMessages|acl.Expunge) != acl.DeleteMessages|acl.Expunge) {
		return res, ErrNoPerm
	}
	if m.entry.UniqueID == dst.entry.UniqueID {
		return res, errorf(CodeBadName, "Cannot copy a mailbox onto itself")
	}
	sort.Slice(uids, func(i, j int) bool { return uids[i] < uids[j] })
	type src struct {
		r     Record
		flags []string
		cache []byte
	}
	var srcs []src
	var total int64
	m.mu.Lock()
	for _, uid := range uids {
		seq := m.seqLocked(uid)
		if seq == 0 {
			continue
		}
		r, err := m.recordLocked(int(seq - 1))
		if err != nil {
			continue // expunged meanwhile: RFC 3501 lets COPY skip it
		}
		c, err := m.fs.cache.read(r.CacheOffset, r.CacheLen)
		if err != nil {
			m.mu.Unlock()
			return res, err
		}
		var flags []string
		for _, f := range systemFlags {
			if r.Flags&f.bit != 0 {
				flags = append(flags, f.name)
			}
		}
		for i, n := range m.fs.hdr.UserFlags {
			if r.HasUserFlag(i) {
				flags = append(flags, n)
			}
		}
		srcs = append(srcs, src{r, flags, c})
		total += int64(r.Size)
	}
	m.mu.Unlock()
	if len(srcs) == 0 {
		return res, nil
	}
	sameRoot := false
	if move {
		a, aok, _ := m.QuotaRoot()
		b, bok, _ := dst.QuotaRoot()
		sameRoot = aok == bok && a == b
	}
	if !sameRoot {
		if err := dst.checkQuota(total, int64(len(srcs))); err != nil {
			return res, err
		}
	}

	// Stage by linking the source file into dst's stage directory, so the
	// ordinary append path (with its durability order) does the rest.
	var items []AppendItem
	var staged []*Staged
	defer func() {
		for _, s := range staged {
			s.Close()
		}
	}()
	for _, s := range srcs {
		sm, err := m.s.stageLink(m.fs.messagePath(s.r.UID), dst.entry.Partition)
		if err != nil {
			return res, err
		}
		sm.size = int64(s.r.Size)
		sm.guid = s.r.GUID
		sm.cache = s.cache
		staged = append(staged, sm)
		items = append(items, AppendItem{Staged: sm, Flags: s.flags, InternalDate: s.r.InternalDate})
		res.SrcUIDs = append(res.SrcUIDs, s.r.UID)
	}
	dstUIDs, err := dst.appendItems(items, !sameRoot)
	if err != nil {
		return CopyResult{}, err
	}
	res.DstUIDs = dstUIDs
	if move {
		moved := make(map[uint32]bool, len(res.SrcUIDs))
		for _, u := range res.SrcUIDs {
			moved[u] = true
		}
		if _, err := m.expungeWhere(func(r *Record) bool { return moved[r.UID] }); err != nil {
			return res, err
		}
	}
	return res, nil
}

// stageLink makes a staged message from an existing message file: a hard
// link into the partition's stage directory (a copy across partitions).
func (s *Store) stageLink(path, partition string) (*Staged, error) {
	dir := s.stageDir(partition)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	p := fsutil.TempName(dir, "copy.")
	if err := os.Link(path, p); err != nil {
		if cerr := fsutil.CopyFile(path, p); cerr != nil {
			if os.IsNotExist(err) {
				return nil, ErrExpunged
			}
			return nil, fmt.Errorf("stage %s: %w", path, err)
		}
	}
	f, err := os.Open(p)
	if err != nil {
		os.Remove(p)
		return nil, err
	}
	return &Staged{stage: fsutil.AdoptStage(f, p), partition: partition}, nil
}
