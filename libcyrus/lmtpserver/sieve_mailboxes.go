package lmtpserver

// The mailbox side of the Sieve hook: which mailbox a fileinto (or an
// fcc) names, by name, special use (RFC 8579) or id (RFC 9042); the
// mailbox tests (RFC 5490 3, RFC 8579 4, RFC 9042 4); and the metadata
// ones (RFC 5490 4, 5) through a MetadataReader.

import (
	"fmt"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/mboxname"
)

// MetadataReader reads annotations (RFC 5464) for Sieve's metadata tests.
// lmtpd wires it to the annotation store; without one the tests find
// nothing.
type MetadataReader interface {
	// Metadata returns the value of entry (without its "/shared" or
	// "/private" prefix: "/comment") on mailbox, an internal name, ""
	// meaning the server. userid "" asks for the shared value, a userid
	// for that user's private one. ok is false when there is no value.
	Metadata(mailbox, entry, userid string) (value string, ok bool, err error)
}

// target is where a fileinto or fcc asks to store.
type target struct {
	Mailbox    string // as the script names it
	Create     bool
	SpecialUse string
	MailboxID  string
}

// canFile reports whether the user may store into e (p or i, as for
// fileinto).
func (r *sieveRunner) canFile(owner acl.Identity, e *mailbox.Entry) bool {
	return r.store.Rights(owner, e)&(acl.Post|acl.Insert) != 0
}

// resolve returns the internal name to store into, in Cyrus 3.6's order:
// the mailbox with MailboxID if the user may file there, else the
// user's mailbox with SpecialUse, else the named one, created first for
// :create (and then given SpecialUse). A name that cannot be resolved is
// an error the caller answers with the INBOX.
func (r *sieveRunner) resolve(rc *Recipient, t target) (string, error) {
	owner := r.store.Identity(rc.UserID)
	if t.MailboxID != "" {
		if e := r.byUniqueID(owner, t.MailboxID); e != nil {
			return e.Name, nil
		}
	}
	if t.SpecialUse != "" {
		if e := r.bySpecialUse(rc, t.SpecialUse); e != nil {
			return e.Name, nil
		}
	}
	internal, err := r.internal(rc, t.Mailbox)
	if err != nil {
		return "", err
	}
	if !t.Create {
		return internal, nil
	}
	if _, err := r.store.Lookup(internal); mailbox.CodeOf(err) != mailbox.CodeNonexistent {
		return internal, nil
	}
	if _, err := r.store.Create(owner, internal, mailbox.CreateOptions{}); err != nil {
		if mailbox.CodeOf(err) != mailbox.CodeAlreadyExists {
			r.log.Info(fmt.Sprintf("sieve: %s: fileinto :create %s: %v", rc.UserID, t.Mailbox, err))
		}
		return internal, nil
	}
	r.log.Info(fmt.Sprintf("sieve: %s: created %s", rc.UserID, internal))
	if t.SpecialUse != "" {
		// RFC 8579 4: the created mailbox gets the special use.
		use, ok := mailbox.CanonicalSpecialUse(t.SpecialUse, r.cfg.List(config.SpecialUseExtra))
		if !ok {
			r.log.Info(fmt.Sprintf("sieve: %s: %s is not a special use a mailbox may have", rc.UserID, t.SpecialUse))
		} else if err := r.store.SetSpecialUse(owner, internal, use); err != nil {
			r.log.Info(fmt.Sprintf("sieve: %s: setting %s on %s: %v", rc.UserID, use, internal, err))
		}
	}
	return internal, nil
}

// byUniqueID finds the mailbox with a unique id among those the user
// sees and may file into; nil if none.
func (r *sieveRunner) byUniqueID(owner acl.Identity, id string) *mailbox.Entry {
	var found *mailbox.Entry
	r.store.List(owner, "", func(e *mailbox.Entry, _ acl.Rights) error {
		if e.UniqueID == id {
			if r.canFile(owner, e) {
				found = e
			}
			return cyrusdb.ErrStop
		}
		return nil
	})
	return found
}

// userMailboxes calls fn for each mailbox of the user's hierarchy.
func (r *sieveRunner) userMailboxes(rc *Recipient, fn func(e *mailbox.Entry) bool) {
	inbox := rc.Mailbox
	r.store.List(acl.Identity{Admin: true}, inbox, func(e *mailbox.Entry, _ acl.Rights) error {
		if e.Name != inbox && !strings.HasPrefix(e.Name, inbox+".") {
			return nil
		}
		if !fn(e) {
			return cyrusdb.ErrStop
		}
		return nil
	})
}

// bySpecialUse finds the user's mailbox carrying use; nil if none.
func (r *sieveRunner) bySpecialUse(rc *Recipient, use string) *mailbox.Entry {
	var found *mailbox.Entry
	r.userMailboxes(rc, func(e *mailbox.Entry) bool {
		if e.HasSpecialUse(use) {
			found = e
			return false
		}
		return true
	})
	return found
}

// mailboxExists is RFC 5490 3.1's test: the mailbox exists and the user
// may deliver into it.
func (r *sieveRunner) mailboxExists(rc *Recipient, name string) bool {
	internal, err := r.internal(rc, name)
	if err != nil {
		return false
	}
	e, err := r.store.Lookup(internal)
	return err == nil && r.canFile(r.store.Identity(rc.UserID), e)
}

// mailboxIDExists is RFC 9042 4's test.
func (r *sieveRunner) mailboxIDExists(rc *Recipient, id string) bool {
	return r.byUniqueID(r.store.Identity(rc.UserID), id) != nil
}

// specialUseExists is RFC 8579 4's test: with a mailbox, whether it has
// every attribute (a user's INBOX also counts as \Inbox, as in Cyrus);
// without, whether each attribute is on one of the user's mailboxes.
func (r *sieveRunner) specialUseExists(rc *Recipient, name string, uses []string) bool {
	if name != "" {
		internal, err := r.internal(rc, name)
		if err != nil {
			return false
		}
		e, err := r.store.Lookup(internal)
		if err != nil {
			return false
		}
		for _, u := range uses {
			inbox := strings.EqualFold(u, `\Inbox`) && mboxname.IsUserInbox(internal) && internal == rc.Mailbox
			if !inbox && !e.HasSpecialUse(u) {
				return false
			}
		}
		return true
	}
	for _, u := range uses {
		if r.bySpecialUse(rc, u) == nil {
			return false
		}
	}
	return true
}

// metadata reads an annotation as Cyrus's getmetadata: "/private/..."
// is the user's value, "/shared/..." the shared one; anything else, an
// unknown mailbox or an empty value is "not found". mailbox "" is the
// server.
func (r *sieveRunner) metadata(rc *Recipient, name, entry string) (string, bool) {
	if r.meta == nil {
		return "", false
	}
	internal := ""
	if name != "" {
		var err error
		if internal, err = r.internal(rc, name); err != nil {
			return "", false
		}
		if _, err := r.store.Lookup(internal); err != nil {
			return "", false
		}
	}
	var key, userid string
	switch {
	case strings.HasPrefix(entry, "/private/"):
		key, userid = entry[len("/private"):], rc.UserID
	case strings.HasPrefix(entry, "/shared/"):
		key = entry[len("/shared"):]
	default:
		return "", false
	}
	v, ok, err := r.meta.Metadata(internal, key, userid)
	if err != nil {
		r.log.Error(fmt.Sprintf("sieve: %s: reading metadata %s of %q: %v", rc.UserID, entry, internal, err))
		return "", false
	}
	return v, ok && v != ""
}
