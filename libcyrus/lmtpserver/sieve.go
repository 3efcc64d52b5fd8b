package lmtpserver

// The Sieve hook of lmtpd (Cyrus's lmtp_sieve.c): the recipient's active
// script runs over the staged message and its actions are carried out.
//
// Order, so that a failure leaves nothing half done: first the stores
// (keep, fileinto); if one fails for a reason other than a missing or
// forbidden mailbox, the error goes back to the engine, which answers as
// for any delivery failure (4xx) and sends nothing, so the MTA's retry
// does not send a redirect or a vacation reply twice. Only once every
// store succeeded are the messages sent (redirect, vacation, notify,
// reject bounces) and the tracking records written (vacation,
// duplicate, redirect). A redirect that cannot be sent, when the script
// stored the message nowhere, leaves it in the INBOX instead, as Cyrus's
// failed action falls back to the keep, so that it is not lost.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/duplicate"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/sieve"
	"github.com/cyrusgo/cyrusgo/libcyrus/sievescript"
	"github.com/cyrusgo/cyrusgo/libcyrus/smtpclient"
)

// SieveFailedFlag marks the copy kept when a script failed, as Cyrus does.
const SieveFailedFlag = "$SieveFailed"

// RedirectedByField is the trace field a redirect adds; a message that
// already carries it for the same user is not redirected again (a loop).
const RedirectedByField = "X-Sieve-Redirected-By"

// RejectError is a Sieve reject answered at the protocol level
// (sieve_use_lmtp_reject): the recipient gets 550 5.7.1 with the reason.
type RejectError struct{ Reason string }

func (e *RejectError) Error() string { return "sieve reject: " + e.Reason }

// reply is the recipient's LMTP reply: one line, the reason made safe
// for it (RFC 5429 2.1.1: ereject at the protocol level).
func (e *RejectError) reply() string {
	r := strings.Map(func(c rune) rune {
		if c < ' ' || c == 0x7f {
			return ' '
		}
		return c
	}, e.Reason)
	if len(r) > 400 {
		r = r[:400]
	}
	return "550 5.7.1 " + strings.TrimSpace(r)
}

// SieveOptions configure NewSieve.
type SieveOptions struct {
	Config  *config.Config
	Store   *mailbox.Store
	Scripts *sievescript.Store
	// Deliver is the deliver database: vacation, duplicate and redirect
	// tracking live there, as in Cyrus's deliver.db.
	Deliver cyrusdb.DB
	// Metadata reads annotations for the metadata tests; nil: none.
	Metadata MetadataReader
	// Sender sends redirects, replies and notifications; nil means the
	// one imapd.conf describes (smtp_backend).
	Sender *smtpclient.Sender
	Logger *slog.Logger
	// Now replaces time.Now (tests).
	Now func() time.Time
}

// sieveRunner is the state of the hook; it is immutable.
type sieveRunner struct {
	cfg        *config.Config
	store      *mailbox.Store
	scripts    *sievescript.Store
	db         cyrusdb.DB
	track      *duplicate.Suppressor
	log        *slog.Logger
	now        func() time.Time
	meta       MetadataReader
	sender     *smtpclient.Sender
	senderErr  error
	lmtpReject bool
	postmaster string
	serverName string
}

// NewSieve returns the Options.Sieve hook that runs users' active scripts.
func NewSieve(o SieveOptions) SieveFunc {
	r := &sieveRunner{cfg: o.Config, store: o.Store, scripts: o.Scripts, db: o.Deliver, log: o.Logger, now: o.Now,
		meta: o.Metadata, sender: o.Sender}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.db != nil {
		r.track = duplicate.New(r.db, duplicate.Options{Logger: r.log, Now: r.now})
	}
	if r.sender == nil {
		so, err := smtpclient.FromConfig(o.Config, r.log)
		if err == nil {
			r.sender, err = smtpclient.New(so)
		}
		if err != nil {
			// Every send fails with this, logged; deliveries go on.
			r.senderErr = err
			r.log.Error(fmt.Sprintf("sieve: outgoing mail: %v", err))
		}
	}
	r.lmtpReject = o.Config.Bool(config.SieveUseLMTPReject)
	r.postmaster = o.Config.String(config.Postmaster)
	r.serverName = o.Config.String(config.ServerName)
	return r.run
}

// outbound is a message to send once the stores succeeded.
type outbound struct {
	what string
	env  smtpclient.Envelope
	data []byte
	done func() // tracking to record after a successful send
	// fcc files a copy of what was sent (RFC 8580).
	fcc *sieve.Fcc
	// keepOnFailure: a redirect that cannot be sent is kept instead.
	keepOnFailure bool
}

