package imapserver

// Mailbox management: CREATE (with CREATE-SPECIAL-USE, RFC 6154 3),
// DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, STATUS (RFC 3501 6.3.3-6.3.7,
// 6.3.10, with SIZE from RFC 8438 and MAILBOXID from RFC 8474) and
// NAMESPACE (RFC 2342). LIST, LSUB and XLIST are in list_*.go.
//
// Answers follow Cyrus 3.6, which gives most failures of these commands
// no response code ("NO Mailbox already exists", "NO Permission
// denied"), unlike SELECT and COPY.

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/imapwire"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/mboxname"
)

// Cyrus 3.6's texts for mailbox-management failures.
const (
	textNoMailbox     = "Mailbox does not exist"
	textExists        = "Mailbox already exists"
	textPermission    = "Permission denied"
	textBadName       = "Invalid mailbox name"
	textHasChildren   = "Mailbox has inferior hierarchical names"
	textUseConflict   = "SPECIAL-USE flag conflict"
	textUseInvalid    = "Invalid annotation entry"
	textInboxDelete   = "Operation is not supported on mailbox"
	textOverQuota     = "Over quota"
	textSubscribeGone = "Subscribe: Mailbox does not exist"
)

// mboxResult maps a store error of a mailbox-management command to the
// answer Cyrus 3.6 gives; what is not the client's doing is logged.
func (ss *session) mboxResult(op string, err error) result {
	switch mailbox.CodeOf(err) {
	case mailbox.CodeNoPerm:
		return no("", textPermission)
	case mailbox.CodeNonexistent:
		return no("", textNoMailbox)
	case mailbox.CodeAlreadyExists:
		return no("", textExists)
	case mailbox.CodeHasChildren:
		// RFC 5530 3: the one code Cyrus 3.6 gives DELETE.
		return no("HASCHILDREN", textHasChildren)
	case mailbox.CodeOverQuota:
		return no("OVERQUOTA", textOverQuota)
	case mailbox.CodeBadName:
		var ne *mboxname.NameError
		var se *mailbox.Error
		if errors.As(err, &ne) || !errors.As(err, &se) {
			return no("", textBadName)
		}
		return no("CANNOT", se.Msg)
	case mailbox.CodeInternal, mailbox.CodeTemporary:
		ss.srv.log.Error(fmt.Sprintf("%s for %s: %v", op, ss.user, err))
	}
	return storeResult(err)
}

// readMboxArg reads SP and a mailbox name (astring).
func (ss *session) readMboxArg() (string, error) {
	if err := ss.r.SP(); err != nil {
		return "", err
	}
	return ss.r.ReadAString()
}

// mboxInternal converts a client's mailbox name to the internal one.
// stripSep drops one trailing hierarchy separator first, as Cyrus does
// for CREATE, DELETE and RENAME: RFC 3501 6.3.3 lets a client end a name
// with it to say it means to create children, and the name without it is
// the mailbox.
func (ss *session) mboxInternal(ext string, stripSep bool) (string, error) {
	if stripSep {
		if t := strings.TrimSuffix(ext, string(ss.ns.Separator())); t != "" {
			ext = t
		}
	}
	return ss.toInternal(ext)
}

// canonicalSpecialUse returns the canonical spelling of a special-use
// attribute a client may set, with those of specialuse_extra; ok is false
// for any other.
func (ss *session) canonicalSpecialUse(flag string) (string, bool) {
	return mailbox.CanonicalSpecialUse(flag, ss.srv.cfg.List(config.SpecialUseExtra))
}

// specialUseList splits a stored special-use value into its attributes.
func specialUseList(s string) []string { return strings.Fields(s) }

