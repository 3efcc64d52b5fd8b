// Package duplicate keeps the duplicate delivery records of lmtpd in the
// deliver database (cyrusdb.Deliver), as Cyrus's imap/duplicate.c keeps
// deliver.db: one record per message and recipient mailbox, so that a
// message the MTA hands over twice (a retry after a lost reply, a mailing
// list expanding to the same person twice) is stored once
// (duplicatesuppression).
//
// Keys are Cyrus 3.6's: three NUL-terminated fields, the Message-ID, the
// recipient (the mailbox's unique id, or ".user@internal.sieve." style
// names for Sieve) and the Date header, "<id>\0<to>\0<date>\0". Values are
// ours (the files are goleveldb, not twoskip, so no Cyrus tool reads
// them), in ASCII:
//
//	D <unix seconds> <uid>                    delivered: the mark
//	P <unix seconds> <boot> <pid> <start> <guid> <nonce>   being delivered
//
// # Exactly once across processes
//
// Cyrus checks the record before appending and writes it after the
// commit, while it holds the mailbox lock; two lmtpd processes racing on
// one Message-ID then serialise on that lock. Our mailbox lock is taken
// inside the store's Append, so the database itself arbitrates instead:
//
//  1. Claim writes a pending record with PutIfAbsent. One process wins;
//     the others find the record. A delivered record means a duplicate:
//     answer 250, store nothing. A pending record of a live process means
//     that process is storing the same message right now: wait until it
//     commits (a duplicate) or gives up (the record disappears; claim
//     again). Waiting is bounded; past the bound the caller answers 4xx
//     and the MTA retries later.
//  2. The winner appends. Commit replaces its pending record with the mark
//     (compare-and-swap against its own value). If the append failed,
//     Release deletes the pending record, so a retry can store it.
//  3. A pending record whose process is gone (kill -9, a crash, a reboot)
//     is stale. Its process may have died before the append committed (the
//     message is not stored) or after (stored, not marked). The next
//     delivery takes the record over with compare-and-swap (so only one
//     process does) and gets the dead claimant's record as Claim.Orphan;
//     the orphan names the GUID of the message that process staged, so the
//     caller looks for that GUID in the mailbox and commits the claim with
//     the UID it finds instead of storing a second copy.
//
// A process is identified by the boot id, its pid and its start time, so
// neither a reboot nor a reused pid keeps a dead claim alive; a zombie
// (killed, not yet reaped by master) counts as dead.
//
// Messages without a Message-ID get one made up by lmtpd, unique to each
// attempt, so for them delivery is at least once, as in Cyrus.
package duplicate

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
)

// Key names one delivery: a message to a recipient.
type Key struct {
	// ID is the Message-ID (or Resent-Message-ID) header, as written.
	ID string
	// To is the recipient: a mailbox's unique id.
	To string
	// Date is the Date header, as written.
	Date string
}

// Bytes is the database key, "<id>\0<to>\0<date>\0".
func (k Key) Bytes() []byte {
	b := make([]byte, 0, len(k.ID)+len(k.To)+len(k.Date)+3)
	b = append(b, k.ID...)
	b = append(b, 0)
	b = append(b, k.To...)
	b = append(b, 0)
	b = append(b, k.Date...)
	return append(b, 0)
}

// Valid reports whether the key can be stored: no field holds a NUL and
// the whole fits a database key.
func (k Key) Valid() bool {
	if strings.ContainsRune(k.ID, 0) || strings.ContainsRune(k.To, 0) || strings.ContainsRune(k.Date, 0) {
		return false
	}
	return k.ID != "" && len(k.ID)+len(k.To)+len(k.Date)+3 <= cyrusdb.MaxKeySize
}

// ParseKey splits a database key; ok is false for a record that is not
// three NUL-terminated fields (Cyrus prunes such broken records).
func ParseKey(b []byte) (Key, bool) {
	if len(b) == 0 || b[len(b)-1] != 0 {
		return Key{}, false
	}
	f := bytes.Split(b[:len(b)-1], []byte{0})
	if len(f) != 3 {
		return Key{}, false
	}
	return Key{ID: string(f[0]), To: string(f[1]), Date: string(f[2])}, true
}

// record is a decoded value.
type record struct {
	pending bool
	at      int64 // unix seconds: the mark, or when the claim was made
	uid     uint32
	claim   Pending
}

// Pending is a claim made by a process that is (or was) storing a message.
type Pending struct {
	// At is when the claim was made.
	At time.Time
	// Process is the claimant.
	Process Process
	// GUID is the SHA-1 of the message the claimant staged: the GUID the
	// mailbox records for it once stored.
	GUID [20]byte
	// Nonce makes each claim's value unique, so compare-and-swap never
	// mistakes one claim for another.
	Nonce string
}

func doneValue(at time.Time, uid uint32) []byte {
	return []byte(fmt.Sprintf("D %d %d", at.Unix(), uid))
}

