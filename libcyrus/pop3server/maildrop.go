package pop3server

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/auth"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/mboxname"
)

// loggedIn completes a successful USER/PASS or AUTH: the login is logged
// as Cyrus's loginlog_good_pop does (before the maildrop is opened, the
// folder of a popsubfolders login shown with the user), then the maildrop
// is opened and the session enters the TRANSACTION state (RFC 1939 4).
func (ss *session) loggedIn(res auth.Result) {
	sub := ss.subfolder
	ss.subfolder = ""
	logged := res
	logged.AuthzID = withSubfolder(res.AuthzID, sub)
	ss.srv.auth.LogLogin(ss.clientHost, logged, ss.tlsActive, ss.sessionID)
	if !ss.openMaildrop(res.AuthzID, sub) {
		return
	}
	ss.ok("Mailbox locked and ready SESSIONID=<" + ss.sessionID + ">")
}

// withSubfolder puts "+folder" back into a user name, before the domain.
func withSubfolder(userid, sub string) string {
	if sub == "" {
		return userid
	}
	if i := strings.LastIndexByte(userid, '@'); i >= 0 {
		return userid[:i] + sub + userid[i:]
	}
	return userid + sub
}

// maildropName is the internal name of userid's maildrop: the INBOX, or
// with popsubfolders the folder sub ("+Work") under it. The folder is
// always read below the user's own INBOX, whatever the namespace, so a
// login can never name another user's mailbox.
func (ss *session) maildropName(userid, sub string) (string, error) {
	if sub == "" {
		return mboxname.UserInbox(userid), nil
	}
	ns := ss.srv.store.Namespace()
	ns.AltNamespace, ns.Admin = false, false
	return ns.ToInternal("INBOX"+string(ns.Separator())+sub[1:], userid)
}

// openMaildrop opens and snapshots the maildrop, as Cyrus's openinbox
// does; on failure it has answered the client and the session stays in
// the AUTHORIZATION state.
func (ss *session) openMaildrop(user, sub string) bool {
	srv := ss.srv
	userid, err := srv.store.Namespace().CanonicalUserID(user)
	if err != nil {
		srv.log.Info(fmt.Sprintf("Unable to open maildrop of %s: %v", user, err))
		ss.err("SYS/TEMP", "Unable to open maildrop: Invalid user")
		return false
	}
	name, err := ss.maildropName(userid, sub)
	if err != nil {
		srv.log.Info(fmt.Sprintf("Unable to open maildrop %s%s: %v", mboxname.UserInbox(userid), sub, err))
		ss.err("SYS/TEMP", "Unable to open maildrop: Mailbox does not exist")
		return false
	}
	ss.autocreateInbox(userid)
	useACL := srv.cfg.Bool(config.POPUseACL)
	m, err := srv.store.OpenMaildrop(userid, name, useACL)
	if err != nil {
		srv.log.Info(fmt.Sprintf("Unable to open maildrop %s: %v", name, err))
		switch mailbox.CodeOf(err) {
		case mailbox.CodeNonexistent, mailbox.CodeNoPerm, mailbox.CodeTemporary:
			ss.err("SYS/TEMP", "Unable to open maildrop: "+publicStoreError(err))
		default:
			ss.err("SYS/PERM", "Unable to open maildrop: "+publicStoreError(err))
		}
		return false
	}
	now := srv.now()
	// RFC 2449 6.5, 8.1.1: popminpoll spaces out the logins to one
	// maildrop, counted from the login time of the last session that
	// ended with QUIT.
	if minpoll := srv.cfg.Duration(config.POPMinPoll); minpoll > 0 {
		last, err := m.POP3LastLogin()
		if err == nil && !last.IsZero() && last.Add(minpoll).After(now) {
			mins := int(minpoll.Minutes())
			plural := ""
			if mins > 1 {
				plural = "s"
			}
			msg := fmt.Sprintf("Logins must be at least %d minute%s apart", mins, plural)
			srv.log.Error(name + ": " + msg)
			ss.err("LOGIN-DELAY", msg)
			m.Close()
			return false
		}
	}
	msgs, err := snapshot(m, srv.cfg.Bool(config.POPUseIMAPFlags))
	if err != nil {
		srv.log.Error(fmt.Sprintf("Unable to read maildrop %s: %v", name, err))
		ss.err("SYS/PERM", "Unable to open maildrop: "+publicStoreError(err))
		m.Close()
		return false
	}
	ss.userid, ss.mbox, ss.msgs, ss.rights, ss.loginTime = userid, m, msgs, m.Rights(), now
	ss.state = stateTransaction
	return true
}