func (r *sieveRunner) run(ctx context.Context, rc *Recipient, msg *Message, deliver DeliverFunc) (bool, error) {
	dir, err := r.scripts.User(rc.UserID)
	if err != nil {
		return r.failed(rc, deliver, fmt.Errorf("script directory: %w", err))
	}
	script, name, err := dir.LoadActive()
	if err != nil {
		return r.failed(rc, deliver, fmt.Errorf("loading the active script: %w", err))
	}
	if script == nil {
		return false, nil // no active script: the normal delivery
	}
	smsg, err := sieve.NewMessage(msg.Open(), msg.Size)
	if err != nil {
		return r.failed(rc, deliver, fmt.Errorf("reading the message: %w", err))
	}
	now := r.now()
	env := r.env(rc, msg, dir, now)
	res, err := script.Run(ctx, smsg, env)
	if res != nil {
		for _, n := range res.Notes {
			r.log.Info(fmt.Sprintf("sieve: %s: %s", rc.UserID, n))
		}
	}
	var rte *sieve.RuntimeError
	if errors.As(err, &rte) {
		return r.failed(rc, deliver, fmt.Errorf("script %s: %w", name, err))
	}
	if err != nil {
		return false, err // the context ended: the engine answers 4xx
	}
	return r.apply(ctx, rc, msg, smsg, res, deliver, now)
}

// failed is RFC 5228 2.10.6 with Cyrus's mark: the message goes to the
// INBOX flagged $SieveFailed, and the reason is logged.
func (r *sieveRunner) failed(rc *Recipient, deliver DeliverFunc, why error) (bool, error) {
	r.log.Error(fmt.Sprintf("sieve: %s: %v: keeping in INBOX as %s", rc.UserID, why, SieveFailedFlag))
	if err := deliver(nil, rc.Mailbox, []string{SieveFailedFlag}); err != nil {
		return false, err
	}
	return true, nil
}

func (r *sieveRunner) env(rc *Recipient, msg *Message, dir *sievescript.Dir, now time.Time) *sieve.Env {
	env := sieve.NewEnv(r.cfg)
	to := strings.Trim(rc.Address, "<>")
	env.Envelope = sieve.Envelope{From: strings.Trim(msg.ReturnPath, "<>"), To: to}
	env.Addresses = []string{to, rc.UserID}
	if !strings.Contains(rc.UserID, "@") && r.serverName != "" {
		env.Addresses = append(env.Addresses, rc.UserID+"@"+r.serverName)
	}
	env.Now = now
	env.Include = dir.Includer()
	env.MailboxExists = func(name string) bool { return r.mailboxExists(rc, name) }
	env.MailboxIDExists = func(id string) bool { return r.mailboxIDExists(rc, id) }
	env.SpecialUseExists = func(name string, uses []string) bool { return r.specialUseExists(rc, name, uses) }
	env.Metadata = func(name, entry string) (string, bool) { return r.metadata(rc, name, entry) }
	env.ServerMetadata = func(entry string) (string, bool) { return r.metadata(rc, "", entry) }
	env.Environment = map[string]string{"domain": r.serverName, "host": r.serverName}
	if r.db != nil {
		env.VacationSent = func(id string) (bool, error) {
			return r.tracked(vacationKey(rc, id), now)
		}
		env.Duplicate = func(handle, id string) (bool, error) {
			return r.tracked(duplicateKey(rc, handle, id), now)
		}
	}
	return env
}

// vacationKey is Cyrus's: the response's tracking id to the user, no date.
func vacationKey(rc *Recipient, id string) duplicate.Key {
	return duplicate.Key{ID: id, To: rc.UserID}
}

// duplicateKey is RFC 7352's tracking entry, kept apart from deliveries
// by Cyrus's ".user.sieve." recipient.
func duplicateKey(rc *Recipient, handle, id string) duplicate.Key {
	return duplicate.Key{ID: handle + "\x01" + id, To: "." + rc.UserID + ".sieve."}
}

// tracked reports whether k is marked with a time still to come: tracking
// records are marked with their expiry, as Cyrus marks vacation
// responses with now + period, so that pruning keeps them until then.
func (r *sieveRunner) tracked(k duplicate.Key, now time.Time) (bool, error) {
	if !k.Valid() {
		return false, nil
	}
	v, err := r.db.Get(k.Bytes())
	if errors.Is(err, cyrusdb.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("tracking lookup: %w", err)
	}
	f := strings.Fields(string(v))
	if len(f) < 2 || f[0] != "D" {
		return false, nil
	}
	t, err := strconv.ParseInt(f[1], 10, 64)
	return err == nil && now.Unix() < t, nil
}

func (r *sieveRunner) mark(k duplicate.Key, until time.Time) {
	if r.track == nil || !k.Valid() {
		return
	}
	if err := r.track.Mark(k, until, 0); err != nil {
		r.log.Error(fmt.Sprintf("DBERROR: %v", err))
	}
}

// internal resolves a mailbox name of a script for the user.
func (r *sieveRunner) internal(rc *Recipient, name string) (string, error) {
	return r.store.Namespace().ToInternal(name, rc.UserID)
}

// newMessageID is the Message-ID of a message the hook sends.
func newMessageID(now time.Time, serverName string) string {
	var b [8]byte
	rand.Read(b[:])
	return fmt.Sprintf("<cmu-sieve-%d-%s@%s>", now.Unix(), hex.EncodeToString(b[:]), serverName)
}
