package mailbox

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/mboxname"
	"github.com/cyrusgo/cyrusgo/libcyrus/quota"
)

// CreateOptions are the optional parts of a CREATE.
type CreateOptions struct {
	SpecialUse string // e.g. `\Sent` (RFC 6154)
	Partition  string // admins only; default partition otherwise
	// ACL replaces the inherited ACL (used for users' INBOXes by tools).
	ACL string
}

// parentOf returns the nearest existing ancestor's entry, or nil.
func (s *Store) parentOf(name string) (*Entry, error) {
	for p, ok := mboxname.Parent(name); ok; p, ok = mboxname.Parent(p) {
		e, err := s.Lookup(p)
		if err == nil {
			return e, nil
		}
		if !errors.Is(err, ErrNonexistent) {
			return nil, err
		}
	}
	return nil, nil
}

// Create makes a mailbox. Who may: an admin anything; a user a mailbox in
// a hierarchy where the nearest existing parent gives them the k right
// (their own INBOX gives it); nobody but an admin creates a user's INBOX or
// a top-level shared mailbox, as in Cyrus.
func (s *Store) Create(id acl.Identity, name string, opts CreateOptions) (*Entry, error) {
	if err := mboxname.Validate(name); err != nil {
		return nil, &Error{Code: CodeBadName, Msg: "Invalid mailbox name", Err: err}
	}
	if _, err := s.Lookup(name); err == nil {
		return nil, errorf(CodeAlreadyExists, "Mailbox already exists")
	} else if !errors.Is(err, ErrNonexistent) {
		return nil, err
	}
	parent, err := s.parentOf(name)
	if err != nil {
		return nil, err
	}
	owner, isUser := mboxname.Owner(name)
	inbox := isUser && mboxname.UserInbox(owner) == name
	var a acl.ACL
	switch {
	case inbox:
		if !id.Admin {
			return nil, ErrNoPerm
		}
		a = acl.DefaultForUser(owner)
	case parent == nil:
		if !id.Admin {
			return nil, ErrNoPerm
		}
		if isUser {
			// user.bob.x without user.bob: the owner still owns it.
			a = acl.DefaultForUser(owner)
		} else {
			a = s.policy.NewSharedACL()
		}
	default:
		if !id.Admin && s.Rights(id, parent)&acl.Create == 0 {
			if s.Rights(id, parent)&acl.Lookup == 0 {
				return nil, ErrNonexistent
			}
			return nil, ErrNoPerm
		}
		// A new mailbox inherits its parent's ACL, as in Cyrus.
		if a, err = acl.Parse(parent.ACL); err != nil {
			return nil, fmt.Errorf("parent ACL of %s: %w", name, err)
		}
	}
	if opts.ACL != "" {
		if a, err = acl.Parse(opts.ACL); err != nil {
			return nil, &Error{Code: CodeBadName, Msg: "Invalid ACL", Err: err}
		}
	}
	part := s.defaultPart
	if opts.Partition != "" {
		if !id.Admin {
			return nil, ErrNoPerm
		}
		if _, ok := s.partitions[opts.Partition]; !ok {
			return nil, errorf(CodeBadName, "Unknown partition %s", opts.Partition)
		}
		part = opts.Partition
	} else if parent != nil && isUser {
		// A user's mailboxes stay on the partition of the user's others.
		part = parent.Partition
	}
	e := &Entry{
		Name:        name,
		UniqueID:    newUniqueID(),
		Partition:   part,
		ACL:         a.String(),
		SpecialUse:  opts.SpecialUse,
		UIDValidity: s.uidValidity(),
		Created:     s.now().Unix(),
	}
	data, meta, err := s.dirs(e)
	if err != nil {
		return nil, err
	}
	// Files first, then the list entry: a crash leaves at worst a
	// directory with no entry, which reconstruct reports, never an entry
	// without files.
	hdr := &mailboxHeader{Name: name, UniqueID: e.UniqueID, UIDValidity: e.UIDValidity}
	if err := createFiles(data, meta, hdr, 1); err != nil {
		if errors.Is(err, os.ErrExist) {
			// Left over by a crash or a delete whose entry went first:
			// the files are orphans; start afresh.
			s.removeDirs(e)
			err = createFiles(data, meta, hdr, 1)
		}
		if err != nil {
			return nil, &Error{Code: CodeTemporary, Msg: "Cannot create mailbox files", Err: err}
		}
	}
	ok, err := s.list.PutIfAbsent([]byte(name), e.encode())
	if err != nil {
		s.removeDirs(e)
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	if !ok {
		s.removeDirs(e)
		return nil, errorf(CodeAlreadyExists, "Mailbox already exists")
	}
	return e, nil
}

// uidValidity is the creation time, as Cyrus uses, so a name deleted and
// created again gets a new one.
func (s *Store) uidValidity() uint32 {
	v := uint32(s.now().Unix())
	if v == 0 {
		v = 1
	}
	return v
}

// HasChildren reports whether any mailbox sits below name.
func (s *Store) HasChildren(name string) (bool, error) {
	found := false
	err := s.list.Scan([]byte(name+"."), func(_, _ []byte) error {
		found = true
		return cyrusdb.ErrStop
	})
	return found, err
}

// Delete removes a mailbox: the x right is needed, and a mailbox with
// children cannot be deleted (NO [HASCHILDREN], as Cyrus 3.6), except a
// user's INBOX by an admin, which removes the whole user as cyradm's dm
// does. A user cannot delete their own INBOX.
func (s *Store) Delete(id acl.Identity, name string) error {
	e, err := s.Lookup(name)
	if err != nil {
		return err
	}
	r := s.Rights(id, e)
	if r&acl.Lookup == 0 && !id.Admin {
		return ErrNonexistent
	}
	owner, isUser := mboxname.Owner(name)
	inbox := isUser && mboxname.UserInbox(owner) == name
	if inbox && !id.Admin {
		return ErrNoPerm
	}
	if r&acl.DeleteMailbox == 0 && !id.Admin {
		return ErrNoPerm
	}
	var victims []*Entry
	if inbox {
		err := s.list.Scan([]byte(name+"."), func(k, v []byte) error {
			c, err := decodeEntry(string(k), v)
			if err == nil {
				victims = append(victims, c)
			}
			return nil
		})
		if err != nil {
			return err
		}
	} else if has, err := s.HasChildren(name); err != nil {
		return err
	} else if has {
		return errorf(CodeHasChildren, "Mailbox has children")
	}
	// Children first, deepest first, so each directory is empty of
	// sub-mailboxes when its turn comes.
	for i := len(victims) - 1; i >= 0; i-- {
		if err := s.deleteOne(victims[i]); err != nil {
			return err
		}
	}
	if err := s.deleteOne(e); err != nil {
		return err
	}
	if inbox {
		// The user's quota root and subscriptions go with the user.
		s.quota.SetLimits(name, quota.Limits{Storage: quota.Unlimited, Message: quota.Unlimited})
		s.deleteSubscriptions(owner)
		s.dropUserMetadata(owner)
	}
	return nil
}

// deleteOne removes one mailbox's entry, then its files. With delete_mode
// delayed, the files move aside under a DELETED. entry that cyr_expire -D
// removes later; the name is free at once either way.
func (s *Store) deleteOne(e *Entry) error {
	if s.delayedDelete {
		d := *e
		d.Name = "DELETED." + e.Name + "." + e.UniqueID
		d.Deleted = true
		d.DeletedAt = s.now().Unix()
		data, meta, _ := s.dirs(e)
		ddata, dmeta, err := s.dirs(&d)
		if err != nil {
			return err
		}
		for i, src := range uniqueDirs(data, meta) {
			dst := ddata
			if i == 1 {
				dst = dmeta
			}
			if err := moveMailboxFiles(src, dst); err != nil {
				return &Error{Code: CodeTemporary, Msg: "Cannot move mailbox files aside", Err: err}
			}
		}
		if err := s.list.Batch([]cyrusdb.Op{{Key: []byte(d.Name), Value: d.encode()}, {Key: []byte(e.Name)}}); err != nil {
			return fmt.Errorf("delete %s: %w", e.Name, err)
		}
	} else {
		if err := s.list.Delete([]byte(e.Name)); err != nil {
			return fmt.Errorf("delete %s: %w", e.Name, err)
		}
		s.removeDirs(e)
	}
	if root, ok, _ := s.quota.Root(e.Name); ok {
		s.quota.RemoveMailbox(root, e.Name)
	}
	s.dropMailboxMetadata(e)
	return nil
}

// deletedOrigin is the original name of a DELETED.<name>.<uniqueid> entry.
func deletedOrigin(name string) string {
	n := strings.TrimPrefix(name, "DELETED.")
	if i := strings.LastIndexByte(n, '.'); i >= 0 {
		n = n[:i]
	}
	return n
}

// List calls fn, in name order, for every mailbox whose internal name
// starts with prefix and on which id has the l right (admins: all).
// Delayed-delete entries are skipped.
func (s *Store) List(id acl.Identity, prefix string, fn func(e *Entry, rights acl.Rights) error) error {
	return s.list.Scan([]byte(prefix), func(k, v []byte) error {
		if strings.HasPrefix(string(k), "DELETED.") {
			return nil
		}
		e, err := decodeEntry(string(k), v)
		if err != nil {
			s.log.Error(err.Error())
			return nil
		}
		r := s.Rights(id, e)
		if r&acl.Lookup == 0 {
			return nil
		}
		return fn(e, r)
	})
}

// ListDeleted calls fn for every delayed-delete entry (for cyr_expire -D).
func (s *Store) ListDeleted(fn func(e *Entry) error) error {
	return s.list.Scan([]byte("DELETED."), func(k, v []byte) error {
		e, err := decodeEntry(string(k), v)
		if err != nil {
			return nil
		}
		return fn(e)
	})
}

// Purge removes a delayed-delete entry and its files for good.
func (s *Store) Purge(e *Entry) error {
	if !e.Deleted {
		return fmt.Errorf("%s is not a deleted mailbox", e.Name)
	}
	s.removeDirs(e)
	return s.list.Delete([]byte(e.Name))
}

func moveMailboxFiles(src, dst string) error {
	if err := os.MkdirAll(dst, 0o750); err != nil {
		return err
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, ent := range ents {
		if ent.IsDir() {
			continue // a child mailbox, not ours
		}
		if err := os.Rename(src+"/"+ent.Name(), dst+"/"+ent.Name()); err != nil {
			return err
		}
	}
	os.Remove(src)
	return nil
}

// Info returns a mailbox's entry and id's rights on it. A mailbox the
// caller may not see (no l and no r) does not exist for them.
func (s *Store) Info(id acl.Identity, name string) (*Entry, acl.Rights, error) {
	e, err := s.Lookup(name)
	if err != nil {
		return nil, 0, err
	}
	r := s.Rights(id, e)
	if r&(acl.Lookup|acl.Read) == 0 {
		return nil, 0, ErrNonexistent
	}
	return e, r, nil
}

// SetACL changes one identifier's rights (IMAP SETACL/DELETEACL, RFC 4314
// 3.1): mod is "+rights", "-rights", "rights", or "" to delete. The a right
// is required.
func (s *Store) SetACL(id acl.Identity, name, identifier, mod string) error {
	for {
		b, err := s.list.Get([]byte(name))
		if errors.Is(err, cyrusdb.ErrNotFound) {
			return ErrNonexistent
		}
		if err != nil {
			return err
		}
		e, err := decodeEntry(name, b)
		if err != nil {
			return err
		}
		r := s.Rights(id, e)
		if r&acl.Admin == 0 {
			if r&acl.Lookup == 0 {
				return ErrNonexistent
			}
			return ErrNoPerm
		}
		a, err := acl.Parse(e.ACL)
		if err != nil {
			return err
		}
		// The owner keeps the implicit owner rights whatever the change
		// (Cyrus's mboxlist_ensureOwnerRights).
		owner, _ := mboxname.Owner(name)
		if err := a.SetOwned(identifier, mod, owner, s.policy.ImplicitOwner); err != nil {
			return &Error{Code: CodeBadName, Msg: "Invalid rights", Err: err}
		}
		e.ACL = a.String()
		ok, err := s.list.CompareAndSwap([]byte(name), b, e.encode())
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		// Someone else changed the entry: read it again.
	}
}

// SetSpecialUse changes a mailbox's special-use attribute (METADATA
// /private/specialuse); the owner or an admin may.
func (s *Store) SetSpecialUse(id acl.Identity, name, use string) error {
	for {
		b, err := s.list.Get([]byte(name))
		if errors.Is(err, cyrusdb.ErrNotFound) {
			return ErrNonexistent
		}
		if err != nil {
			return err
		}
		e, err := decodeEntry(name, b)
		if err != nil {
			return err
		}
		if owner, _ := mboxname.Owner(name); owner != id.UserID && !id.Admin {
			return ErrNoPerm
		}
		e.SpecialUse = use
		if ok, err := s.list.CompareAndSwap([]byte(name), b, e.encode()); err != nil || ok {
			return err
		}
	}
}
