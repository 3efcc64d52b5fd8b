package message

import (
	"strings"
	"time"
)

// NString is an IMAP nstring (RFC 3501 section 9): a string, or NIL when
// Valid is false. A header field that is present but empty is the empty
// string, not NIL, as Cyrus reports it.
type NString struct {
	S     string
	Valid bool
}

// Str returns the NString holding s.
func Str(s string) NString { return NString{S: s, Valid: true} }

// Param is one MIME parameter (RFC 2045 5.1) with its attribute in upper
// case, as Cyrus reports it, and its value unquoted. RFC 2231 continuations
// are already folded into one parameter (FILENAME*0, FILENAME*1 become
// FILENAME); an extended value ("FILENAME*") is kept in its encoded form.
type Param struct {
	Name  string
	Value string
}

// Address is one member of an ENVELOPE address list (RFC 3501 7.4.2):
// (name adl mailbox host). Group syntax (RFC 5322 3.4) is two markers: the
// start has Host NIL and the group name in Mailbox, the end has Mailbox and
// Host NIL. Values are raw header text, not RFC 2047-decoded.
type Address struct {
	Name    NString
	ADL     NString
	Mailbox NString
	Host    NString
}

// IsGroupStart reports whether a is the start-of-group marker.
func (a Address) IsGroupStart() bool { return !a.Host.Valid && a.Mailbox.Valid }

// IsGroupEnd reports whether a is the end-of-group marker.
func (a Address) IsGroupEnd() bool { return !a.Host.Valid && !a.Mailbox.Valid }

// Addr returns mailbox@host, or "" for a group marker.
func (a Address) Addr() string {
	if !a.Host.Valid {
		return ""
	}
	return a.Mailbox.S + "@" + a.Host.S
}

// Envelope holds the ENVELOPE fields of a message (RFC 3501 7.4.2) as the
// header had them: strings unfolded but not decoded, addresses parsed. When
// the header has several instances of a field the last one counts, as in
// Cyrus. Sender and ReplyTo are kept as parsed; the output applies the rule
// that they default to From.
type Envelope struct {
	Date      NString
	Subject   NString
	From      []Address
	Sender    []Address
	ReplyTo   []Address
	To        []Address
	Cc        []Address
	Bcc       []Address
	InReplyTo NString
	MessageID NString
}

// Part is one MIME entity: the top message, a body part of a multipart, or
// a message encapsulated in a message/rfc822 part. Offsets are absolute byte
// offsets in the message file.
type Part struct {
	// HeaderOffset and HeaderLen locate the header, including the blank
	// line that ends it (RFC 3501 6.4.5: HEADER and MIME include it).
	HeaderOffset int64
	HeaderLen    int64
	// BodyOffset and BodyLen locate the body. Inside a multipart the line
	// break before the next boundary belongs to the boundary (RFC 2046
	// 5.1.1), not to the body. BodyLen is body-fld-octets.
	BodyOffset int64
	BodyLen    int64
	// Lines is the number of line feeds in the body (body-fld-lines);
	// like Cyrus, a boundary line that ends the message without a line
	// break counts as a line too.
	Lines int64

	// Type and Subtype are upper case (Cyrus reports "TEXT" "PLAIN").
	Type    string
	Subtype string
	Params  []Param
	// ID, Description and MD5 are the raw Content-ID, Content-Description
	// and Content-MD5 values.
	ID          NString
	Description NString
	// Encoding is the Content-Transfer-Encoding token in upper case, or ""
	// when absent or malformed (reported as "7BIT").
	Encoding string
	MD5      NString
	// Disposition is the Content-Disposition token in upper case, or ""
	// for none (RFC 2183).
	Disposition       string
	DispositionParams []Param
	// Language holds the Content-Language tags in upper case (RFC 3282).
	Language []string
	Location NString

	// Parts are the body parts of a multipart, in order.
	Parts []*Part
	// Embedded is the message inside a message/rfc822 part.
	Embedded *Part
	// Envelope is set on the top message and on every Embedded message.
	Envelope *Envelope
}

// IsMultipart reports whether p is a multipart with body parts.
func (p *Part) IsMultipart() bool { return p.Type == "MULTIPART" && len(p.Parts) > 0 }

// IsMessage reports whether p encapsulates a message (message/rfc822).
func (p *Part) IsMessage() bool { return p.Type == "MESSAGE" && p.Subtype == "RFC822" }

// Param returns the value of the Content-Type parameter name (any case).
func (p *Part) Param(name string) (string, bool) {
	for _, pa := range p.Params {
		if strings.EqualFold(pa.Name, name) {
			return pa.Value, true
		}
	}
	return "", false
}

// Charset returns the charset parameter, or "us-ascii" for a text part
// without one (RFC 2045 5.2), or "" for other types.
func (p *Part) Charset() string {
	if v, ok := p.Param("CHARSET"); ok && v != "" {
		return v
	}
	if p.Type == "TEXT" {
		return "us-ascii"
	}
	return ""
}

// SortAddr is the first mailbox of an address header, for SORT (RFC 5256
// 3: addr-mailbox) and SORT=DISPLAY (RFC 5957: the display name). Name is
// RFC 2047-decoded UTF-8.
type SortAddr struct {
	Name    string
	Mailbox string
	Host    string
}

// Summary is everything the store caches about one message.
type Summary struct {
	// Size is the message size in octets (RFC822.SIZE).
	Size int64
	// GUID is the lower-case hex SHA-1 of the whole message, as Cyrus
	// computes it.
	GUID string
	// BareLF is set when some line ended in LF without CR.
	BareLF bool
	// Limited is set when an Options limit cut the parse short: some
	// header was not examined, or deep or numerous parts were left opaque.
	Limited bool

	// Root is the top message. Root.Envelope is the ENVELOPE.
	Root *Part

	// Header is a copy of the top header (Root.HeaderOffset/HeaderLen),
	// blank line included, when HeaderComplete; otherwise its first whole
	// fields up to Options.MaxCachedHeader.
	Header         []byte
	HeaderComplete bool

	// Subject is the Subject decoded to UTF-8 (RFC 2047), unfolded.
	Subject string
	// BaseSubject is BaseSubject(Subject) (RFC 5256 2.1).
	BaseSubject string
	// Date is the Date header parsed, or the zero time.
	Date time.Time
	// MessageID is the first msg-id of Message-ID, angle brackets kept.
	MessageID string
	// InReplyTo and References are the msg-ids of those fields, in order,
	// for THREAD=REFERENCES (RFC 5256 3).
	InReplyTo  []string
	References []string
	// From, To and Cc are the first mailbox of each, for SORT.
	From SortAddr
	To   SortAddr
	Cc   SortAddr
}
