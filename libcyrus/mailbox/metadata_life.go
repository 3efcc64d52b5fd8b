package mailbox

import (
	"fmt"

	"github.com/cyrusgo/cyrusgo/libcyrus/mboxname"
)

// Annotations follow their mailbox (RFC 5464 4.1): they are keyed by the
// unique id, which RENAME keeps, so only the cases below rewrite them.
// A failure here is logged, not returned: the mailbox operation has
// already happened, and a stale annotation of a vanished unique id is
// never read again.

// dropMailboxMetadata removes a deleted mailbox's annotations, so a new
// mailbox of the same name starts bare.
func (s *Store) dropMailboxMetadata(e *Entry) {
	if err := s.annot.DeleteMailbox(e.UniqueID); err != nil {
		s.log.Error(fmt.Sprintf("delete annotations of %s: %v", e.Name, err))
	}
}

// dropUserMetadata removes a deleted user's private annotations, on the
// server and on every mailbox.
func (s *Store) dropUserMetadata(userid string) {
	if err := s.annot.DeleteUser(userid); err != nil {
		s.log.Error(fmt.Sprintf("delete annotations of user %s: %v", userid, err))
	}
}

// moveUserMetadata gives a renamed user's private annotations on a
// mailbox that moved with them to the new user name.
func (s *Store) moveUserMetadata(e *Entry, oldName, newName string) {
	oldOwner, ok1 := mboxname.Owner(oldName)
	newOwner, ok2 := mboxname.Owner(newName)
	if !ok1 || !ok2 || oldOwner == newOwner {
		return
	}
	if err := s.annot.RenameUser(e.UniqueID, oldOwner, newOwner); err != nil {
		s.log.Error(fmt.Sprintf("rename annotations of %s: %v", newName, err))
	}
}

// copyInboxMetadata gives the mailbox made by RENAME INBOX a copy of
// INBOX's annotations; INBOX keeps its own (RFC 5464 4.1).
func (s *Store) copyInboxMetadata(inbox, to *Entry) {
	if err := s.annot.CopyMailbox(inbox.UniqueID, to.UniqueID); err != nil {
		s.log.Error(fmt.Sprintf("copy annotations of %s to %s: %v", inbox.Name, to.Name, err))
	}
}
