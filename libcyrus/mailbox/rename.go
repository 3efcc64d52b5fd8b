package mailbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/mboxname"
	"github.com/cyrusgo/cyrusgo/libcyrus/quota"
)

// Rename renames a mailbox and everything below it, keeping UIDVALIDITY
// (RFC 3501 6.3.5 allows it, and clients keep their caches). The x right
// on the old name and k on the new parent are needed. Renaming a user's
// INBOX moves its messages into a new mailbox and leaves INBOX empty, as
// the RFC requires; only admins rename whole users (user.a to user.b).
func (s *Store) Rename(id acl.Identity, oldName, newName string) error {
	if err := mboxname.Validate(newName); err != nil {
		return &Error{Code: CodeBadName, Msg: "Invalid mailbox name", Err: err}
	}
	e, err := s.Lookup(oldName)
	if err != nil {
		return err
	}
	r := s.Rights(id, e)
	if r&acl.Lookup == 0 && !id.Admin {
		return ErrNonexistent
	}
	if r&acl.DeleteMailbox == 0 && !id.Admin {
		return ErrNoPerm
	}
	if _, err := s.Lookup(newName); err == nil {
		return errorf(CodeAlreadyExists, "Mailbox already exists")
	}
	owner, isUser := mboxname.Owner(oldName)
	newOwner, newIsUser := mboxname.Owner(newName)
	oldInbox := isUser && mboxname.UserInbox(owner) == oldName
	newInbox := newIsUser && mboxname.UserInbox(newOwner) == newName
	if oldInbox && !(id.Admin && newInbox) {
		return s.renameInbox(id, e, newName)
	}
	if strings.HasPrefix(newName, oldName+".") {
		return errorf(CodeBadName, "Cannot rename a mailbox into itself")
	}
	if (newInbox || isUser && newIsUser && owner != newOwner) && !id.Admin {
		return ErrNoPerm
	}
	parent, err := s.parentOf(newName)
	if err != nil {
		return err
	}
	if parent == nil && !id.Admin {
		return ErrNoPerm
	}
	if parent != nil && !id.Admin && s.Rights(id, parent)&acl.Create == 0 {
		return ErrNoPerm
	}

	// Collect the mailbox and its children.
	var moves []*Entry
	moves = append(moves, e)
	err = s.list.Scan([]byte(oldName+"."), func(k, v []byte) error {
		c, err := decodeEntry(string(k), v)
		if err == nil {
			moves = append(moves, c)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Move directories: children live inside their parent's directory, so
	// moving the top one moves them all when they share its partition.
	for _, m := range moves {
		n := *m
		n.Name = newName + strings.TrimPrefix(m.Name, oldName)
		od, om, err := s.dirs(m)
		if err != nil {
			return err
		}
		nd, nm, err := s.dirs(&n)
		if err != nil {
			return err
		}
		for i, src := range uniqueDirs(od, om) {
			dst := nd
			if i == 1 {
				dst = nm
			}
			if _, err := os.Stat(src); errors.Is(err, os.ErrNotExist) {
				continue // moved with its parent
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
				return &Error{Code: CodeTemporary, Msg: "Cannot rename", Err: err}
			}
			if err := moveMailboxDir(src, dst); err != nil {
				return &Error{Code: CodeTemporary, Msg: "Cannot rename", Err: err}
			}
		}
	}
	var ops []cyrusdb.Op
	for _, m := range moves {
		n := *m
		n.Name = newName + strings.TrimPrefix(m.Name, oldName)
		ops = append(ops, cyrusdb.Op{Key: []byte(m.Name)}, cyrusdb.Op{Key: []byte(n.Name), Value: n.encode()})
		if _, meta, err := s.dirs(&n); err == nil {
			if h, err := readMailboxHeader(meta); err == nil {
				h.Name = n.Name
				writeMailboxHeader(meta, h)
			}
		}
	}
	if err := s.list.Batch(ops); err != nil {
		return fmt.Errorf("rename %s: %w", oldName, err)
	}
	for _, m := range moves {
		newN := newName + strings.TrimPrefix(m.Name, oldName)
		if id.UserID != "" && s.IsSubscribed(id.UserID, m.Name) {
			s.Unsubscribe(id.UserID, m.Name)
			s.Subscribe(id.UserID, newN)
		}
		s.moveUsage(m.Name, newN)
		s.moveUserMetadata(m, m.Name, newN)
	}
	return nil
}

// moveMailboxDir renames a mailbox directory; where the target directory
// exists (an empty shell of a deleted mailbox) its content moves instead.
func moveMailboxDir(src, dst string) error {
	if err := os.Rename(src, dst); err == nil {
		return nil
	}
	return moveMailboxFiles(src, dst)
}

// moveUsage re-files a renamed mailbox's usage under its new quota root.
func (s *Store) moveUsage(oldName, newName string) {
	var u quota.Usage
	found := false
	if root, ok, _ := s.quota.Root(oldName); ok {
		s.quota.Mailboxes(root, func(mb string, mu quota.Usage) error {
			if mb == oldName {
				u, found = mu, true
			}
			return nil
		})
		s.quota.RemoveMailbox(root, oldName)
	}
	if root, ok, _ := s.quota.Root(newName); ok && found {
		s.quota.SetMailboxUsage(root, newName, u)
	}
}

// renameInbox implements RENAME INBOX: a new mailbox gets every message
// of INBOX, which stays, empty.
func (s *Store) renameInbox(id acl.Identity, inbox *Entry, newName string) error {
	created, err := s.Create(id, newName, CreateOptions{})
	if err != nil {
		return err
	}
	s.copyInboxMetadata(inbox, created)
	src, err := s.Open(id, inbox.Name, OpenOptions{})
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := s.Open(id, newName, OpenOptions{})
	if err != nil {
		return err
	}
	defer dst.Close()
	if _, err := src.CopyTo(dst, src.UIDs(), true); err != nil {
		return err
	}
	return nil
}