func pendingValue(p Pending) []byte {
	boot := p.Process.Boot
	if boot == "" {
		boot = "-"
	}
	return []byte(fmt.Sprintf("P %d %s %d %d %s %s", p.At.Unix(), boot, p.Process.PID, p.Process.Start, hex.EncodeToString(p.GUID[:]), p.Nonce))
}

var errBadValue = errors.New("malformed duplicate record value")

func parseValue(v []byte) (record, error) {
	f := strings.Fields(string(v))
	if len(f) == 0 {
		return record{}, errBadValue
	}
	switch {
	case f[0] == "D" && len(f) == 3:
		at, err1 := strconv.ParseInt(f[1], 10, 64)
		uid, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil {
			return record{}, errBadValue
		}
		return record{at: at, uid: uint32(uid)}, nil
	case f[0] == "P" && len(f) == 7:
		at, err1 := strconv.ParseInt(f[1], 10, 64)
		pid, err2 := strconv.Atoi(f[3])
		start, err3 := strconv.ParseUint(f[4], 10, 64)
		guid, err4 := hex.DecodeString(f[5])
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || len(guid) != 20 {
			return record{}, errBadValue
		}
		boot := f[2]
		if boot == "-" {
			boot = ""
		}
		r := record{pending: true, at: at}
		r.claim = Pending{At: time.Unix(at, 0), Process: Process{Boot: boot, PID: pid, Start: start}, Nonce: f[6]}
		copy(r.claim.GUID[:], guid)
		return r, nil
	}
	return record{}, errBadValue
}

// Options configure a Suppressor. The zero value is fine for lmtpd.
type Options struct {
	Logger *slog.Logger
	// Now replaces time.Now (tests).
	Now func() time.Time
	// Self is this process as claims name it; zero means CurrentProcess().
	Self Process
	// Alive reports whether a claimant still runs; nil means Alive.
	Alive func(Process) bool
	// Wait bounds how long Claim waits for a live claimant of the same
	// delivery before giving up with ErrBusy; zero means DefaultWait.
	Wait time.Duration
	// Poll is how often Claim looks again while waiting; zero means
	// DefaultPoll.
	Poll time.Duration
	// StaleAfter is the age past which a claim is taken over even if its
	// process still runs (a wedged process); zero means DefaultStaleAfter.
	StaleAfter time.Duration
}

// Defaults of Options.
const (
	DefaultWait       = 20 * time.Second
	DefaultPoll       = 25 * time.Millisecond
	DefaultStaleAfter = time.Hour
)

// Suppressor checks and records deliveries in one deliver database. It
// is safe for concurrent use.
type Suppressor struct {
	db    cyrusdb.DB
	log   *slog.Logger
	now   func() time.Time
	self  Process
	alive func(Process) bool
	wait  time.Duration
	poll  time.Duration
	stale time.Duration
}

// New returns a Suppressor over db (the cyrusdb.Deliver database).
func New(db cyrusdb.DB, o Options) *Suppressor {
	s := &Suppressor{db: db, log: o.Logger, now: o.Now, self: o.Self, alive: o.Alive,
		wait: o.Wait, poll: o.Poll, stale: o.StaleAfter}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.self == (Process{}) {
		s.self = CurrentProcess()
	}
	if s.alive == nil {
		s.alive = Alive
	}
	if s.wait <= 0 {
		s.wait = DefaultWait
	}
	if s.poll <= 0 {
		s.poll = DefaultPoll
	}
	if s.stale <= 0 {
		s.stale = DefaultStaleAfter
	}
	return s
}

// Check reports whether k was delivered (a mark exists), as Cyrus's
// duplicate_check. A pending claim is not a delivery.
func (s *Suppressor) Check(k Key) (bool, error) {
	v, err := s.db.Get(k.Bytes())
	if errors.Is(err, cyrusdb.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("duplicate_check: error looking up %s/%s/%s: %w", k.ID, k.To, k.Date, err)
	}
	r, err := parseValue(v)
	return err == nil && !r.pending, nil
}

// Mark records k as delivered at t with uid, unconditionally, as Cyrus's
// duplicate_mark (Sieve's vacation and redirect records use it).
func (s *Suppressor) Mark(k Key, t time.Time, uid uint32) error {
	if err := s.db.Put(k.Bytes(), doneValue(t, uid)); err != nil {
		return fmt.Errorf("duplicate_mark: %s/%s: %w", k.ID, k.To, err)
	}
	return nil
}

// Log writes Cyrus's line for an eliminated duplicate; action is
// "delivery" for lmtpd (Sieve uses others).
func (s *Suppressor) Log(k Key, action string) {
	s.log.Info(fmt.Sprintf("dupelim: eliminated duplicate message to %s id %s date %s (%s)", k.To, k.ID, k.Date, action))
}
