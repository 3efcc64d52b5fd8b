package mailbox

import (
	"fmt"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/mboxname"
)

// What POP3 needs beyond IMAP's operations: Cyrus's pop3d reaches its
// maildrop whatever the ACL says unless popuseacl is set, expunges what
// DELE marked without a \Deleted flag ever being stored (DELE marks only
// inside the session, RFC 1939 6), and keeps the time of the last POP3
// login in the index header for popminpoll.

// OpenMaildrop opens userid's own mailbox name (the INBOX, or one of its
// folders with popsubfolders) for a POP3 session. With useACL false
// (popuseacl: no, Cyrus's default) the user holds every right on it
// whatever its ACL says, as in Cyrus's pop3d; with useACL the ACL
// applies and the r right is needed, as for Open. A mailbox userid does
// not own is refused either way. The view is a snapshot: a POP3 session
// never calls Sync before its QUIT, so it keeps the messages it saw at
// login (RFC 1939 5: the maildrop is fixed for the session).
func (s *Store) OpenMaildrop(userid, name string, useACL bool) (*Mailbox, error) {
	if owner, ok := mboxname.Owner(name); !ok || owner != userid {
		return nil, ErrNoPerm
	}
	id := s.Identity(userid)
	if useACL {
		return s.Open(id, name, OpenOptions{})
	}
	e, err := s.Lookup(name)
	if err != nil {
		return nil, err
	}
	if e.Deleted {
		return nil, ErrNonexistent
	}
	return s.open(id, e, acl.All, OpenOptions{})
}

// ExpungeMessages expunges the messages with the given UIDs in one
// commit, whether or not they are marked \Deleted: POP3's UPDATE state
// (RFC 1939 6), which Cyrus's pop3d runs at QUIT for the messages DELE
// marked. The t right is needed (Cyrus checks it at DELE under
// popuseacl). Messages already expunged by another session are skipped.
// It returns the UIDs expunged.
func (m *Mailbox) ExpungeMessages(uids []uint32) ([]uint32, error) {
	if m.rights&acl.DeleteMessages == 0 {
		return nil, ErrNoPerm
	}
	if len(uids) == 0 {
		return nil, nil
	}
	only := make(map[uint32]bool, len(uids))
	for _, u := range uids {
		only[u] = true
	}
	return m.expungeWhere(func(r *Record) bool { return only[r.UID] })
}

// POP3LastLogin returns the login time of the last POP3 session that
// ended with QUIT, zero if none did (popminpoll).
func (m *Mailbox) POP3LastLogin() (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, err := m.fs.lock(false)
	if err != nil {
		return time.Time{}, err
	}
	defer l.Unlock()
	h, err := m.fs.idx.readHeader()
	if err != nil {
		return time.Time{}, err
	}
	if h.POP3LastLogin == 0 {
		return time.Time{}, nil
	}
	return time.Unix(h.POP3LastLogin, 0), nil
}

// SetPOP3LastLogin records t as the last POP3 login, as Cyrus's pop3d
// does at QUIT with the time the session logged in.
func (m *Mailbox) SetPOP3LastLogin(t time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, err := m.fs.lock(true)
	if err != nil {
		return err
	}
	defer l.Unlock()
	h, err := m.headerForWrite()
	if err != nil {
		return err
	}
	h.POP3LastLogin = t.Unix()
	if err := m.commitHeader(&h); err != nil {
		return fmt.Errorf("record POP3 login of %s: %w", m.entry.Name, err)
	}
	return nil
}
