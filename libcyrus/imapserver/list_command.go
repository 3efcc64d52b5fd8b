package imapserver

// LIST (RFC 3501 6.3.8) with LIST-EXTENDED (RFC 5258): the selection
// options SUBSCRIBED, REMOTE, RECURSIVEMATCH and SPECIAL-USE (RFC 6154
// 5.1), the return options SUBSCRIBED, CHILDREN (RFC 3348), SPECIAL-USE,
// MYRIGHTS (RFC 8440) and STATUS (RFC 5819); LSUB (RFC 3501 6.3.9); and
// XLIST, the older form Cyrus still answers, with \Inbox.
//
// One scan of the mailbox list under the longest prefix the patterns
// allow gives every visible mailbox (the l right, or an admin); names are
// matched in their wire form, children and missing parents are found in
// the same sorted set. See list_match.go.

import (
	"fmt"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/imapwire"
)

// listCmd is one LIST, LSUB or XLIST command.
type listCmd struct {
	verb     string // "LIST", "LSUB" or "XLIST"
	rev2     bool   // IMAP4rev2: STATUS DELETED may be returned
	ref      string
	patterns []string

	selSubscribed, selRemote, selRecursive, selSpecialUse bool
	retSubscribed, retMyRights                            bool
	retStatus                                             uint16
	retMetadata                                           *listMetadata // LIST-METADATA, metadata_list.go
}

func cmdList(ss *session, tag string) result  { return ss.listCommand("LIST") }
func cmdXList(ss *session, tag string) result { return ss.listCommand("XLIST") }
func cmdLsub(ss *session, tag string) result  { return ss.listCommand("LSUB") }

