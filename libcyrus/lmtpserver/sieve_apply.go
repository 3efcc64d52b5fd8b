package lmtpserver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/duplicate"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/sieve"
	"github.com/cyrusgo/cyrusgo/libcyrus/smtpclient"
)

// apply carries out res (see the file comment of sieve.go for the order).
func (r *sieveRunner) apply(ctx context.Context, rc *Recipient, msg *Message, smsg sieve.Message, res *sieve.Result, deliver DeliverFunc, now time.Time) (bool, error) {
	var sends []outbound
	envFrom := strings.Trim(msg.ReturnPath, "<>")
	to := strings.Trim(rc.Address, "<>")
	copies := &editedCopies{msg: msg}
	defer copies.close()
	stored := map[string]bool{} // mailboxes the message went to
	for _, a := range res.Actions {
		switch a := a.(type) {
		case sieve.Keep:
			m, err := r.edited(rc, copies, a.Header)
			if err != nil {
				return false, err
			}
			if err := deliver(m, rc.Mailbox, a.Flags); err != nil {
				return false, err
			}
			stored[rc.Mailbox] = true
		case sieve.FileInto:
			m, err := r.edited(rc, copies, a.Header)
			if err != nil {
				return false, err
			}
			name, err := r.fileInto(rc, m, a, deliver)
			if err != nil {
				return false, err
			}
			stored[name] = true
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
			// RFC 5293 7: the MDN quotes the unmodified header.
			mdn := a.Compose(now, r.postmaster+"@"+r.serverName, envFrom, to, r.messageID(now), smsg.Header())
			sends = append(sends, outbound{what: "reject", env: smtpclient.Envelope{To: []string{envFrom}, AuthID: rc.UserID}, data: mdn})
		case sieve.Redirect:
			ob, ok, err := r.redirect(rc, msg, smsg, a, envFrom, now)
			if err != nil {
				return false, err
			}
			if ok {
				sends = append(sends, ob)
			}
		case sieve.Vacation:
			v := a
			sends = append(sends, outbound{what: "vacation", env: smtpclient.Envelope{To: []string{v.To}, AuthID: rc.UserID},
				data: v.Compose(now, r.messageID(now)), fcc: v.Fcc,
				done: func() { r.mark(vacationKey(rc, v.TrackingID), now.Add(v.Period)) }})
		case sieve.Notify:
			rcpts, data, err := a.Compose(now, to, r.messageID(now))
			if err != nil {
				r.log.Info(fmt.Sprintf("sieve: %s: notify %s: %v", rc.UserID, a.Method, err))
				continue
			}
			sends = append(sends, outbound{what: "notify", data: data, fcc: a.Fcc,
				env: smtpclient.Envelope{From: notifySender(envFrom, a.From, to), To: rcpts, AuthID: rc.UserID}})
		default:
			r.log.Info(fmt.Sprintf("sieve: %s: action %T not supported", rc.UserID, a))
		}
	}
	for _, ob := range sends {
		if err := r.send(ctx, ob.env, ob.data); err != nil {
			r.log.Error(fmt.Sprintf("sieve: %s: sending %s to %s: %v", rc.UserID, ob.what, strings.Join(ob.env.To, ","), err))
			// Cyrus falls back to the keep when an action fails and
			// nothing was stored: the message must not be lost.
			if ob.keepOnFailure && len(stored) == 0 {
				r.log.Info(fmt.Sprintf("sieve: %s: keeping %s in INBOX: the %s was not sent", rc.UserID, msg.ID, ob.what))
				if err := deliver(nil, rc.Mailbox, nil); err != nil {
					return false, err
				}
				stored[rc.Mailbox] = true
			}
			continue
		}
		r.log.Info(fmt.Sprintf("sieve: %s: sent %s to %s", rc.UserID, ob.what, strings.Join(ob.env.To, ",")))
		if ob.done != nil {
			ob.done()
		}
		if ob.fcc != nil {
			r.fcc(rc, msg, ob.fcc, ob.data, deliver)
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

// edited returns the message to store for an action's header (RFC 5293
// 7): the received one when header is nil, else a copy with that header.
// A header too long to edit is stored as received, logged.
func (r *sieveRunner) edited(rc *Recipient, copies *editedCopies, header []sieve.Field) (*Message, error) {
	m, err := copies.get(header)
	if err == errHeaderTooLong {
		r.log.Info(fmt.Sprintf("sieve: %s: editheader changes not stored: %v", rc.UserID, err))
		return copies.msg, nil
	}
	return m, err
}

// fileInto stores into the script's mailbox (resolve); a mailbox that is
// missing or that the user may not file into gets the INBOX instead, as
// in Cyrus. It returns where the message went.
func (r *sieveRunner) fileInto(rc *Recipient, m *Message, a sieve.FileInto, deliver DeliverFunc) (string, error) {
	name, err := r.resolve(rc, target{Mailbox: a.Mailbox, Create: a.Create, SpecialUse: a.SpecialUse, MailboxID: a.MailboxID})
	if err == nil {
		err = deliver(m, name, a.Flags)
		if err == nil {
			return name, nil
		}
		switch mailbox.CodeOf(err) {
		case mailbox.CodeNonexistent, mailbox.CodeNoPerm, mailbox.CodeBadName:
		default:
			return "", err
		}
	}
	r.log.Info(fmt.Sprintf("sieve: %s: fileinto %s failed (%v): delivering to INBOX", rc.UserID, a.Mailbox, err))
	return rc.Mailbox, deliver(m, rc.Mailbox, a.Flags)
}

// fcc files a copy of a message sent (RFC 8580) with its flags; a
// failure is only logged: the message went out.
func (r *sieveRunner) fcc(rc *Recipient, msg *Message, f *sieve.Fcc, data []byte, deliver DeliverFunc) {
	name, err := r.resolve(rc, target{Mailbox: f.Mailbox, Create: f.Create, SpecialUse: f.SpecialUse, MailboxID: f.MailboxID})
	if err == nil {
		var m *Message
		if m, err = msg.derive(bytes.NewReader(data), ""); err == nil {
			err = deliver(m, name, f.Flags)
			m.close()
		}
	}
	if err != nil {
		r.log.Error(fmt.Sprintf("sieve: %s: fcc to %s: %v", rc.UserID, f.Mailbox, err))
		return
	}
	r.log.Info(fmt.Sprintf("sieve: %s: fcc to %s", rc.UserID, name))
}

// notifySender is RFC 5436 2.7's envelope sender: empty for a message
// with an empty one (no loops), else :from when it is an address, else
// the recipient.
func notifySender(envFrom, from, to string) string {
	if envFrom == "" {
		return ""
	}
	if a, err := mail.ParseAddress(from); err == nil && from != "" {
		return a.Address
	}
	return to
}

// redirect prepares a redirect: the message (with its header as the
// script left it, RFC 5293 7, less Return-Path as Cyrus sends it) with
// our trace field on top, sent with the original envelope sender and
// the RFC 6009 parameters. A message that carries the field for this
// user already is in a loop and is not sent again; one redirected to the
// same address before (the duplicate db) neither.
func (r *sieveRunner) redirect(rc *Recipient, msg *Message, smsg sieve.Message, a sieve.Redirect, envFrom string, now time.Time) (outbound, bool, error) {
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
	header := a.Header
	if header == nil {
		header = smsg.Header()
	}
	body, err := withHeader(msg, header, "Return-Path")
	if err == errHeaderTooLong {
		// The Sieve message saw only the start of it: send it whole.
		body, err = io.NewSectionReader(msg.Open(), 0, msg.Size), nil
	}
	if err != nil {
		return outbound{}, false, err
	}
	var b bytes.Buffer
	b.WriteString(RedirectedByField + ": " + marker + "\r\n")
	if _, err := io.Copy(&b, body); err != nil {
		return outbound{}, false, fmt.Errorf("reading the message: %w", err)
	}
	env := smtpclient.Envelope{From: envFrom, To: []string{a.Address}, AuthID: rc.UserID,
		Notify: a.Notify, Ret: a.Ret, By: deliverBy(a, now)}
	ob := outbound{what: "redirect", env: env, data: b.Bytes(), keepOnFailure: true}
	if msg.ID != "" {
		ob.done = func() { r.mark(k, r.now().Add(sieve.DefaultDuplicateMax)) }
	}
	return ob, true, nil
}

// deliverBy is the BY parameter of RFC 2852 for a redirect's RFC 6009
// deliver-by tags: seconds left, R(eturn) or N(otify), T for trace.
func deliverBy(a sieve.Redirect, now time.Time) string {
	var secs int64
	switch {
	case a.ByTime != 0:
		secs = a.ByTime
	case a.ByAbsolute != "":
		t, err := time.Parse(time.RFC3339, a.ByAbsolute)
		if err != nil {
			return ""
		}
		secs = int64(t.Sub(now).Seconds())
	default:
		return ""
	}
	mode := "R" // RFC 6009 5: :bymode defaults to "return"
	if strings.EqualFold(a.ByMode, "notify") {
		mode = "N"
	}
	if a.ByTrace {
		mode += "T"
	}
	return fmt.Sprintf("%d;%s", secs, mode)
}

func (r *sieveRunner) messageID(now time.Time) string {
	return newMessageID(now, r.serverName)
}

// send hands a message to the configured sender.
func (r *sieveRunner) send(ctx context.Context, env smtpclient.Envelope, data []byte) error {
	if r.sender == nil {
		return r.senderErr
	}
	return r.sender.Send(ctx, env, data)
}