// snapshot lists the messages of the view m was opened with. With
// popuseimapflags, messages marked \Deleted are left out, as Cyrus does.
func snapshot(m *mailbox.Mailbox, skipDeleted bool) ([]message, error) {
	n := uint32(m.Count())
	msgs := make([]message, 0, n)
	for seq := uint32(1); seq <= n; seq++ {
		r, err := m.Record(seq)
		if err != nil {
			// A record being rewritten by another process can read torn
			// once; a second read sees it whole.
			if r, err = m.Record(seq); err != nil {
				return nil, fmt.Errorf("record %d: %w", seq, err)
			}
		}
		if skipDeleted && r.Flags&mailbox.FlagDeleted != 0 {
			continue
		}
		msgs = append(msgs, message{uid: r.UID, seq: seq, size: r.Size})
	}
	return msgs, nil
}

// publicStoreError is the text of a store error the client may see.
func publicStoreError(err error) string {
	switch mailbox.CodeOf(err) {
	case mailbox.CodeNonexistent:
		return "Mailbox does not exist"
	case mailbox.CodeNoPerm:
		return "Permission denied"
	case mailbox.CodeTemporary:
		return "Server unavailable, try again later"
	}
	return "System I/O error"
}

// autocreateInbox creates the user's INBOX on first login when
// autocreate_quota is not negative, as Cyrus's autocreate does.
func (ss *session) autocreateInbox(userid string) {
	srv := ss.srv
	if srv.cfg.Int(config.AutocreateQuota) < 0 {
		return
	}
	inbox := mboxname.UserInbox(userid)
	if _, err := srv.store.Lookup(inbox); err == nil {
		return
	}
	admin := srv.store.Identity("")
	admin.Admin = true
	if _, err := srv.store.Create(admin, inbox, mailbox.CreateOptions{}); err != nil && mailbox.CodeOf(err) != mailbox.CodeAlreadyExists {
		srv.log.Error(fmt.Sprintf("autocreate INBOX for %s: %v", userid, err))
	}
}

// cmdQUIT is RFC 1939 5 and 6: in the TRANSACTION state the session
// enters the UPDATE state and the messages marked by DELE are expunged,
// in one commit.
func cmdQUIT(ss *session, arg string, hasArg bool) {
	if hasArg {
		ss.err("", "Unexpected extra argument")
		return
	}
	ss.closing = true
	if ss.state == stateTransaction {
		if err := ss.update(); err != nil {
			ss.srv.log.Error(fmt.Sprintf("POP3 QUIT of %s: %v", ss.mbox.Name(), err))
			// RFC 1939 6: the -ERR of a failed UPDATE.
			ss.err("SYS/TEMP", "Some deleted messages not removed")
			return
		}
	}
	ss.ok("")
}

// update is the UPDATE state, as Cyrus's QUIT: it records the login
// time for popminpoll, expunges what DELE marked and, with
// popuseimapflags, sets \Seen on what RETR returned.
func (ss *session) update() error {
	m := ss.mbox
	cfg := ss.srv.cfg
	// The view's record positions must be current before a flag change
	// (a reconstruct may have rewritten the index); the snapshot itself
	// lives in ss.msgs and is not affected.
	if _, err := m.Sync(false); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if err := m.SetPOP3LastLogin(ss.loginTime); err != nil {
		ss.srv.log.Error(err.Error())
	}
	var del, seen []uint32
	for _, msg := range ss.msgs {
		switch {
		case msg.deleted:
			del = append(del, msg.uid)
		case msg.seen:
			seen = append(seen, msg.uid)
		}
	}
	if len(del) > 0 {
		if _, err := m.ExpungeMessages(del); err != nil {
			return fmt.Errorf("expunge: %w", err)
		}
	}
	if len(seen) > 0 && cfg.Bool(config.POPUseIMAPFlags) &&
		(!cfg.Bool(config.POPUseACL) || ss.rights&acl.Seen != 0) {
		if _, err := m.StoreFlags(seen, mailbox.FlagsAdd, []string{`\Seen`}, 0); err != nil {
			ss.srv.log.Error(fmt.Sprintf("set \\Seen in %s: %v", m.Name(), err))
		}
	}
	return nil
}

// cmdSTAT is RFC 1939 5: the messages not marked deleted and their size.
func cmdSTAT(ss *session, arg string, hasArg bool) {
	if hasArg {
		ss.err("", "Unexpected extra argument")
		return
	}
	var n int
	var size uint64
	for _, m := range ss.msgs {
		if !m.deleted {
			n++
			size += m.size
		}
	}
	ss.ok(fmt.Sprintf("%d %d", n, size))
}

