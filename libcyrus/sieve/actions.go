package sieve

import "time"

// Action is what a script asks for. Run returns them in the order the
// script gave them; the caller carries them out (lmtpd: deliver, send
// over SMTP). The concrete types are the ones below.
type Action interface{ action() }

// Keep files the message into the user's INBOX (RFC 5228 4.3). Implicit
// is set for the implicit keep (RFC 5228 2.10.2), which the caller must
// honour just like an explicit one.
type Keep struct {
	// Flags are the IMAP flags and keywords to set (RFC 5232 3, 5),
	// deduplicated, system flags with their backslash.
	Flags    []string
	Implicit bool
	// Header, when not nil, is the header to store the message with:
	// the script changed it with editheader (RFC 5293 7).
	Header []Field
}

// FileInto files the message into Mailbox (RFC 5228 4.1), a name as the
// script gave it, which the caller resolves for the user (and falls back
// to INBOX when it cannot).
type FileInto struct {
	Mailbox string
	Flags   []string
	// Copy (RFC 3894) means this does not cancel the implicit keep.
	Copy bool
	// Create (RFC 5490 3.2) asks to create the mailbox if missing.
	Create bool
	// SpecialUse (RFC 8579) names a special-use attribute ("\Junk"); a
	// mailbox with it, if any, is used instead of Mailbox.
	SpecialUse string
	// MailboxID (RFC 9042) names a mailbox by its id, used instead of
	// Mailbox when such a mailbox exists.
	MailboxID string
	Header    []Field
}

// Redirect sends the message on to Address (RFC 5228 4.2), unchanged but
// for Header when editheader changed it.
type Redirect struct {
	Address string
	Copy    bool
	// DSN parameters (RFC 6009): Notify is the NOTIFY value
	// ("SUCCESS,FAILURE" or "NEVER"), Ret "FULL" or "HDRS".
	Notify string
	Ret    string
	// Deliver-by (RFC 6009, RFC 2852): ByTime relative seconds or
	// ByAbsolute time, ByMode "notify" or "return", ByTrace.
	ByTime     int64
	ByAbsolute string
	ByMode     string
	ByTrace    bool
	Header     []Field
}

// Discard silently drops the message (RFC 5228 4.4).
type Discard struct{}

// Reject refuses the message (RFC 5429): with Extended (ereject) at the
// protocol level when possible, otherwise, like reject, with a bounce
// (an MDN built from the original, unmodified message).
type Reject struct {
	Reason   string
	Extended bool
}

// Vacation is an automatic reply that passed RFC 5230's checks (4.5, 4.6)
// and the response tracking; the caller sends Compose's message to To,
// with an empty envelope sender (5.1), and then records TrackingID for
// Period (4.2) so the same response is not sent again before it ends.
type Vacation struct {
	// To is the envelope sender of the message, which the reply goes to.
	To string
	// From is the reply's From field: :from, or the recipient's address.
	From string
	// Subject is the reply's Subject, already defaulted ("Auto: ...").
	Subject string
	// Reason is the reply's body; with Mime, a MIME entity (headers and
	// body).
	Reason string
	Mime   bool
	// InReplyTo and References come from the original message (5.8).
	InReplyTo  string
	References string
	// Period is how long to wait before answering To again.
	Period time.Duration
	// TrackingID identifies this response to this sender (4.2): a hash
	// of the handle (or the unexpanded arguments) and To.
	TrackingID string
	// Fcc asks for a copy of the reply in a mailbox (RFC 8580).
	Fcc *Fcc
}

// Fcc is a request to file a copy of a generated message (RFC 8580).
type Fcc struct {
	Mailbox    string
	Create     bool
	Flags      []string
	SpecialUse string
	MailboxID  string
}

// Notify is an enotify notification (RFC 5435) by the mailto method
// (RFC 5436). Compose builds the message.
type Notify struct {
	// Method is the notification URI ("mailto:...").
	Method string
	// From, Importance ("1" high, "2" normal, "3" low), Options and
	// Message as the script gave them (Message defaulted).
	From       string
	Importance string
	Options    []string
	Message    string
	Fcc        *Fcc
}

func (Keep) action()     {}
func (FileInto) action() {}
func (Redirect) action() {}
func (Discard) action()  {}
func (Reject) action()   {}
func (Vacation) action() {}
func (Notify) action()   {}

// DuplicateRecord is a duplicate test's tracking entry (RFC 7352 3): the
// caller stores it once the delivery succeeded, so that later deliveries
// of the same ID find it, and keeps it for Expiry. With Last, a later
// occurrence restarts the expiry.
type DuplicateRecord struct {
	Handle string
	ID     string
	Expiry time.Duration
	Last   bool
}

// Result is the outcome of a run.
type Result struct {
	// Actions in script order; the implicit keep, when it applies, is
	// the last, a Keep with Implicit set.
	Actions []Action
	// Header is the header after editheader, nil when unchanged. Every
	// action that stores or sends the message carries the header it
	// must use (RFC 5293 7).
	Header []Field
	// Duplicates are the duplicate test records to store on success.
	Duplicates []DuplicateRecord
	// Notes explain actions that were not taken (a vacation not sent to
	// a mailing list, a change to Received refused), for the log.
	Notes []string
}
