package sieve

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// vacation is RFC 5230 (with RFC 6131's :seconds): it decides whether to
// answer and builds the Vacation action.
func (r *run) vacation(c *Node) {
	if r.vacationDone {
		// 4.7: "A script MUST fail ... if it attempts to execute two or
		// more vacation actions."
		throwf(c.Line, "vacation used more than once")
	}
	r.vacationDone = true
	sender := r.env.Envelope.From
	if why := r.noVacationReason(c, sender); why != "" {
		r.note("vacation: not sent: %s", why)
		return
	}
	period := r.vacationPeriod(c)
	track := vacationTrackingID(c, sender)
	if r.env.VacationSent != nil {
		sent, err := r.env.VacationSent(track)
		if err != nil {
			// Not knowing, do not risk answering the same sender twice.
			r.note("vacation: not sent: tracking lookup failed: %v", err)
			return
		}
		if sent {
			r.note("vacation: not sent: already answered %s", sender)
			return
		}
	}
	v := Vacation{To: sender, Reason: r.str(c, 0), Mime: c.tag("mime"), Period: period, TrackingID: track}
	if f, ok := r.tagStr(c, "from"); ok && validMailbox(f) {
		v.From = f
	} else {
		v.From = r.ownAddress()
	}
	if s, ok := r.tagStr(c, "subject"); ok {
		v.Subject = s
	} else if subj := r.headerValue("Subject"); subj != "" {
		// 5.3.
		v.Subject = "Auto: " + subj
	} else {
		v.Subject = "Automated reply"
	}
	// 5.8.
	if id := strings.TrimSpace(r.headerValue("Message-ID")); id != "" {
		v.InReplyTo = id
		refs := strings.TrimSpace(unfold(r.rawHeaderValue("References")))
		if refs == "" {
			refs = strings.TrimSpace(unfold(r.rawHeaderValue("In-Reply-To")))
		}
		v.References = strings.TrimSpace(refs + " " + id)
	}
	v.Fcc = r.fcc(c)
	r.add(c, v)
}

// fcc reads the RFC 8580 tags.
func (r *run) fcc(c *Node) *Fcc {
	mb, ok := r.tagStr(c, "fcc")
	if !ok {
		return nil
	}
	f := &Fcc{Mailbox: mb, Create: c.tag("create")}
	if a, ok := c.Tags["flags"]; ok {
		f.Flags = normalizeFlags(r.expandAll(a.Strs))
	}
	f.SpecialUse, _ = r.tagStr(c, "specialuse")
	f.MailboxID, _ = r.tagStr(c, "mailboxid")
	return f
}

// ownAddress is the recipient's address for From (5.4).
func (r *run) ownAddress() string {
	if r.env.Envelope.To != "" {
		return r.env.Envelope.To
	}
	if len(r.env.Addresses) > 0 {
		return r.env.Addresses[0]
	}
	return ""
}

// headerValue is the first named field, decoded; rawHeaderValue undecoded.
func (r *run) headerValue(name string) string {
	return decodeValue(r.rawHeaderValue(name))
}

