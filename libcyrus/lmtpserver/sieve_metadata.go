package lmtpserver

import (
	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
)

// StoreMetadata reads Sieve's metadata tests from the store's annotations.
// lmtpd reads them with its own authority, as Cyrus's lmtpd does: the
// script belongs to the user it runs for, and private values are that
// user's.
func StoreMetadata(s *mailbox.Store) MetadataReader { return storeMetadata{s} }

type storeMetadata struct{ s *mailbox.Store }

func (m storeMetadata) Metadata(mbox, entry, userid string) (string, bool, error) {
	scope := "/shared"
	if userid != "" {
		scope = "/private"
	}
	return m.s.ReadMetadata(acl.Identity{UserID: userid, Admin: true}, mbox, scope+entry)
}
