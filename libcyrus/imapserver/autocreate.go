package imapserver

// Autocreation of a user's mailboxes at first login, as Cyrus 3.6's
// autocreate does when autocreate_quota is not negative (the caller
// checks that, and that the INBOX is missing):
//
//   - the INBOX, subscribed, for the users autocreate_users names
//     ("anyone" by default; groups are not supported), admins excepted
//     as in Cyrus (an admin's NAMESPACE has no personal namespace);
//   - a quota root on it: autocreate_quota KiB of storage and
//     autocreate_quota_messages messages, 0 (or less) meaning no limit;
//   - the folders of autocreate_inbox_folders, "|"-separated names below
//     INBOX written with the client's hierarchy separator; a folder named
//     by an xlist-<attribute> option gets that special-use attribute
//     (xlist-sent: Sent gives Sent \Sent, likewise for the attributes of
//     specialuse_extra), autocreate_acl entries ("folder identifier
//     rights") are applied to it, and it is subscribed when
//     autocreate_subscribe_folders names it;
//   - subscriptions to the shared folders of
//     autocreate_subscribe_sharedfolders the user can see.
//
// Failures past the INBOX are logged and skipped: the login goes on.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/mboxname"
	"github.com/cyrusgo/cyrusgo/libcyrus/quota"
)

// autocreate creates userid's INBOX and what goes with it (see above).
func (s *Server) autocreate(userid string) error {
	if s.store.IsAdmin(userid) {
		return nil
	}
	users := s.cfg.List(config.AutocreateUsers)
	if len(users) > 0 && !slices.Contains(users, "anyone") && !slices.Contains(users, userid) {
		return nil
	}
	inbox := mboxname.UserInbox(userid)
	admin := s.store.Identity("")
	admin.Admin = true
	if _, err := s.store.Create(admin, inbox, mailbox.CreateOptions{}); err != nil {
		if mailbox.CodeOf(err) == mailbox.CodeAlreadyExists {
			return nil // another session of the user was first
		}
		return fmt.Errorf("autocreate %s: %w", inbox, err)
	}
	if err := s.store.Subscribe(userid, inbox); err != nil {
		s.log.Error(fmt.Sprintf("autocreate: subscribe %s to INBOX: %v", userid, err))
	}
	lim := quota.Limits{Storage: quota.Unlimited, Message: quota.Unlimited}
	if q := s.cfg.Int(config.AutocreateQuota); q > 0 {
		lim.Storage = q
	}
	if q := s.cfg.Int(config.AutocreateQuotaMessages); q > 0 {
		lim.Message = q
	}
	if lim.Storage >= 0 || lim.Message >= 0 {
		if err := s.store.Quota().SetLimits(inbox, lim); err != nil {
			s.log.Error(fmt.Sprintf("autocreate: quota of %s: %v", inbox, err))
		}
	}
	subscribe := splitBars(s.cfg.String(config.AutocreateSubscribeFolders))
	for _, folder := range splitBars(s.cfg.String(config.AutocreateInboxFolders)) {
		name, err := s.autocreateName(inbox, folder)
		if err != nil {
			s.log.Error(fmt.Sprintf("autocreate: folder %q of %s: %v", folder, userid, err))
			continue
		}
		opts := mailbox.CreateOptions{SpecialUse: s.autocreateSpecialUse(folder)}
		if _, err := s.store.Create(admin, name, opts); err != nil && mailbox.CodeOf(err) != mailbox.CodeAlreadyExists {
			s.log.Error(fmt.Sprintf("autocreate: create %s: %v", name, err))
			continue
		}
		for _, v := range s.cfg.Values(config.AutocreateACL) {
			f := strings.Fields(v)
			if len(f) == 3 && f[0] == folder {
				if err := s.store.SetACL(admin, name, f[1], f[2]); err != nil {
					s.log.Error(fmt.Sprintf("autocreate: autocreate_acl %q: %v", v, err))
				}
			}
		}
		if slices.Contains(subscribe, folder) {
			if err := s.store.Subscribe(userid, name); err != nil {
				s.log.Error(fmt.Sprintf("autocreate: subscribe %s to %s: %v", userid, name, err))
			}
		}
	}
	user := s.store.Identity(userid)
	for _, shared := range splitBars(s.cfg.String(config.AutocreateSubscribeSharedFolders)) {
		name, err := s.store.Namespace().ToInternal(shared, userid)
		if err != nil {
			continue
		}
		if _, _, err := s.store.Info(user, name); err == nil {
			if err := s.store.Subscribe(userid, name); err != nil {
				s.log.Error(fmt.Sprintf("autocreate: subscribe %s to %s: %v", userid, name, err))
			}
		}
	}
	return nil
}

// splitBars splits a "|"-separated option, trimming each name.
func splitBars(v string) []string {
	var out []string
	for _, f := range strings.Split(v, "|") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// autocreateName is the internal name of folder below inbox: its levels
// are split at the client's separator, and under unixhierarchysep a "."
// inside a level is stored as "^", as mboxname does.
func (s *Server) autocreateName(inbox, folder string) (string, error) {
	ns := s.store.Namespace()
	if dec, err := mboxname.DecodeMUTF7(folder); err == nil {
		folder = dec
	}
	levels := strings.Split(folder, string(ns.Separator()))
	for i, l := range levels {
		if ns.UnixHierSep {
			levels[i] = strings.ReplaceAll(l, ".", "^")
		}
	}
	name := inbox + "." + strings.Join(levels, ".")
	if err := mboxname.Validate(name); err != nil {
		return "", err
	}
	return name, nil
}

// autocreateSpecialUse returns the special-use attribute an
// xlist-<attribute> option gives folder, "" if none.
func (s *Server) autocreateSpecialUse(folder string) string {
	uses := append(strings.Fields(mailbox.SpecialUses), s.cfg.List(config.SpecialUseExtra)...)
	for _, u := range uses {
		v, ok := s.cfg.Raw("xlist-" + strings.ToLower(strings.TrimPrefix(u, `\`)))
		if ok && strings.TrimSpace(v) == folder {
			return u
		}
	}
	return ""
}
