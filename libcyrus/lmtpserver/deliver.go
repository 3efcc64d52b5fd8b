package lmtpserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/duplicate"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
)

// Message is a received message, staged (fsynced) and ready to be linked
// into mailboxes: once per partition, hard-linked into each mailbox of it
// (singleinstancestore).
type Message struct {
	// ReturnPath is MAIL FROM's reverse-path, with its brackets.
	ReturnPath string
	// ID is the Message-ID deliveries are recorded under ("" when too long
	// to record), Date the Date header as given (or as added).
	ID, Date string
	// Size is the stored size, trace fields included.
	Size int64

	s      *Server
	staged map[string]*mailbox.Staged
	first  string
}

// Open returns the message as stored.
func (m *Message) Open() io.ReaderAt { return m.staged[m.first].File() }

// stagedFor returns the message staged in partition, copying it there
// from the first stage if need be.
func (m *Message) stagedFor(partition string) (*mailbox.Staged, error) {
	if sm, ok := m.staged[partition]; ok {
		return sm, nil
	}
	sm, err := m.copyTo(partition)
	if err != nil {
		return nil, err
	}
	m.staged[partition] = sm
	return sm, nil
}

func (m *Message) copyTo(partition string) (*mailbox.Staged, error) {
	src := m.staged[m.first]
	sm, err := m.s.store.Stage(partition, io.NewSectionReader(src.File(), 0, src.Size()), 0)
	if err != nil {
		return nil, fmt.Errorf("stage copy in partition %s: %w", partition, err)
	}
	return sm, nil
}

func (m *Message) close() {
	for _, sm := range m.staged {
		sm.Close()
	}
}

// SieveFunc runs the Sieve script of a user recipient before the default
// keep. The script files the message with deliver, which stores it once
// per mailbox exactly as the keep does. handled reports that the script
// disposed of the message (even by discarding it); a *RejectError is the
// recipient's 550 (sieve_use_lmtp_reject); false, or another error,
// means the keep: the message goes where it would without a script, as
// Cyrus does when a script fails.
type SieveFunc func(ctx context.Context, rcpt *Recipient, msg *Message, deliver DeliverFunc) (handled bool, err error)

// DeliverFunc stores a message in a mailbox (an internal name) of the
// recipient with flags (Sieve's fileinto and imap4flags). msg is the
// received message when nil, else a copy derived from it (a header
// edited by the script, an fcc).
type DeliverFunc func(msg *Message, mailbox string, flags []string) error

// deliver delivers msg to one recipient: Sieve, else Cyrus's
// deliver_local. For a user, the +detail folder gets the message if the
// poster may post there (p right), else, or if it does not exist, the
// INBOX, which always accepts its owner's mail; a shared mailbox needs
// the p right.
func (ss *session) deliver(rc *Recipient, msg *Message) error {
	if rc.UserID == "" {
		return ss.deliverTo(rc, msg, rc.Mailbox, ss.poster(), nil)
	}
	if sieve := ss.srv.opts.Sieve; sieve != nil {
		owner := ss.srv.store.Identity(rc.UserID)
		fileinto := func(m *Message, name string, flags []string) error {
			if m == nil {
				m = msg
			}
			return ss.deliverTo(rc, m, name, owner, flags)
		}
		handled, err := sieve(ss.ctx, rc, msg, fileinto)
		var rej *RejectError
		if errors.As(err, &rej) {
			ss.srv.log.Info(fmt.Sprintf("sieve: %s: rejected %s at the protocol level", rc.UserID, msg.ID))
			return err
		}
		if err != nil {
			ss.srv.log.Error(fmt.Sprintf("sieve: %s: %v", rc.UserID, err))
		} else if handled {
			return nil
		}
	}
	if rc.Detail != nil {
		name := rc.Mailbox + "." + strings.Join(rc.Detail, ".")
		err := ss.deliverTo(rc, msg, name, ss.poster(), nil)
		if mailbox.CodeOf(err) == mailbox.CodeNonexistent && ss.srv.fuzzy {
			if fz, ok := ss.fuzzyMatch(rc); ok {
				err = ss.deliverTo(rc, msg, fz, ss.poster(), nil)
			}
		}
		if err == nil {
			return nil
		}
	}
	return ss.deliverTo(rc, msg, rc.Mailbox, acl.Identity{}, nil)
}

