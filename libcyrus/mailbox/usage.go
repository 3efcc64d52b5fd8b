package mailbox

import (
	"fmt"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/quota"
)

// RecomputeUsage records, under the quota root root, the usage of every
// mailbox that root now governs, read from each mailbox's index header,
// and forgets what other roots recorded for those mailboxes. IMAP SETQUOTA
// calls it when it makes a new root (existing messages count from then
// on, as after Cyrus's "quota -f") or removes one that sat inside another
// (the outer root takes its mailboxes back).
//
// Each header is read under the mailbox's shared lock and its usage
// written before the lock is released, so an append (which holds the
// exclusive lock while it records usage) cannot slip in between: the
// order is the store's usual one, mailbox lock then quota.
func (s *Store) RecomputeUsage(root string) error {
	var entries []*Entry
	err := s.List(acl.Identity{Admin: true}, root, func(e *Entry, _ acl.Rights) error {
		if e.Name == root || strings.HasPrefix(e.Name, root+".") {
			entries = append(entries, e)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recompute usage of %s: %w", root, err)
	}
	for _, e := range entries {
		governing, ok, err := s.quota.Root(e.Name)
		if err != nil {
			return fmt.Errorf("recompute usage of %s: %w", root, err)
		}
		if !ok || governing != root {
			continue // a root nested inside this one keeps its own
		}
		if err := s.recordEntryUsage(root, e); err != nil {
			return fmt.Errorf("recompute usage of %s: %w", root, err)
		}
	}
	return nil
}

// recordEntryUsage writes e's usage under root and removes entries other
// roots above it kept for e.
func (s *Store) recordEntryUsage(root string, e *Entry) error {
	data, meta, err := s.dirs(e)
	if err != nil {
		return err
	}
	fs, err := openFiles(data, meta)
	if err != nil {
		return fmt.Errorf("open %s: %w", e.Name, err)
	}
	defer fs.close()
	l, err := fs.lock(false)
	if err != nil {
		return fmt.Errorf("lock %s: %w", e.Name, err)
	}
	defer l.Unlock()
	h, err := fs.idx.readHeader()
	if err != nil {
		return err
	}
	for _, a := range quota.Ancestors(e.Name) {
		if a == root {
			continue
		}
		if _, isRoot, err := s.quota.Limits(a); err == nil && isRoot {
			s.quota.RemoveMailbox(a, e.Name)
		}
	}
	return s.quota.SetMailboxUsage(root, e.Name, quota.Usage{Bytes: int64(h.QuotaUsed), Messages: int64(h.Exists)})
}

// StatusOf returns the counters of a mailbox for IMAP STATUS (RFC 3501
// 6.3.10) without selecting it: the r right is needed. Recent counts the
// messages no session has yet claimed as \Recent, which is what the next
// SELECT will report.
func (s *Store) StatusOf(id acl.Identity, name string) (Status, *Entry, error) {
	m, err := s.Open(id, name, OpenOptions{ReadOnly: true})
	if err != nil {
		return Status{}, nil, err
	}
	defer m.Close()
	st := m.Status()
	m.mu.Lock()
	defer m.mu.Unlock()
	h, err := m.fs.idx.readHeader()
	if err != nil {
		return Status{}, nil, fmt.Errorf("status of %s: %w", name, err)
	}
	st.Recent = 0
	for _, u := range m.view.uids {
		if u > h.RecentUID {
			st.Recent++
		}
	}
	return st, m.entry, nil
}