func (r *run) rawHeaderValue(name string) string {
	for _, f := range r.header {
		if f.Name != "" && strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// autoSenders are local parts vacation never answers (4.6: "MAILER-DAEMON",
// "LISTSERV", "majordomo", ...), checked case-blind; "owner-*" and
// "*-request" are handled beside them.
var autoSenders = []string{"mailer-daemon", "listserv", "majordomo", "nobody", "noreply", "no-reply"}

// listFields mark mailing list mail (4.6; RFC 2919, RFC 2369).
var listFields = []string{"list-id", "list-help", "list-subscribe", "list-unsubscribe", "list-post", "list-owner", "list-archive"}

// noVacationReason returns why the message must not be answered, or "".
func (r *run) noVacationReason(c *Node, sender string) string {
	if sender == "" {
		return "null envelope sender"
	}
	local, _ := addressPart(sender, "localpart")
	l := strings.ToLower(local)
	for _, a := range autoSenders {
		if l == a {
			return "sender " + sender + " is a system address"
		}
	}
	if strings.HasPrefix(l, "owner-") || strings.HasSuffix(l, "-request") {
		return "sender " + sender + " is a mailing list address"
	}
	for _, f := range r.header {
		name := strings.ToLower(f.Name)
		switch {
		case name == "auto-submitted":
			// RFC 3834 5: the keyword, then optional parameters.
			kw := strings.ToLower(decodeValue(f.Value))
			if i := strings.IndexAny(kw, "; \t("); i >= 0 {
				kw = kw[:i]
			}
			if kw != "no" {
				return "message is auto-submitted"
			}
		case name == "x-ignorevacation":
			// Cyrus: a sender may ask for no vacation reply with any
			// value but "no".
			if !strings.EqualFold(decodeValue(f.Value), "no") {
				return "message has X-Ignorevacation"
			}
		case name == "precedence":
			switch strings.ToLower(decodeValue(f.Value)) {
			case "bulk", "list", "junk":
				return "message has Precedence: " + decodeValue(f.Value)
			}
		default:
			for _, lf := range listFields {
				if name == lf {
					return "message is from a mailing list (" + f.Name + ")"
				}
			}
		}
	}
	// 4.5: the recipient must be named in To, Cc, Bcc or their Resent-
	// forms, by one of its addresses.
	own := []string{r.env.Envelope.To}
	own = append(own, r.env.Addresses...)
	if a, ok := c.Tags["addresses"]; ok {
		own = append(own, r.expandAll(a.Strs)...)
	}
	for _, o := range own {
		if o != "" && sameAddress(o, sender) {
			return "sender is the recipient"
		}
	}
	for _, f := range r.header {
		switch strings.ToLower(f.Name) {
		case "to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc":
			for _, a := range parseAddresses(unfold(f.Value)) {
				for _, o := range own {
					if o != "" && sameAddress(a, o) {
						return ""
					}
				}
			}
		}
	}
	return "recipient not in To, Cc or Bcc"
}

// vacationPeriod is :days or :seconds within the site's bounds (4.1;
// RFC 6131 2), 7 days by default.
func (r *run) vacationPeriod(c *Node) time.Duration {
	lo, hi := r.env.VacationMin, r.env.VacationMax
	if lo <= 0 {
		lo = DefaultVacationMin
	}
	if hi <= 0 {
		hi = DefaultVacationMax
	}
	p := 7 * 24 * time.Hour
	if a, ok := c.Tags["days"]; ok {
		p = secondsDuration(min(a.Num, 1<<20) * 86400)
	} else if a, ok := c.Tags["seconds"]; ok {
		p = secondsDuration(a.Num)
	}
	return min(max(p, lo), hi)
}

// vacationTrackingID identifies a response to a sender (4.2): the handle,
// or the unexpanded :subject, :from, :mime and reason, each counted so
// that different splits of the same text differ; then the sender.
func vacationTrackingID(c *Node, sender string) string {
	h := sha256.New()
	put := func(s string) { fmt.Fprintf(h, "%d:%s;", len(s), s) }
	if a, ok := c.Tags["handle"]; ok {
		put("handle")
		put(a.Strs[0])
	} else {
		for _, t := range []string{"subject", "from"} {
			if a, ok := c.Tags[t]; ok {
				put(t)
				put(a.Strs[0])
			} else {
				put("")
			}
		}
		if c.tag("mime") {
			put("mime")
		} else {
			put("")
		}
		put(c.Pos[0].Strs[0])
	}
	put(strings.ToLower(sender))
	return "vacation:" + hex.EncodeToString(h.Sum(nil)[:16])
}

// Compose builds the reply (RFC 5230 5): the caller sends it to v.To with
// an empty envelope sender. messageID is the reply's Message-ID (with
// angle brackets), now its Date.
func (v *Vacation) Compose(now time.Time, messageID string) []byte {
	var b strings.Builder
	hdr := func(name, value string) {
		b.Write(Field{Name: name, Value: value}.Bytes())
	}
	hdr("Date", now.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	hdr("From", v.From)
	hdr("To", "<"+v.To+">")
	hdr("Subject", v.Subject)
	hdr("Message-ID", messageID)
	if v.InReplyTo != "" {
		hdr("In-Reply-To", v.InReplyTo)
		hdr("References", v.References)
	}
	hdr("Auto-Submitted", "auto-replied (vacation)")
	hdr("MIME-Version", "1.0")
	if v.Mime {
		// 4.4: the reason is a MIME entity, its header included.
		b.WriteString(crlf(v.Reason))
		return []byte(b.String())
	}
	if isASCII(v.Reason) {
		hdr("Content-Type", "text/plain; charset=us-ascii")
		hdr("Content-Transfer-Encoding", "7bit")
	} else {
		hdr("Content-Type", "text/plain; charset=utf-8")
		hdr("Content-Transfer-Encoding", "8bit")
	}
	b.WriteString("\r\n")
	b.WriteString(crlf(v.Reason))
	if !strings.HasSuffix(v.Reason, "\n") {
		b.WriteString("\r\n")
	}
	return []byte(b.String())
}

// crlf makes every line break CRLF.
func crlf(s string) string {
	return normalizeLines([]byte(s))
}
