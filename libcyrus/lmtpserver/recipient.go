package lmtpserver

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/duplicate"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/mboxname"
	"github.com/cyrusgo/cyrusgo/libcyrus/quota"
)

// Recipient is an accepted RCPT: whose mailbox it names and how.
type Recipient struct {
	// Address is the forward-path as the client gave it, with brackets.
	Address string
	// UserID is the canonical user, "" for a shared mailbox reached
	// through postuser.
	UserID string
	// Detail is the +detail of a user address as internal name
	// components, nil without one.
	Detail []string
	// Mailbox is the internal name the recipient resolved to: the user's
	// INBOX, or the shared mailbox.
	Mailbox string
	// IgnoreQuota is RCPT's IGNOREQUOTA parameter.
	IgnoreQuota bool

	partition string
}

// resolve is Cyrus's process_recipient: the address names a user (or,
// through postuser, a shared mailbox) that must exist (autocreate_post
// may make the INBOX) and not be over quota; an unknown one goes to
// lmtp_catchall_mailbox when that is set.
func (ss *session) resolve(addr string, ignoreQuota bool) (*Recipient, error) {
	s := ss.srv
	local, detail, domain := splitRecipient(addr)
	var rc *Recipient
	var err error
	if local == "" {
		err = mailbox.ErrNonexistent
	} else {
		if s.downcase {
			// lmtp_downcase_rcpt: the user part only, never the detail.
			local = strings.ToLower(local)
		}
		rc, err = ss.verify(addr, local, detail, domain, ignoreQuota)
	}
	if err != nil && mailbox.CodeOf(err) == mailbox.CodeNonexistent && s.catchall != "" {
		if rc2, err2 := ss.verifyUser(addr, s.catchall, "", ignoreQuota); err2 == nil {
			return rc2, nil
		}
	}
	return rc, err
}

// splitRecipient takes a forward-path apart as Cyrus's
// mbname_from_recipient: the source route is dropped, the domain starts
// at the last "@", the detail at the first "+" of the local part.
// Quoting and backslash escapes of the local part are undone.
func splitRecipient(addr string) (local, detail, domain string) {
	a := strings.TrimPrefix(addr, "<")
	a = strings.TrimSuffix(a, ">")
	if strings.HasPrefix(a, "@") {
		if i := strings.IndexByte(a, ':'); i >= 0 {
			a = a[i+1:]
		}
	}
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		a, domain = a[:i], strings.ToLower(a[i+1:])
	}
	if strings.HasPrefix(a, `"`) || strings.IndexByte(a, '\\') >= 0 {
		var b strings.Builder
		for i := 0; i < len(a); i++ {
			switch c := a[i]; c {
			case '"':
			case '\\':
				if i+1 < len(a) {
					i++
					b.WriteByte(a[i])
				}
			default:
				b.WriteByte(c)
			}
		}
		a = b.String()
	}
	local, detail, _ = strings.Cut(a, "+")
	return local, detail, domain
}

// verify resolves a user or postuser address.
func (ss *session) verify(addr, local, detail, domain string, ignoreQuota bool) (*Recipient, error) {
	s := ss.srv
	userid := local
	if domain != "" {
		userid += "@" + domain
	}
	ns := s.store.Namespace()
	canon, err := ns.CanonicalUserID(userid)
	if err != nil {
		return nil, mailbox.ErrNonexistent
	}
	if s.postUser != "" && canon == s.postUser {
		// postuser+shared.folder: the detail names a shared mailbox.
		boxes, ok := detailBoxes(ns, detail)
		if !ok || len(boxes) == 0 {
			return nil, mailbox.ErrNonexistent
		}
		name := strings.Join(boxes, ".")
		if d, _ := mboxname.SplitDomain(mboxname.UserInbox(canon)); d != "" {
			name = d + "!" + name
		}
		return ss.verifyShared(addr, name, ignoreQuota)
	}
	return ss.verifyUser(addr, canon, detail, ignoreQuota)
}

// verifyUser checks that the user's INBOX exists (creating it when
// autocreate_post says so) and is not over quota. The +detail folder is
// looked at only when the message is delivered, as in Cyrus: a missing
// one means INBOX.
func (ss *session) verifyUser(addr, userid, detail string, ignoreQuota bool) (*Recipient, error) {
	s := ss.srv
	canon, err := s.store.Namespace().CanonicalUserID(userid)
	if err != nil {
		return nil, mailbox.ErrNonexistent
	}
	inbox := mboxname.UserInbox(canon)
	e, err := s.store.Lookup(inbox)
	if errors.Is(err, mailbox.ErrNonexistent) && s.autocreate {
		e, err = s.autocreateInbox(inbox)
	}
	if err != nil {
		return nil, err
	}
	if !ignoreQuota {
		if err := s.checkQuota(inbox, ss.txn.size); err != nil {
			return nil, err
		}
	}
	rc := &Recipient{Address: addr, UserID: canon, Mailbox: inbox, IgnoreQuota: ignoreQuota, partition: e.Partition}
	if detail != "" {
		if boxes, ok := detailBoxes(s.store.Namespace(), detail); ok {
			rc.Detail = boxes
		} else {
			// A detail that names no possible mailbox: INBOX.
			rc.Detail = []string{""}
		}
	}
	return rc, nil
}

// verifyShared checks a shared mailbox: it must exist, the poster must
// have the p right on it, and it must not be over quota.
func (ss *session) verifyShared(addr, name string, ignoreQuota bool) (*Recipient, error) {
	s := ss.srv
	e, err := s.store.Lookup(name)
	if err != nil {
		return nil, err
	}
	if s.store.Rights(ss.poster(), e)&acl.Post == 0 {
		return nil, mailbox.ErrNoPerm
	}
	if !ignoreQuota {
		if err := s.checkQuota(name, ss.txn.size); err != nil {
			return nil, err
		}
	}
	return &Recipient{Address: addr, Mailbox: name, IgnoreQuota: ignoreQuota, partition: e.Partition}, nil
}

