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
// duplicate, redirect).

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/duplicate"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/sieve"
	"github.com/cyrusgo/cyrusgo/libcyrus/sievescript"
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
	Logger  *slog.Logger
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
	sendmail   string
	lmtpReject bool
	postmaster string
	serverName string
}

// NewSieve returns the Options.Sieve hook that runs users' active scripts.
func NewSieve(o SieveOptions) SieveFunc {
	r := &sieveRunner{cfg: o.Config, store: o.Store, scripts: o.Scripts, db: o.Deliver, log: o.Logger, now: o.Now}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.db != nil {
		r.track = duplicate.New(r.db, duplicate.Options{Logger: r.log, Now: r.now})
	}
	r.sendmail = o.Config.String(config.Sendmail)
	r.lmtpReject = o.Config.Bool(config.SieveUseLMTPReject)
	r.postmaster = o.Config.String(config.Postmaster)
	r.serverName = o.Config.String(config.ServerName)
	return r.run
}

// outbound is a message to send once the stores succeeded.
type outbound struct {
	what string
	from string // envelope sender, "" for the null path
	to   []string
	data []byte
	done func() // tracking to record after a successful send
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
	return r.apply(rc, msg, smsg, res, deliver, now)
}

// failed is RFC 5228 2.10.6 with Cyrus's mark: the message goes to the
// INBOX flagged $SieveFailed, and the reason is logged.
func (r *sieveRunner) failed(rc *Recipient, deliver DeliverFunc, why error) (bool, error) {
	r.log.Error(fmt.Sprintf("sieve: %s: %v: keeping in INBOX as %s", rc.UserID, why, SieveFailedFlag))
	if err := deliver(rc.Mailbox, []string{SieveFailedFlag}); err != nil {
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
	owner := r.store.Identity(rc.UserID)
	env.MailboxExists = func(name string) bool {
		internal, err := r.internal(rc, name)
		if err != nil {
			return false
		}
		e, err := r.store.Lookup(internal)
		return err == nil && r.store.Rights(owner, e)&(acl.Post|acl.Insert) != 0
	}
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

// apply carries out res (see the file comment for the order).
func (r *sieveRunner) apply(rc *Recipient, msg *Message, smsg sieve.Message, res *sieve.Result, deliver DeliverFunc, now time.Time) (bool, error) {
	var sends []outbound
	envFrom := strings.Trim(msg.ReturnPath, "<>")
	to := strings.Trim(rc.Address, "<>")
	for _, a := range res.Actions {
		switch a := a.(type) {
		case sieve.Keep:
			if a.Header != nil {
				r.log.Info(fmt.Sprintf("sieve: %s: editheader changes not stored (not supported yet)", rc.UserID))
			}
			if err := deliver(rc.Mailbox, a.Flags); err != nil {
				return false, err
			}
		case sieve.FileInto:
			if err := r.fileInto(rc, a, deliver); err != nil {
				return false, err
			}
		case sieve.Discard:
			r.log.Info(fmt.Sprintf("sieve: %s: discarded %s", rc.UserID, msg.ID))
		case sieve.Reject:
			if r.lmtpReject {
				return true, &RejectError{Reason: a.Reason}
			}
			if envFrom == "" {
				r.log.Info(fmt.Sprintf("sieve: %s: rejected %s, no bounce to the null sender", rc.UserID, msg.ID))
				continue
			}
			mdn := a.Compose(now, r.postmaster+"@"+r.serverName, envFrom, to, r.messageID(now), smsg.Header())
			sends = append(sends, outbound{what: "reject", to: []string{envFrom}, data: mdn})
		case sieve.Redirect:
			ob, ok, err := r.redirect(rc, msg, smsg, a, envFrom)
			if err != nil {
				return false, err
			}
			if ok {
				sends = append(sends, ob)
			}
		case sieve.Vacation:
			v := a
			sends = append(sends, outbound{what: "vacation", to: []string{v.To}, data: v.Compose(now, r.messageID(now)),
				done: func() { r.mark(vacationKey(rc, v.TrackingID), now.Add(v.Period)) }})
		case sieve.Notify:
			rcpts, data, err := a.Compose(now, to, r.messageID(now))
			if err != nil {
				r.log.Info(fmt.Sprintf("sieve: %s: notify %s: %v", rc.UserID, a.Method, err))
				continue
			}
			sends = append(sends, outbound{what: "notify", to: rcpts, data: data})
		default:
			r.log.Info(fmt.Sprintf("sieve: %s: action %T not supported", rc.UserID, a))
		}
	}
	for _, ob := range sends {
		if err := r.send(ob.from, ob.to, ob.data); err != nil {
			r.log.Error(fmt.Sprintf("sieve: %s: sending %s to %s: %v", rc.UserID, ob.what, strings.Join(ob.to, ","), err))
			continue
		}
		r.log.Info(fmt.Sprintf("sieve: %s: sent %s to %s", rc.UserID, ob.what, strings.Join(ob.to, ",")))
		if ob.done != nil {
			ob.done()
		}
	}
	for _, d := range res.Duplicates {
		k := duplicateKey(rc, d.Handle, d.ID)
		if !d.Last {
			if seen, _ := r.tracked(k, now); seen && r.db != nil {
				continue // RFC 7352 3.1: without :last the first expiry stands
			}
		}
		r.mark(k, now.Add(d.Expiry))
	}
	return true, nil
}

// fileInto stores into the script's mailbox, creating it for :create; a
// mailbox that is missing or that the user may not file into gets the
// INBOX instead, as in Cyrus.
func (r *sieveRunner) fileInto(rc *Recipient, a sieve.FileInto, deliver DeliverFunc) error {
	internal, err := r.internal(rc, a.Mailbox)
	if err == nil && a.Create {
		if _, lerr := r.store.Lookup(internal); mailbox.CodeOf(lerr) == mailbox.CodeNonexistent {
			if _, cerr := r.store.Create(r.store.Identity(rc.UserID), internal, mailbox.CreateOptions{}); cerr != nil && mailbox.CodeOf(cerr) != mailbox.CodeAlreadyExists {
				r.log.Info(fmt.Sprintf("sieve: %s: fileinto :create %s: %v", rc.UserID, a.Mailbox, cerr))
			}
		}
	}
	if err == nil {
		err = deliver(internal, a.Flags)
		if err == nil {
			return nil
		}
		switch mailbox.CodeOf(err) {
		case mailbox.CodeNonexistent, mailbox.CodeNoPerm, mailbox.CodeBadName:
		default:
			return err
		}
	}
	r.log.Info(fmt.Sprintf("sieve: %s: fileinto %s failed (%v): delivering to INBOX", rc.UserID, a.Mailbox, err))
	return deliver(rc.Mailbox, a.Flags)
}

// redirect prepares a redirect: the message with our trace field on top,
// sent with the original envelope sender. A message that carries the
// field for this user already is in a loop and is not sent again; one
// redirected to the same address before (the duplicate db) neither.
func (r *sieveRunner) redirect(rc *Recipient, msg *Message, smsg sieve.Message, a sieve.Redirect, envFrom string) (outbound, bool, error) {
	marker := rc.UserID + "@" + r.serverName
	for _, f := range smsg.Header() {
		if strings.EqualFold(f.Name, RedirectedByField) && strings.EqualFold(strings.TrimSpace(f.Value), marker) {
			r.log.Info(fmt.Sprintf("sieve: %s: redirect of %s to %s refused: loop (%s)", rc.UserID, msg.ID, a.Address, RedirectedByField))
			return outbound{}, false, nil
		}
	}
	k := duplicate.Key{ID: msg.ID, To: a.Address, Date: msg.Date}
	if r.db != nil && msg.ID != "" {
		if seen, err := r.tracked(k, r.now()); err == nil && seen {
			r.track.Log(k, "redirect")
			return outbound{}, false, nil
		}
	}
	var b bytes.Buffer
	b.WriteString(RedirectedByField + ": " + marker + "\r\n")
	if a.Header != nil {
		if err := sieve.WriteHeader(&b, a.Header); err != nil {
			return outbound{}, false, err
		}
		b.WriteString("\r\n")
		body, err := bodyOf(msg)
		if err != nil {
			return outbound{}, false, err
		}
		b.Write(body)
	} else {
		if _, err := io.Copy(&b, io.NewSectionReader(msg.Open(), 0, msg.Size)); err != nil {
			return outbound{}, false, fmt.Errorf("reading the message: %w", err)
		}
	}
	ob := outbound{what: "redirect", from: envFrom, to: []string{a.Address}, data: b.Bytes()}
	if msg.ID != "" {
		ob.done = func() { r.mark(k, r.now().Add(sieve.DefaultDuplicateMax)) }
	}
	return ob, true, nil
}

// bodyOf returns the message after its header.
func bodyOf(msg *Message) ([]byte, error) {
	b, err := io.ReadAll(io.NewSectionReader(msg.Open(), 0, msg.Size))
	if err != nil {
		return nil, fmt.Errorf("reading the message: %w", err)
	}
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		return b[i+4:], nil
	}
	return nil, nil
}

func (r *sieveRunner) messageID(now time.Time) string {
	var b [8]byte
	rand.Read(b[:])
	return fmt.Sprintf("<cmu-sieve-%d-%s@%s>", now.Unix(), hex.EncodeToString(b[:]), r.serverName)
}

// send runs the sendmail of imapd.conf as Cyrus's open_sendmail did:
// "sendmail -i -f <sender> -- <recipients>", the message on stdin, "<>"
// for the null sender (RFC 5230 5.1, RFC 3834: auto-replies).
func (r *sieveRunner) send(from string, to []string, data []byte) error {
	if from == "" {
		from = "<>"
	}
	args := append([]string{"-i", "-f", from, "--"}, to...)
	cmd := exec.Command(r.sendmail, args...)
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", r.sendmail, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