func (ss *session) listCommand(verb string) result {
	c := &listCmd{verb: verb, rev2: ss.rev2()}
	if err := c.read(ss.r); err != nil {
		return wireErr(err)
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	return ss.runList(c)
}

// read parses the arguments (RFC 5258 6, list).
func (c *listCmd) read(r *imapwire.Reader) error {
	if err := r.SP(); err != nil {
		return err
	}
	if ch, _ := r.Peek(); ch == '(' && c.verb == "LIST" {
		if err := r.ReadList(c.readSelect); err != nil {
			return err
		}
		if err := r.SP(); err != nil {
			return err
		}
		// RFC 5258 3.1: RECURSIVEMATCH only refines another option.
		if c.selRecursive && !c.selSubscribed && !c.selSpecialUse {
			return &imapwire.SyntaxError{Msg: "Invalid combination of selection options"}
		}
	}
	ref, err := r.ReadAString()
	if err != nil {
		return err
	}
	c.ref = ref
	if err := r.SP(); err != nil {
		return err
	}
	if ch, _ := r.Peek(); ch == '(' && c.verb == "LIST" {
		// RFC 5258 3: several patterns at once.
		err = r.ReadList(func(r *imapwire.Reader) error {
			p, err := r.ReadListMailbox()
			c.patterns = append(c.patterns, p)
			return err
		})
	} else {
		var p string
		p, err = r.ReadListMailbox()
		c.patterns = append(c.patterns, p)
	}
	if err != nil {
		return err
	}
	if c.verb == "LIST" && r.PeekSP() {
		r.SP()
		kw, err := r.ReadAtom()
		if err != nil {
			return err
		}
		if !strings.EqualFold(kw, "RETURN") {
			return &imapwire.SyntaxError{Msg: "Invalid List return option " + kw}
		}
		if err := r.SP(); err != nil {
			return err
		}
		if err := r.ReadList(c.readReturn); err != nil {
			return err
		}
	}
	if c.selSubscribed {
		// RFC 5258 3.1: SUBSCRIBED selection implies the return option.
		c.retSubscribed = true
	}
	return nil
}

func (c *listCmd) readSelect(r *imapwire.Reader) error {
	opt, err := r.ReadAtom()
	if err != nil {
		return err
	}
	switch strings.ToUpper(opt) {
	case "SUBSCRIBED":
		c.selSubscribed = true
	case "REMOTE":
		// RFC 5258 3.1: there are no remote mailboxes to add.
		c.selRemote = true
	case "RECURSIVEMATCH":
		c.selRecursive = true
	case "SPECIAL-USE":
		c.selSpecialUse = true
	default:
		return &imapwire.SyntaxError{Msg: fmt.Sprintf("Invalid List selection option %q", strings.ToLower(opt))}
	}
	return nil
}

func (c *listCmd) readReturn(r *imapwire.Reader) error {
	if ch, _ := r.Peek(); ch == '(' && c.retMetadata.wantsOptions() {
		return c.retMetadata.readOptions(r)
	}
	opt, err := r.ReadAtom()
	if err != nil {
		return err
	}
	switch strings.ToUpper(opt) {
	case "SUBSCRIBED":
		c.retSubscribed = true
	case "CHILDREN", "SPECIAL-USE":
		// Always given: Cyrus's specialusealways, and CHILDREN
		// attributes come with every LIST (RFC 3348).
	case "MYRIGHTS":
		c.retMyRights = true
	case "STATUS":
		if err := r.SP(); err != nil {
			return err
		}
		items, err := readStatusItems(r, c.rev2)
		if err != nil {
			return err
		}
		c.retStatus = items
	case "METADATA":
		if c.retMetadata, err = readListMetadata(r); err != nil {
			return err
		}
	default:
		return &imapwire.SyntaxError{Msg: fmt.Sprintf("Invalid List return option %q", strings.ToLower(opt))}
	}
	return nil
}

// runList answers a parsed command.
func (ss *session) runList(c *listCmd) result {
	start := time.Now()
	sep := ss.ns.Separator()
	var pats []string
	for _, p := range c.patterns {
		if p != "" {
			pats = append(pats, normalizeInbox(c.ref+p, sep))
		}
	}
	if len(pats) == 0 {
		// RFC 3501 6.3.8: an empty pattern asks for the hierarchy
		// delimiter; Cyrus names the root "".
		ss.w.Raw("* " + c.verb + ` (\Noselect) `)
		ss.w.Quoted(string(sep))
		ss.w.Raw(` ""` + "\r\n")
		return ok(fmt.Sprintf("Completed (%.3f secs)", time.Since(start).Seconds()))
	}
	l, err := ss.newListing(pats)
	if err != nil {
		return ss.mboxResult(c.verb, err)
	}
	calls := len(l.visible)
	var out []*listNode
	switch {
	case c.verb == "LSUB":
		out, calls, err = l.lsub()
	case c.selSubscribed:
		out, calls, err = l.subscribed(c.selRecursive)
	default:
		out = l.all(c.selSpecialUse)
		if c.retSubscribed {
			err = l.markSubscribed(out)
		}
	}
	if err != nil {
		return ss.mboxResult(c.verb, err)
	}
	l.sortOutput(out)
	for _, n := range out {
		ss.writeListNode(c, l, n)
		if err := ss.w.Err(); err != nil {
			return wireErr(err)
		}
	}
	text := fmt.Sprintf("Completed (%.3f secs", time.Since(start).Seconds())
	if calls > 0 {
		text += fmt.Sprintf(" %d calls", calls)
	}
	return ok(text + ")")
}

// writeListNode writes the LIST (LSUB, XLIST) line of n and the STATUS
// and MYRIGHTS lines the return options ask for.
func (ss *session) writeListNode(c *listCmd, l *listing, n *listNode) {
	w := ss.w
	w.Raw("* " + c.verb + " (")
	if c.verb == "LSUB" {
		w.Raw(strings.Join(n.lsubAttrs(l), " "))
	} else {
		w.Raw(strings.Join(n.listAttrs(l, c), " "))
	}
	w.Raw(") ")
	w.Quoted(string(ss.ns.Separator()))
	w.SP()
	w.AString(n.ext)
	if n.childInfo {
		// RFC 5258 3.5: a descendant matched the selection, not the
		// pattern.
		w.Raw(` (CHILDINFO ("SUBSCRIBED"))`)
	}
	w.CRLF()
	if n.entry == nil || c.verb == "LSUB" {
		return
	}
	if c.retMyRights {
		// RFC 8440 2: MYRIGHTS as the command would answer it.
		w.Raw("* MYRIGHTS ")
		w.AString(n.ext)
		w.SP()
		w.AString(n.rights.String())
		w.CRLF()
	}
	if c.retStatus != 0 {
		// RFC 5819 2: STATUS for each selectable mailbox listed; one
		// that cannot be opened is just left out.
		if st, e, err := ss.srv.store.StatusOf(ss.id, n.internal); err == nil {
			ss.writeStatus(n.ext, c.retStatus, &st, e)
		}
	}
	if c.retMetadata != nil {
		ss.writeListMetadata(c.retMetadata, n)
	}
}
