package sieve

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
)

// NewEnv returns an Env with what imapd.conf says: the extensions ihave
// sees (sieve_extensions), the vacation period bounds
// (sieve_vacation_min_response, sieve_vacation_max_response), the
// duplicate expiry bound (sieve_duplicate_max_expiration) and the script
// size limit. The caller adds the envelope, addresses and callbacks.
func NewEnv(cfg *config.Config) *Env {
	e := &Env{Extensions: ExtensionsFromConfig(cfg)}
	if cfg == nil {
		return e
	}
	e.VacationMin = cfg.Duration(config.SieveVacationMinResponse)
	e.VacationMax = cfg.Duration(config.SieveVacationMaxResponse)
	e.DuplicateMax = cfg.Duration(config.SieveDuplicateMaxExpiration)
	e.Limits.MaxScriptSize = int(cfg.Size(config.SieveMaxScriptSize))
	return e
}

// Compose builds the rejection of a message (RFC 5429 2.2): a failure MDN
// (RFC 3798) from from (postmaster) to to (the envelope sender), naming
// recipient, with the reason and the original message's header, which
// must be the unmodified one (RFC 5293 7: "using the original, unmodified
// message header"). messageID is the MDN's own Message-ID.
func (r Reject) Compose(now time.Time, from, to, recipient, messageID string, original []Field) []byte {
	var rnd [8]byte
	rand.Read(rnd[:])
	boundary := "cyrusgo-reject-" + hex.EncodeToString(rnd[:])
	origID := ""
	for _, f := range original {
		if strings.EqualFold(f.Name, "Message-ID") {
			origID = strings.TrimSpace(unfold(f.Value))
			break
		}
	}
	var b strings.Builder
	hdr := func(name, value string) { b.Write(Field{Name: name, Value: value}.Bytes()) }
	hdr("Date", now.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	hdr("From", from)
	hdr("To", "<"+to+">")
	hdr("Subject", "Automatically rejected mail")
	hdr("Message-ID", messageID)
	if origID != "" {
		hdr("In-Reply-To", origID)
	}
	hdr("Auto-Submitted", "auto-replied (rejected)")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", `multipart/report; report-type=disposition-notification; boundary="`+boundary+`"`)
	b.WriteString("\r\nThis is a MIME-encapsulated message\r\n\r\n")

	b.WriteString("--" + boundary + "\r\n")
	if isASCII(r.Reason) {
		b.WriteString("Content-Type: text/plain; charset=us-ascii\r\n\r\n")
	} else {
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	}
	b.WriteString("Your message was automatically rejected by Sieve, a mail\r\nfiltering language.\r\n\r\n")
	b.WriteString("The following reason was given:\r\n")
	b.WriteString(crlf(r.Reason))
	b.WriteString("\r\n\r\n")

	b.WriteString("--" + boundary + "\r\n")
	b.WriteString("Content-Type: message/disposition-notification\r\n\r\n")
	b.WriteString("Reporting-UA: " + strings.TrimSpace(hostOf(from)) + "; Cyrus cyrusgo Sieve\r\n")
	b.WriteString("Final-Recipient: rfc822; " + sanitize(recipient) + "\r\n")
	if origID != "" {
		b.WriteString("Original-Message-ID: " + sanitize(origID) + "\r\n")
	}
	b.WriteString("Disposition: automatic-action/MDN-sent-automatically; deleted\r\n\r\n")

	b.WriteString("--" + boundary + "\r\n")
	b.WriteString("Content-Type: text/rfc822-headers\r\n\r\n")
	for _, f := range original {
		b.Write(f.Bytes())
	}
	b.WriteString("\r\n--" + boundary + "--\r\n")
	return []byte(b.String())
}

func hostOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.Trim(addr[i+1:], "<> ")
	}
	return "localhost"
}

// sanitize keeps a value on one line.
func sanitize(s string) string {
	return strings.NewReplacer("\r", "", "\n", "").Replace(s)
}