// deliverTo is Cyrus's deliver_mailbox: the rights (unless poster is the
// zero Identity and name the recipient's own INBOX), the quota, the
// duplicate check, the append, the mark. A nil error means the message is
// in the mailbox, fsynced, or was there already.
func (ss *session) deliverTo(rc *Recipient, msg *Message, name string, poster acl.Identity, flags []string) error {
	s := ss.srv
	e, err := s.store.Lookup(name)
	if err != nil {
		return err
	}
	override := isNobody(poster) && name == rc.Mailbox && rc.UserID != ""
	if !override {
		need := acl.Post
		if poster.UserID != "" && poster.UserID == rc.UserID {
			need |= acl.Insert // Sieve files as the owner: either right will do
		}
		if s.store.Rights(poster, e)&need == 0 {
			return mailbox.ErrNoPerm
		}
	}
	if !rc.IgnoreQuota {
		qsize := int64(0)
		if s.strictQuota {
			qsize = msg.Size
		}
		if err := s.checkQuota(name, qsize); err != nil {
			return err
		}
	}
	var sm *mailbox.Staged
	if s.singleInstance {
		if sm, err = msg.stagedFor(e.Partition); err != nil {
			return err
		}
	} else {
		// singleinstancestore: no, a copy of its own for each mailbox.
		if sm, err = msg.copyTo(e.Partition); err != nil {
			return err
		}
		defer sm.Close()
	}

	var claim *duplicate.Claim
	key := duplicate.Key{ID: msg.ID, To: e.UniqueID, Date: msg.Date}
	if s.opts.Dupes != nil && key.Valid() {
		claim, err = s.opts.Dupes.Claim(ss.ctx, key, sm.GUID())
		if err != nil {
			return err
		}
		if claim.Duplicate {
			s.opts.Dupes.Log(key, "delivery")
			return nil
		}
	}
	m, err := s.store.OpenForDelivery(name)
	if err != nil {
		ss.release(claim)
		return err
	}
	defer m.Close()
	if claim != nil && claim.Orphan != nil {
		// A process died while storing this message here: if it got as
		// far as the commit, the copy it stored is the delivery.
		if uid, found := findGUID(m, claim.Orphan.GUID); found {
			s.log.Info(fmt.Sprintf("Delivered: %s to mailbox: %s (stored as uid %d by process %d before it died)", msg.ID, name, uid, claim.Orphan.Process.PID))
			ss.commit(claim, key, uid)
			return nil
		}
	}
	uids, err := m.AppendUnchecked([]mailbox.AppendItem{{Staged: sm, Flags: flags}})
	if err != nil {
		ss.release(claim)
		return err
	}
	s.log.Info(fmt.Sprintf("Delivered: %s to mailbox: %s", msg.ID, name))
	ss.commit(claim, key, uids[0])
	return nil
}

// isNobody reports the zero Identity, which matches only "anyone".
func isNobody(id acl.Identity) bool {
	return id.UserID == "" && !id.Admin && !id.Anonymous && len(id.Groups) == 0
}

func (ss *session) commit(c *duplicate.Claim, k duplicate.Key, uid uint32) {
	if c == nil {
		return
	}
	if err := c.Commit(uid); err != nil {
		ss.srv.log.Error(fmt.Sprintf("DBERROR: marking %s to %s delivered: %v", k.ID, k.To, err))
	}
}

func (ss *session) release(c *duplicate.Claim) {
	if c == nil {
		return
	}
	if err := c.Release(); err != nil {
		ss.srv.log.Error(fmt.Sprintf("DBERROR: %v", err))
	}
}

// findGUID looks for a message with the given GUID, newest first.
func findGUID(m *mailbox.Mailbox, guid [20]byte) (uint32, bool) {
	for seq := uint32(m.Count()); seq >= 1; seq-- {
		r, err := m.Record(seq)
		if err != nil {
			continue
		}
		if r.GUID == guid {
			return r.UID, true
		}
	}
	return 0, false
}

// fuzzyMatch is lmtp_fuzzy_mailbox_match (Cyrus's fuzzy_match): among the
// user's mailboxes, the one whose leading components match the detail's
// most deeply, comparing without case and taking "-", " " and "_" as
// equal.
func (ss *session) fuzzyMatch(rc *Recipient) (string, bool) {
	s := ss.srv
	admin := acl.Identity{Admin: true}
	prefix := rc.Mailbox + "."
	best, depth := "", 0
	s.store.List(admin, prefix, func(e *mailbox.Entry, _ acl.Rights) error {
		have := strings.Split(strings.TrimPrefix(e.Name, prefix), ".")
		d := 0
		for i, want := range rc.Detail {
			if i >= len(have) || !fuzzyEqual(want, have[i]) {
				break
			}
			d = i + 1
		}
		if d > depth {
			best, depth = e.Name, d
		}
		if depth == len(rc.Detail) {
			return cyrusdb.ErrStop
		}
		return nil
	})
	return best, best != ""
}

func fuzzyEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := lower(a[i]), lower(b[i])
		if x != y && !(isFuzzySpace(x) && isFuzzySpace(y)) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isFuzzySpace(c byte) bool { return c == '-' || c == ' ' || c == '_' }
