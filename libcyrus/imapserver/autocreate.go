package imapserver

import (
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/mboxname"
)

// autocreate creates userid's INBOX on first login, as Cyrus does when
// autocreate_quota is not negative: with the quota it gives (KiB, 0 means
// none) and the folders of autocreate_inbox_folders, subscribed.
func (s *Server) autocreate(userid string) error {
	inbox := mboxname.UserInbox(userid)
	admin := s.store.Identity("")
	admin.Admin = true
	if _, err := s.store.Create(admin, inbox, mailbox.CreateOptions{}); err != nil && mailbox.CodeOf(err) != mailbox.CodeAlreadyExists {
		return err
	}
	return nil
}