// cmdLIST is RFC 1939 5.
func cmdLIST(ss *session, arg string, hasArg bool) {
	if hasArg {
		if n, ok := ss.parseMsgno(arg); ok {
			ss.ok(fmt.Sprintf("%d %d", n, ss.msgs[n-1].size))
		}
		return
	}
	ss.ok("scan listing follows")
	for i, m := range ss.msgs {
		if !m.deleted {
			ss.line(fmt.Sprintf("%d %d", i+1, m.size))
		}
	}
	ss.endMulti()
}

// cmdUIDL is RFC 1939 7. The unique id is uidvalidity.uid in Cyrus's
// default uidl_format, stable across sessions as RFC 1939 requires and
// the same as Cyrus gives for a mailbox it created.
func cmdUIDL(ss *session, arg string, hasArg bool) {
	if hasArg {
		if n, ok := ss.parseMsgno(arg); ok {
			ss.ok(ss.uidl(n))
		}
		return
	}
	ss.ok("unique-id listing follows")
	for i, m := range ss.msgs {
		if !m.deleted {
			ss.line(ss.uidl(i + 1))
		}
	}
	ss.endMulti()
}

// uidl formats message n's line of a UIDL response as uidl_format says.
func (ss *session) uidl(n int) string {
	uid := ss.msgs[n-1].uid
	v := ss.mbox.Entry().UIDValidity
	switch ss.srv.cfg.Enum(config.UIDLFormat) {
	case "uidonly":
		return fmt.Sprintf("%d %d", n, uid)
	case "dovecot":
		return fmt.Sprintf("%d %08x%08x", n, uid, v)
	case "courier":
		return fmt.Sprintf("%d %d-%d", n, v, uid)
	}
	return fmt.Sprintf("%d %d.%d", n, v, uid)
}

// cmdDELE is RFC 1939 5: the message is only marked; QUIT expunges it.
// Under popuseacl the t right is needed, as in Cyrus.
func cmdDELE(ss *session, arg string, hasArg bool) {
	if !hasArg {
		ss.err("", "Missing argument")
		return
	}
	if ss.srv.cfg.Bool(config.POPUseACL) && ss.rights&acl.DeleteMessages == 0 {
		ss.err("SYS/PERM", "Permission denied")
		return
	}
	if n, ok := ss.parseMsgno(arg); ok {
		ss.msgs[n-1].deleted = true
		ss.counts.dele++
		ss.ok("message deleted")
	}
}

// cmdNOOP is RFC 1939 5.
func cmdNOOP(ss *session, arg string, hasArg bool) {
	if hasArg {
		ss.err("", "Unexpected extra argument")
		return
	}
	ss.ok("")
}

// cmdRSET is RFC 1939 5; like Cyrus it also forgets which messages were
// retrieved, for popuseimapflags.
func cmdRSET(ss *session, arg string, hasArg bool) {
	if hasArg {
		ss.err("", "Unexpected extra argument")
		return
	}
	for i := range ss.msgs {
		ss.msgs[i].deleted, ss.msgs[i].seen = false, false
	}
	ss.ok("")
}

// parseMsgno reads a message number argument as Cyrus's parse_msgno
// does, answering the client itself when it is not a message the
// session may use: not a number, more than a number, no such message or
// one marked deleted (RFC 1939 5: "-ERR no such message").
func (ss *session) parseMsgno(arg string) (int, bool) {
	n, rest, ok := parseUint32(strings.TrimLeftFunc(arg, isSpace))
	switch {
	case !ok:
		ss.err("", "Not a number")
		return 0, false
	case rest != "":
		ss.err("", "Unexpected extra argument")
		return 0, false
	}
	return ss.msgExists(n)
}

// msgExists checks message number n, answering "-ERR No such message"
// when it is not in the snapshot or marked deleted.
func (ss *session) msgExists(n uint32) (int, bool) {
	if n < 1 || uint64(n) > uint64(len(ss.msgs)) || ss.msgs[n-1].deleted {
		ss.err("", "No such message")
		return 0, false
	}
	return int(n), true
}

// parseUint32 reads leading decimal digits of s as Cyrus's parseuint32:
// at least one digit, no sign, no overflow. It returns the rest of s.
func parseUint32(s string) (uint32, string, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, s, false
	}
	v, err := strconv.ParseUint(s[:i], 10, 32)
	if err != nil {
		return 0, s, false
	}
	return uint32(v), s[i:], true
}