// poster is who posts, for the p right: the submitter MAIL FROM's AUTH=
// names, or nobody in particular ("anyone" matches), as Cyrus's lmtpd
// with no auth state.
func (ss *session) poster() acl.Identity {
	if ss.txn.authEq != "" {
		return ss.srv.store.Identity(ss.txn.authEq)
	}
	return acl.Identity{}
}

// detailBoxes splits a +detail into internal name components: the
// client-visible separator separates, a "." inside a component (with
// unixhierarchysep) is stored as "^", and components are taken as
// modified UTF-7 (RFC 3501 5.1.3) when they decode as such, since Cyrus
// reads the detail as an internal name. ok is false for a detail that
// can name no mailbox (empty components).
func detailBoxes(ns mboxname.Namespace, detail string) ([]string, bool) {
	if detail == "" {
		return nil, true
	}
	parts := strings.Split(detail, string(ns.Separator()))
	for i, p := range parts {
		if p == "" {
			return nil, false
		}
		if d, err := mboxname.DecodeMUTF7(p); err == nil {
			p = d
		}
		parts[i] = strings.ReplaceAll(p, ".", "^")
	}
	return parts, true
}

// autocreateInbox creates a user's INBOX on delivery (autocreate_post).
func (s *Server) autocreateInbox(inbox string) (*mailbox.Entry, error) {
	admin := s.store.Identity("")
	admin.Admin = true
	e, err := s.store.Create(admin, inbox, mailbox.CreateOptions{})
	if err != nil && mailbox.CodeOf(err) == mailbox.CodeAlreadyExists {
		return s.store.Lookup(inbox)
	}
	if err != nil {
		return nil, fmt.Errorf("autocreate %s: %w", inbox, err)
	}
	s.log.Info(fmt.Sprintf("autocreated INBOX %s on delivery", inbox))
	return e, nil
}

// checkQuota applies Cyrus's LMTP quota rule to a message of size bytes
// for mailbox name: with lmtp_strict_quota, the message must fit; without
// (the default), only a quota root that is over its limit already
// refuses, so the message that crosses the limit is still delivered.
func (s *Server) checkQuota(name string, size int64) error {
	q := s.store.Quota()
	root, ok, err := q.Root(name)
	if err != nil {
		return &mailbox.Error{Code: mailbox.CodeTemporary, Msg: "Cannot read quota", Err: err}
	}
	if !ok {
		return nil
	}
	if s.strictQuota {
		if err := q.Check(root, size, 1); err != nil {
			if errors.Is(err, quota.ErrOverQuota) {
				return mailbox.ErrOverQuota
			}
			return &mailbox.Error{Code: mailbox.CodeTemporary, Msg: "Cannot read quota", Err: err}
		}
		return nil
	}
	l, ok, err := q.Limits(root)
	if err != nil {
		return &mailbox.Error{Code: mailbox.CodeTemporary, Msg: "Cannot read quota", Err: err}
	}
	if !ok {
		return nil
	}
	u, err := q.Usage(root)
	if err != nil {
		return &mailbox.Error{Code: mailbox.CodeTemporary, Msg: "Cannot read quota", Err: err}
	}
	if (l.Storage >= 0 && u.Bytes > l.Storage*1024) || (l.Message >= 0 && u.Messages > l.Message) {
		return mailbox.ErrOverQuota
	}
	return nil
}

// The texts of Cyrus's lmtp_err.et and imap_err.et that replies carry.
const (
	userUnknownLong = "550-Mailbox unknown.  Either there is no mailbox associated with this\r\n" +
		"550-name or you do not have authorization to see it.\r\n" +
		"550 5.1.1 User unknown"
	permissionLong = "550-You do not have permission to post a message to this mailbox.\r\n" +
		"550-Please contact the owner of this mailbox in order to submit\r\n" +
		"550-your message, or %s if you believe you\r\n" +
		"550-received this message in error.\r\n" +
		"550 5.7.1 Permission denied"
	replyIOError = "451 4.3.0 System I/O error"
	replyLocked  = "451 4.3.0 Mailbox is locked"
)

// errorReply is Cyrus's send_lmtp_error: the reply for a recipient's
// outcome, nil being success (RFC 2033 4.2, RFC 3463 codes).
func (ss *session) errorReply(err error) string {
	s := ss.srv
	if err == nil {
		return fmt.Sprintf("250 2.1.5 Success SESSIONID=<%s>", ss.sessionID)
	}
	var ce *contentError
	var rej *RejectError
	switch {
	case errors.As(err, &ce):
		return "554 5.6.0 " + ce.text
	case errors.As(err, &rej):
		return rej.reply()
	case errors.Is(err, duplicate.ErrBusy):
		return replyLocked
	}
	switch mailbox.CodeOf(err) {
	case mailbox.CodeNonexistent, mailbox.CodeBadName:
		return userUnknownLong
	case mailbox.CodeNoPerm:
		return fmt.Sprintf(permissionLong, s.postmaster)
	case mailbox.CodeOverQuota:
		if s.overQuotaPerm {
			return fmt.Sprintf("552 5.2.2 Over quota SESSIONID=<%s>", ss.sessionID)
		}
		return fmt.Sprintf("452 4.2.2 Over quota SESSIONID=<%s>", ss.sessionID)
	}
	s.log.Error(fmt.Sprintf("IOERROR: delivery: %v", err))
	return replyIOError
}

func (ss *session) sendError(err error) { ss.reply(ss.errorReply(err)) }
