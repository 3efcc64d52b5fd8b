package imapserver

// QUOTA (RFC 2087, RFC 9208) as Cyrus 3.6 answers it: the resources
// STORAGE (KiB) and MESSAGE; GETQUOTAROOT for anyone who can see the
// mailbox, GETQUOTA and SETQUOTA for admins only. Roots are mailbox
// names, shown to the client in its namespace (a user's own root is
// "INBOX").

import (
	"strconv"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/imapwire"
	"github.com/cyrusgo/cyrusgo/libcyrus/quota"
)

const textNoQuotaRoot = "Quota root does not exist"

// writeQuota writes "* QUOTA root (resource usage limit ...)" with the
// resources that have a limit (RFC 9208 5.1).
func (ss *session) writeQuota(root string) error {
	q := ss.srv.store.Quota()
	lim, _, err := q.Limits(root)
	if err != nil {
		return err
	}
	use, err := q.Usage(root)
	if err != nil {
		return err
	}
	ext, err := ss.toExternal(root)
	if err != nil {
		ext = ss.encodeName(root)
	}
	var items []string
	if lim.Storage >= 0 {
		// RFC 9208 5.1: STORAGE is in units of 1024 octets.
		items = append(items, "STORAGE "+strconv.FormatInt(use.Bytes/1024, 10)+" "+strconv.FormatInt(lim.Storage, 10))
	}
	if lim.Message >= 0 {
		items = append(items, "MESSAGE "+strconv.FormatInt(use.Messages, 10)+" "+strconv.FormatInt(lim.Message, 10))
	}
	ss.w.Raw("* QUOTA ")
	ss.w.AString(ext)
	ss.w.Raw(" (" + strings.Join(items, " ") + ")\r\n")
	return nil
}

// cmdGetQuotaRoot is RFC 9208 4.3.
func cmdGetQuotaRoot(ss *session, tag string) result {
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
	if _, _, err := ss.srv.store.Info(ss.id, name); err != nil {
		return ss.mboxResult("GETQUOTAROOT", err)
	}
	root, isRoot, err := ss.srv.store.Quota().Root(name)
	if err != nil {
		return ss.mboxResult("GETQUOTAROOT", err)
	}
	ss.w.Raw("* QUOTAROOT ")
	ss.w.AString(ext)
	if isRoot {
		rext, err := ss.toExternal(root)
		if err != nil {
			rext = ss.encodeName(root)
		}
		ss.w.SP()
		ss.w.AString(rext)
	}
	ss.w.CRLF()
	if isRoot {
		if err := ss.writeQuota(root); err != nil {
			return ss.mboxResult("GETQUOTAROOT", err)
		}
	}
	return ok("")
}

// cmdGetQuota is RFC 9208 4.2; Cyrus 3.6 answers it for admins only.
func cmdGetQuota(ss *session, tag string) result {
	ext, err := ss.readMboxArg()
	if err != nil {
		return wireErr(err)
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	if !ss.id.Admin {
		return no("", textPermission)
	}
	root, err := ss.toInternal(ext)
	if err != nil {
		return no("", textNoQuotaRoot)
	}
	if _, isRoot, err := ss.srv.store.Quota().Limits(root); err != nil {
		return ss.mboxResult("GETQUOTA", err)
	} else if !isRoot {
		return no("", textNoQuotaRoot)
	}
	if err := ss.writeQuota(root); err != nil {
		return ss.mboxResult("GETQUOTA", err)
	}
	return ok("")
}

// readQuotaLimits reads "(" [resource SP limit *(SP resource SP limit)]
// ")" (RFC 9208 4.1). A resource not named has no limit; a negative limit
// is none too, as Cyrus reads it. Unknown resources are reported after
// the whole list is read.
func readQuotaLimits(r *imapwire.Reader) (quota.Limits, string, error) {
	lim := quota.Limits{Storage: quota.Unlimited, Message: quota.Unlimited}
	unknown := ""
	bad := &imapwire.SyntaxError{Msg: "Invalid quota list in Setquota"}
	badOr := func(err error) error {
		if imapwire.IsClientError(err) {
			return bad
		}
		return err
	}
	err := r.ReadList(func(r *imapwire.Reader) error {
		res, err := r.ReadAtom()
		if err != nil {
			return badOr(err)
		}
		if err := r.SP(); err != nil {
			return badOr(err)
		}
		v, err := r.ReadAtomFunc(func(c byte) bool { return c == '-' || c >= '0' && c <= '9' })
		if err != nil {
			return badOr(err)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > 1<<53 {
			return bad
		}
		if n < 0 {
			n = quota.Unlimited
		}
		switch strings.ToUpper(res) {
		case "STORAGE":
			lim.Storage = n
		case "MESSAGE":
			lim.Message = n
		default:
			unknown = res
		}
		return nil
	})
	return lim, unknown, err
}

// cmdSetQuota is RFC 9208 4.1, for admins. A new root takes over the
// usage of the mailboxes below it; removing a root (no limits) gives its
// mailboxes back to the enclosing root, if any.
func cmdSetQuota(ss *session, tag string) result {
	ext, err := ss.readMboxArg()
	if err != nil {
		return wireErr(err)
	}
	if err := ss.r.SP(); err != nil {
		return wireErr(err)
	}
	lim, unknown, err := readQuotaLimits(ss.r)
	if err != nil {
		return wireErr(err)
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	if !ss.id.Admin {
		return no("", textPermission)
	}
	if unknown != "" {
		return no("", "Unsupported quota resource")
	}
	root, err := ss.toInternal(ext)
	if err != nil || root == "" {
		return no("", textBadName)
	}
	if _, err := ss.srv.store.Lookup(root); err != nil {
		return ss.mboxResult("SETQUOTA", err)
	}
	q := ss.srv.store.Quota()
	_, wasRoot, err := q.Limits(root)
	if err != nil {
		return ss.mboxResult("SETQUOTA", err)
	}
	if err := q.SetLimits(root, lim); err != nil {
		return ss.mboxResult("SETQUOTA", err)
	}
	removed := lim.Storage < 0 && lim.Message < 0
	switch {
	case !removed && !wasRoot:
		err = ss.srv.store.RecomputeUsage(root)
	case removed && wasRoot:
		if outer, ok, rerr := q.Root(root); rerr != nil {
			err = rerr
		} else if ok {
			err = ss.srv.store.RecomputeUsage(outer)
		}
	}
	if err != nil {
		return ss.mboxResult("SETQUOTA", err)
	}
	return ok("")
}