// specialUseConflict reports whether another mailbox of owner already
// carries one of uses: Cyrus 3.6 keeps each attribute on one mailbox per
// user, so a client finds "the" Sent folder.
func (ss *session) specialUseConflict(owner, except string, uses []string) (bool, error) {
	if owner == "" || len(uses) == 0 {
		return false, nil
	}
	inbox := mboxname.UserInbox(owner)
	found := false
	err := ss.srv.store.List(acl.Identity{Admin: true}, inbox, func(e *mailbox.Entry, _ acl.Rights) error {
		if e.Name != inbox && !strings.HasPrefix(e.Name, inbox+".") || e.Name == except {
			return nil
		}
		for _, have := range specialUseList(e.SpecialUse) {
			for _, want := range uses {
				if strings.EqualFold(have, want) {
					found = true
					return errStopList
				}
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStopList) {
		return false, err
	}
	return found, nil
}

// errStopList ends a store scan early.
var errStopList = errors.New("stop")

// protectedUse reports whether a mailbox with these special-use
// attributes may not be deleted nor moved to another parent
// (specialuse_protect); admins are not bound by it.
func (ss *session) protectedUse(uses string) bool {
	if ss.id.Admin || uses == "" {
		return false
	}
	for _, p := range ss.srv.cfg.List(config.SpecialUseProtect) {
		for _, u := range specialUseList(uses) {
			if strings.EqualFold(p, u) {
				return true
			}
		}
	}
	return false
}

// createParams are the create-params of RFC 4466 2.2 that Cyrus takes:
// USE (RFC 6154 3) and PARTITION (Cyrus's own, admins only).
type createParams struct {
	uses      []string
	partition string
	badUse    bool
}

func (p *createParams) read(r *imapwire.Reader) error {
	name, err := r.ReadAtom()
	if err != nil {
		return err
	}
	switch strings.ToUpper(name) {
	case "USE", "PARTITION":
	default:
		return &imapwire.SyntaxError{Msg: "Invalid Create parameter " + name}
	}
	if err := r.SP(); err != nil {
		return err
	}
	switch strings.ToUpper(name) {
	case "USE":
		return r.ReadList(func(r *imapwire.Reader) error {
			f, err := r.ReadFlag()
			if err != nil {
				return err
			}
			p.uses = append(p.uses, f)
			return nil
		})
	case "PARTITION":
		p.partition, err = r.ReadAString()
	}
	return err
}

// cmdCreate is RFC 3501 6.3.3 with CREATE-SPECIAL-USE (RFC 6154 3).
func cmdCreate(ss *session, tag string) result {
	if err := ss.r.SP(); err != nil {
		return wireErr(err)
	}
	// Read as leniently as Cyrus does, so that a name with a wildcard
	// gets "Invalid mailbox name" rather than a syntax error.
	ext, err := ss.r.ReadListMailbox()
	if err != nil {
		return wireErr(err)
	}
	var params createParams
	if ss.r.PeekSP() {
		ss.r.SP()
		if c, _ := ss.r.Peek(); c == '(' {
			err = ss.r.ReadList(params.read)
		} else {
			// Cyrus's older form: CREATE name partition.
			params.partition, err = ss.r.ReadAString()
		}
		if err != nil {
			return wireErr(err)
		}
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	name, err := ss.mboxInternal(ext, true)
	if err != nil || mboxname.Validate(name) != nil || !ss.creatableName(ext) {
		return no("", textBadName)
	}
	opts := mailbox.CreateOptions{Partition: params.partition}
	if opts.Partition != "" && !ss.id.Admin {
		return no("", textPermission)
	}
	var uses []string
	for _, u := range params.uses {
		c, ok := ss.canonicalSpecialUse(u)
		if !ok {
			return no("USEATTR", textUseInvalid)
		}
		uses = append(uses, c)
	}
	opts.SpecialUse = strings.Join(uses, " ")
	if _, err := ss.srv.store.Lookup(name); err == nil {
		return no("", textExists)
	}
	owner, isUser := mboxname.Owner(name)
	if isUser && name != mboxname.UserInbox(owner) {
		// A user's folders live under their INBOX; Cyrus refuses them,
		// admins included, until the INBOX exists.
		if _, err := ss.srv.store.Lookup(mboxname.UserInbox(owner)); err != nil {
			return no("", textPermission)
		}
	}
	if clash, err := ss.specialUseConflict(owner, "", uses); err != nil {
		return ss.mboxResult("CREATE", err)
	} else if clash {
		return no("USEATTR", textUseConflict)
	}
	if res, ok := ss.createParents(name, opts.Partition); !ok {
		return res
	}
	e, err := ss.srv.store.Create(ss.id, name, opts)
	if err != nil {
		if mailbox.CodeOf(err) == mailbox.CodeNonexistent {
			// The parent is hidden from the client: it may not create
			// there, and is not told that the parent exists.
			return no("", textPermission)
		}
		return ss.mboxResult("CREATE", err)
	}
	// RFC 8474 4.1: the new mailbox's id.
	return okCode("MAILBOXID ("+e.UniqueID+")", "Completed")
}

// createParents creates the missing superior names of name, top down,
// as RFC 3501 6.3.3 asks ("the server SHOULD create any superior
// hierarchical names that are needed"); they are real mailboxes, as in
// Cyrus 3.6. It never creates a user's INBOX or the "user" root.
func (ss *session) createParents(name, partition string) (result, bool) {
	var missing []string
	for p, ok := mboxname.Parent(name); ok; p, ok = mboxname.Parent(p) {
		if mboxname.IsUserInbox(p) || mboxname.Validate(p) != nil {
			break
		}
		if _, err := ss.srv.store.Lookup(p); err == nil {
			break
		}
		missing = append(missing, p)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		_, err := ss.srv.store.Create(ss.id, missing[i], mailbox.CreateOptions{Partition: partition})
		switch mailbox.CodeOf(err) {
		case mailbox.CodeAlreadyExists:
		case mailbox.CodeNonexistent:
			return no("", textPermission), false
		default:
			if err != nil {
				return ss.mboxResult("CREATE", err), false
			}
		}
	}
	return result{}, true
}

// cmdDelete is RFC 3501 6.3.4. A mailbox with children is refused with
// NO [HASCHILDREN] as Cyrus 3.6 does; an admin deleting a user's INBOX
// removes the whole user, as cyradm's dm expects.
func cmdDelete(ss *session, tag string) result {
	ext, err := ss.readMboxArg()
	if err != nil {
		return wireErr(err)
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	name, err := ss.mboxInternal(ext, true)
	if err != nil {
		return no("", textNoMailbox)
	}
	if !ss.id.Admin && name == mboxname.UserInbox(ss.user) {
		return no("", textInboxDelete)
	}
	e, _, err := ss.srv.store.Info(ss.id, name)
	if err != nil {
		return ss.mboxResult("DELETE", err)
	}
	if ss.protectedUse(e.SpecialUse) {
		return no("", textUseConflict)
	}
	if err := ss.srv.store.Delete(ss.id, name); err != nil {
		return ss.mboxResult("DELETE", err)
	}
	if ss.mbox != nil {
		if _, err := ss.srv.store.Lookup(ss.mboxName); err != nil {
			// The selected mailbox is gone: nothing more can be done
			// in it, so the session goes back to the authenticated
			// state rather than answer every command with NO.
			ss.closeMailbox(false)
		}
	}
	return ok("")
}

// cmdRename is RFC 3501 6.3.5. Each mailbox moved is announced with
// "* OK rename old new", as Cyrus 3.6 does.
func cmdRename(ss *session, tag string) result {
	oldExt, err := ss.readMboxArg()
	if err != nil {
		return wireErr(err)
	}
	newExt, err := ss.readMboxArg()
	if err != nil {
		return wireErr(err)
	}
	partition := ""
	if ss.r.PeekSP() {
		ss.r.SP()
		if c, _ := ss.r.Peek(); c == '(' {
			return wireErr(&imapwire.SyntaxError{Msg: "Invalid partition name in Rename"})
		}
		if partition, err = ss.r.ReadAString(); err != nil {
			return wireErr(err)
		}
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	if partition != "" {
		if !ss.id.Admin {
			return no("", textPermission)
		}
		return no("CANNOT", "Moving a mailbox to another partition is not supported")
	}
	oldName, err := ss.mboxInternal(oldExt, true)
	if err != nil {
		return no("", textNoMailbox)
	}
	newName, err := ss.mboxInternal(newExt, true)
	if err != nil || mboxname.Validate(newName) != nil || !ss.creatableName(newExt) {
		return no("", textBadName)
	}
	e, rights, err := ss.srv.store.Info(ss.id, oldName)
	if err != nil {
		return ss.mboxResult("RENAME", err)
	}
	if rights&acl.DeleteMailbox == 0 && !ss.id.Admin {
		return no("", textPermission)
	}
	if _, err := ss.srv.store.Lookup(newName); err == nil {
		return no("", textExists)
	}
	oldParent, _ := mboxname.Parent(oldName)
	newParent, _ := mboxname.Parent(newName)
	inbox := mboxname.IsUserInbox(oldName)
	if !inbox && strings.HasPrefix(newName, oldName+".") {
		return no("CANNOT", "Cannot rename a mailbox into itself")
	}
	if !inbox && oldParent != newParent && ss.protectedUse(e.SpecialUse) {
		return no("", textUseConflict)
	}
	// The mailboxes that move, for the untagged lines; a user's INBOX
	// stays where it is and gives its messages to a new mailbox.
	var moved []string
	if !inbox || ss.id.Admin && mboxname.IsUserInbox(newName) {
		err := ss.srv.store.List(acl.Identity{Admin: true}, oldName, func(c *mailbox.Entry, _ acl.Rights) error {
			if c.Name == oldName || strings.HasPrefix(c.Name, oldName+".") {
				moved = append(moved, c.Name)
			}
			return nil
		})
		if err != nil {
			return ss.mboxResult("RENAME", err)
		}
	}
	if res, ok := ss.createParents(newName, ""); !ok {
		return res
	}
	if ss.mbox != nil {
		// Pending expunges reach the client before the view is rebuilt
		// under the new name.
		if err := ss.sendUpdates(true); err != nil {
			return storeResult(err)
		}
	}
	if err := ss.srv.store.Rename(ss.id, oldName, newName); err != nil {
		return ss.mboxResult("RENAME", err)
	}
	for _, m := range moved {
		from, err1 := ss.toExternal(m)
		to, err2 := ss.toExternal(newName + strings.TrimPrefix(m, oldName))
		if err1 == nil && err2 == nil {
			ss.w.Raw("* OK rename ")
			ss.w.AString(from)
			ss.w.SP()
			ss.w.AString(to)
			ss.w.CRLF()
		}
	}
	ss.followRename(oldName, newName)
	return ok("")
}

// followRename keeps the session on its selected mailbox when a RENAME
// moved it: the view is opened again under the new name (the messages,
// UIDs and UIDVALIDITY are the same, RFC 3501 6.3.5). When INBOX was
// renamed, its messages left it, and the client hears the expunges.
func (ss *session) followRename(oldName, newName string) {
	if ss.mbox == nil {
		return
	}
	if ss.mboxName != oldName && !strings.HasPrefix(ss.mboxName, oldName+".") {
		return
	}
	if _, err := ss.srv.store.Lookup(ss.mboxName); err == nil {
		// Still there (a renamed INBOX).
		if err := ss.sendUpdates(true); err != nil {
			ss.srv.log.Error(fmt.Sprintf("RENAME of selected %s: %v", ss.mboxName, err))
		}
		return
	}
	renamed := newName + strings.TrimPrefix(ss.mboxName, oldName)
	readOnly := ss.mbox.ReadOnly()
	count := ss.mbox.Count()
	ss.closeMailbox(false)
	m, err := ss.srv.store.Open(ss.id, renamed, mailbox.OpenOptions{ReadOnly: readOnly})
	if err != nil {
		ss.srv.log.Error(fmt.Sprintf("reopen renamed %s: %v", renamed, err))
		return
	}
	ss.mbox, ss.mboxName, ss.state = m, renamed, stateSelected
	if n := m.Count(); n > count {
		ss.w.Untagged()
		ss.w.Number(uint32(n))
		ss.w.Raw(" EXISTS\r\n")
	}
}

// cmdSubscribe is RFC 3501 6.3.6. Cyrus 3.6 subscribes only to mailboxes
// that exist and that the user can see.
func cmdSubscribe(ss *session, tag string) result {
	ext, err := ss.readMboxArg()
	if err != nil {
		return wireErr(err)
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	name, err := ss.toInternal(ext)
	if err != nil {
		return no("", textSubscribeGone)
	}
	if _, _, err := ss.srv.store.Info(ss.id, name); err != nil {
		if mailbox.CodeOf(err) == mailbox.CodeNonexistent {
			return no("", textSubscribeGone)
		}
		return ss.mboxResult("SUBSCRIBE", err)
	}
	if err := ss.srv.store.Subscribe(ss.user, name); err != nil {
		return ss.mboxResult("SUBSCRIBE", err)
	}
	return ok("")
}

// cmdUnsubscribe is RFC 3501 6.3.7; removing a subscription that is not
// there is no error, as in Cyrus.
func cmdUnsubscribe(ss *session, tag string) result {
	ext, err := ss.readMboxArg()
	if err != nil {
		return wireErr(err)
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	name, err := ss.toInternal(ext)
	if err != nil {
		return ok("")
	}
	if err := ss.srv.store.Unsubscribe(ss.user, name); err != nil {
		return ss.mboxResult("UNSUBSCRIBE", err)
	}
	return ok("")
}

// cmdNamespace is RFC 2342 5, answered from the namespace options;
// the personal namespace is NIL for a user without an INBOX (an admin,
// typically), as Cyrus answers.
func cmdNamespace(ss *session, tag string) result {
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	hasInbox := false
	if ss.user != "" {
		_, err := ss.srv.store.Lookup(mboxname.UserInbox(ss.user))
		hasInbox = err == nil
	}
	personal, other, shared := ss.ns.Namespaces(hasInbox)
	ss.w.Raw("* NAMESPACE")
	for _, class := range [][]mboxname.NamespaceEntry{personal, other, shared} {
		ss.w.SP()
		if class == nil {
			ss.w.Nil()
			continue
		}
		ss.w.Byte('(')
		for _, e := range class {
			ss.w.Byte('(')
			ss.w.Quoted(ss.encodeName(e.Prefix))
			ss.w.SP()
			ss.w.Quoted(string(e.Separator))
			ss.w.Byte(')')
		}
		ss.w.Byte(')')
	}
	ss.w.CRLF()
	return ok("")
}

// Status items, in the order Cyrus 3.6 writes them whatever the order
// asked.
const (
	statusMessages uint16 = 1 << iota
	statusRecent
	statusUIDNext
	statusUIDValidity
	statusMailboxID
	statusUnseen
	statusSize
	statusHighestModseq
	statusDeleted
)

var statusNames = []struct {
	name string
	bit  uint16
}{
	{"MESSAGES", statusMessages},
	{"RECENT", statusRecent},
	{"UIDNEXT", statusUIDNext},
	{"UIDVALIDITY", statusUIDValidity},
	{"MAILBOXID", statusMailboxID},
	{"UNSEEN", statusUnseen},
	{"SIZE", statusSize},
	{"HIGHESTMODSEQ", statusHighestModseq},
	{"DELETED", statusDeleted}, // RFC 9051 6.3.11
}

// readStatusItems reads "(" status-att *(SP status-att) ")" (RFC 3501
// 6.3.10; SIZE RFC 8438; MAILBOXID RFC 8474; HIGHESTMODSEQ RFC 7162);
// DELETED (RFC 9051 6.3.11) only in IMAP4rev2, as Cyrus 3.6 has none.
func readStatusItems(r *imapwire.Reader, rev2 bool) (uint16, error) {
	var items uint16
	err := r.ReadList(func(r *imapwire.Reader) error {
		a, err := r.ReadAtom()
		if err != nil {
			return err
		}
		for _, s := range statusNames {
			if strings.EqualFold(s.name, a) && (rev2 || s.bit != statusDeleted) {
				items |= s.bit
				return nil
			}
		}
		return &imapwire.SyntaxError{Msg: "Invalid Status attributes " + strings.ToLower(a)}
	})
	if err == nil && items == 0 {
		err = &imapwire.SyntaxError{Msg: "Bad status string"}
	}
	return items, err
}

// cmdStatus is RFC 3501 6.3.10. The counters come from a view of their
// own, so STATUS of the selected mailbox (6.3.10 allows it) does not
// disturb what the session has been told.
func cmdStatus(ss *session, tag string) result {
	ext, err := ss.readMboxArg()
	if err != nil {
		return wireErr(err)
	}
	if err := ss.r.SP(); err != nil {
		return wireErr(err)
	}
	items, err := readStatusItems(ss.r, ss.rev2())
	if err != nil {
		return wireErr(err)
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	if items&statusHighestModseq != 0 {
		ss.enableCondstore() // RFC 7162 3.1
	}
	name, err := ss.toInternal(ext)
	if err != nil {
		return no("", textNoMailbox)
	}
	st, e, err := ss.srv.store.StatusOf(ss.id, name)
	if err != nil {
		return ss.mboxResult("STATUS", err)
	}
	ss.writeStatus(ext, items, &st, e)
	return ok("")
}

// writeStatus writes "* STATUS name (items)".
func (ss *session) writeStatus(ext string, items uint16, st *mailbox.Status, e *mailbox.Entry) {
	w := ss.w
	w.Raw("* STATUS ")
	w.AString(ext)
	w.Raw(" (")
	first := true
	for _, s := range statusNames {
		if items&s.bit == 0 {
			continue
		}
		if !first {
			w.SP()
		}
		first = false
		w.Atom(s.name)
		w.SP()
		switch s.bit {
		case statusMessages:
			w.Number(st.Messages)
		case statusRecent:
			w.Number(st.Recent)
		case statusUIDNext:
			w.Number(st.UIDNext)
		case statusUIDValidity:
			w.Number(st.UIDValidity)
		case statusMailboxID:
			w.Raw("(" + e.UniqueID + ")")
		case statusUnseen:
			w.Number(st.Unseen)
		case statusSize:
			w.Number64(st.Size)
		case statusHighestModseq:
			w.Number64(st.HighestModseq)
		case statusDeleted:
			w.Number(st.Deleted)
		}
	}
	w.Raw(")\r\n")
}
