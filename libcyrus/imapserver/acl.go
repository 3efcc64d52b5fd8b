package imapserver

// ACL (RFC 4314): SETACL, DELETEACL, GETACL, LISTRIGHTS and MYRIGHTS,
// with Cyrus 3.6's rights (RIGHTS=kxten, the obsolete c and d shown as
// virtual rights) and answers. The store checks the a right for changes;
// this file adds what Cyrus checks at the protocol level.

import (
	"errors"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/mboxname"
)

// allRightLetters are the rights LISTRIGHTS offers one by one, in Cyrus's
// order (RFC 4314 3.7 lets the server choose the grouping).
const allRightLetters = "lrswipkxtecdan0123456789"

// readACLArgs reads SP mailbox SP identifier and, with rights, SP rights.
func (ss *session) readACLArgs(rights bool) (mbox, identifier, mod string, err error) {
	if mbox, err = ss.readMboxArg(); err != nil {
		return
	}
	if identifier, err = ss.readMboxArg(); err != nil {
		return
	}
	if rights {
		if mod, err = ss.readMboxArg(); err != nil {
			return
		}
	}
	err = ss.r.ReadEOL()
	return
}

// aclResult answers the failure of an ACL command on a mailbox the
// client may or may not see.
func (ss *session) aclResult(op string, err error) result {
	var re *acl.RightsError
	if errors.As(err, &re) {
		// RFC 4314 3.1: an unknown right is a BAD.
		return bad(re.Error())
	}
	var ie *acl.IdentifierError
	if errors.As(err, &ie) {
		return no("", "Invalid identifier")
	}
	return ss.mboxResult(op, err)
}

// cmdSetACL is RFC 4314 3.1: "+rights" adds, "-rights" removes, plain
// rights replace, "" removes the entry.
func cmdSetACL(ss *session, tag string) result {
	ext, identifier, mod, err := ss.readACLArgs(true)
	if err != nil {
		return wireErr(err)
	}
	rights := strings.TrimLeft(mod, "+-")
	if len(mod)-len(rights) > 1 {
		return bad("Invalid rights string")
	}
	if _, err := acl.ParseRights(rights); err != nil {
		return ss.aclResult("SETACL", err)
	}
	return ss.setACL(ext, identifier, mod)
}

// cmdDeleteACL is RFC 4314 3.2.
func cmdDeleteACL(ss *session, tag string) result {
	ext, identifier, _, err := ss.readACLArgs(false)
	if err != nil {
		return wireErr(err)
	}
	return ss.setACL(ext, identifier, "")
}

func (ss *session) setACL(ext, identifier, mod string) result {
	name, err := ss.toInternal(ext)
	if err != nil {
		return no("", textNoMailbox)
	}
	if !ss.id.Admin {
		// Only an admin may take the a right from a mailbox's owner
		// (Cyrus's mboxlist_setacl): a user cannot lock themself out.
		if owner, ok := mboxname.Owner(name); ok && identifier == owner && takesAdmin(mod) {
			if _, _, err := ss.srv.store.Info(ss.id, name); err != nil {
				return ss.aclResult("SETACL", err)
			}
			return no("", textPermission)
		}
	}
	if err := ss.srv.store.SetACL(ss.id, name, identifier, mod); err != nil {
		return ss.aclResult("SETACL", err)
	}
	return ok("")
}

// takesAdmin reports whether an ACL change leaves no a right.
func takesAdmin(mod string) bool {
	switch {
	case mod == "":
		return true
	case mod[0] == '+':
		return false
	case mod[0] == '-':
		r, _ := acl.ParseRights(mod[1:])
		return r&acl.Admin != 0
	}
	r, _ := acl.ParseRights(mod)
	return r&acl.Admin == 0
}

// adminEntry returns the entry of a mailbox the client administers (the
// a right): GETACL and LISTRIGHTS need it (RFC 4314 4).
func (ss *session) adminEntry(ext string) (*mailbox.Entry, string, result, bool) {
	name, err := ss.toInternal(ext)
	if err != nil {
		return nil, "", no("", textNoMailbox), false
	}
	e, rights, err := ss.srv.store.Info(ss.id, name)
	if err != nil {
		return nil, "", ss.aclResult("GETACL", err), false
	}
	if rights&acl.Admin == 0 {
		return nil, "", no("", textPermission), false
	}
	return e, name, result{}, true
}

// cmdGetACL is RFC 4314 3.3: "* ACL mailbox identifier rights ...".
func cmdGetACL(ss *session, tag string) result {
	ext, err := ss.readMboxArg()
	if err != nil {
		return wireErr(err)
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	e, _, res, found := ss.adminEntry(ext)
	if !found {
		return res
	}
	a, err := acl.Parse(e.ACL)
	if err != nil {
		return ss.mboxResult("GETACL", err)
	}
	ss.w.Raw("* ACL ")
	ss.w.AString(ext)
	for _, en := range a.Entries() {
		ss.w.SP()
		ss.w.AString(en.Identifier)
		ss.w.SP()
		ss.w.AString(en.Rights.String())
	}
	ss.w.CRLF()
	return ok("")
}

// cmdListRights is RFC 4314 3.4: first the rights the identifier always
// has (the implicit owner rights for the owner, p on any user's INBOX as
// Cyrus lets anyone post there, nothing elsewhere), then every other
// right on its own.
func cmdListRights(ss *session, tag string) result {
	ext, identifier, _, err := ss.readACLArgs(false)
	if err != nil {
		return wireErr(err)
	}
	_, name, res, found := ss.adminEntry(ext)
	if !found {
		return res
	}
	var required acl.Rights
	owner, isUser := mboxname.Owner(name)
	switch {
	case isUser && identifier == owner:
		required = acl.DefaultImplicitOwner
		if p, err := acl.PolicyFromConfig(ss.srv.cfg); err == nil {
			required = p.ImplicitOwner
		}
	case mboxname.IsUserInbox(name):
		required = acl.Post
	}
	req := required.String()
	ss.w.Raw("* LISTRIGHTS ")
	ss.w.AString(ext)
	ss.w.SP()
	ss.w.AString(identifier)
	ss.w.SP()
	if req == "" {
		ss.w.Raw(`""`)
	} else {
		ss.w.Atom(req)
	}
	for _, c := range allRightLetters {
		if !strings.ContainsRune(req, c) {
			ss.w.SP()
			ss.w.Byte(byte(c))
		}
	}
	ss.w.CRLF()
	return ok("")
}

// cmdMyRights is RFC 4314 3.5; any right on the mailbox lets one ask.
func cmdMyRights(ss *session, tag string) result {
	ext, err := ss.readMboxArg()
	if err != nil {
		return wireErr(err)
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	name, err := ss.toInternal(ext)
	if err != nil {
		return no("", textNoMailbox)
	}
	_, rights, err := ss.srv.store.Info(ss.id, name)
	if err != nil {
		return ss.aclResult("MYRIGHTS", err)
	}
	ss.w.Raw("* MYRIGHTS ")
	ss.w.AString(ext)
	ss.w.SP()
	ss.w.AString(rights.String())
	ss.w.CRLF()
	return ok("")
}
