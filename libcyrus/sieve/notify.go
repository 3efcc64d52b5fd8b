package sieve

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// mailtoURI is a parsed mailto: URI (RFC 6068), the one notification method
// enotify offers here (RFC 5436).
type mailtoURI struct {
	To      []string
	Headers map[string]string // lower-case names, e.g. "subject", "cc"
	Body    string
}

// parseMailto parses and checks a notification method URI: the mailto
// scheme, at least one recipient, every recipient an address.
func parseMailto(uri string) (*mailtoURI, error) {
	scheme, rest, ok := strings.Cut(uri, ":")
	if !ok || !strings.EqualFold(scheme, "mailto") {
		return nil, fmt.Errorf("unsupported notification method %q", uri)
	}
	to, query, _ := strings.Cut(rest, "?")
	m := &mailtoURI{Headers: map[string]string{}}
	addTo := func(list string) error {
		for _, a := range strings.Split(list, ",") {
			d, err := url.PathUnescape(a)
			if err != nil {
				return fmt.Errorf("invalid mailto URI %q: %v", uri, err)
			}
			d = strings.TrimSpace(d)
			if d == "" {
				continue
			}
			if !validAddress(d) {
				return fmt.Errorf("invalid recipient %q in mailto URI", d)
			}
			m.To = append(m.To, d)
		}
		return nil
	}
	if err := addTo(to); err != nil {
		return nil, err
	}
	if query != "" {
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			k, err1 := url.QueryUnescape(k)
			v, err2 := url.PathUnescape(v)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("invalid mailto URI %q", uri)
			}
			switch k = strings.ToLower(k); k {
			case "to":
				if err := addTo(v); err != nil {
					return nil, err
				}
			case "body":
				m.Body = v
			default:
				m.Headers[k] = v
			}
		}
	}
	if len(m.To) == 0 {
		return nil, fmt.Errorf("mailto URI %q has no recipient", uri)
	}
	return m, nil
}

// notify is RFC 5435 3.
func (r *run) notify(c *Node) {
	method := r.str(c, 0)
	if _, err := parseMailto(method); err != nil {
		throwf(c.Line, "notify: %v", err)
	}
	n := Notify{Method: method, Importance: "2"}
	n.From, _ = r.tagStr(c, "from")
	if v, ok := r.tagStr(c, "importance"); ok {
		switch v {
		case "1", "2", "3":
			n.Importance = v
		default:
			throwf(c.Line, "notify: invalid :importance %q", v)
		}
	}
	if a, ok := c.Tags["options"]; ok {
		n.Options = r.expandAll(a.Strs)
	}
	if v, ok := r.tagStr(c, "message"); ok {
		n.Message = v
	} else {
		// 3.6 leaves the default to the implementation: who and what.
		n.Message = fmt.Sprintf("%s: %s", r.headerValue("From"), r.headerValue("Subject"))
	}
	n.Fcc = r.fcc(c)
	r.add(c, n)
}

// Compose builds the notification message of the mailto method (RFC 5436
// 2.7): to the URI's recipients, From the :from address or from, the
// Subject the URI's or the notification text, Auto-Submitted:
// auto-notified. It returns the recipients and the message.
func (n *Notify) Compose(now time.Time, from, messageID string) ([]string, []byte, error) {
	m, err := parseMailto(n.Method)
	if err != nil {
		return nil, nil, err
	}
	if n.From != "" {
		from = n.From
	}
	var b strings.Builder
	hdr := func(name, value string) { b.Write(Field{Name: name, Value: value}.Bytes()) }
	hdr("Date", now.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	hdr("From", from)
	hdr("To", strings.Join(m.To, ", "))
	if cc := m.Headers["cc"]; cc != "" {
		hdr("Cc", cc)
	}
	subject := m.Headers["subject"]
	if subject == "" {
		subject = n.Message
	}
	hdr("Subject", subject)
	hdr("Message-ID", messageID)
	hdr("Auto-Submitted", "auto-notified")
	switch n.Importance {
	case "1":
		hdr("Importance", "high")
		hdr("X-Priority", "1 (Highest)")
	case "3":
		hdr("Importance", "low")
		hdr("X-Priority", "5 (Lowest)")
	}
	hdr("MIME-Version", "1.0")
	body := m.Body
	if body == "" {
		body = n.Message
	}
	if isASCII(body) {
		hdr("Content-Type", "text/plain; charset=us-ascii")
	} else {
		hdr("Content-Type", "text/plain; charset=utf-8")
		hdr("Content-Transfer-Encoding", "8bit")
	}
	b.WriteString("\r\n")
	b.WriteString(crlf(body))
	if !strings.HasSuffix(body, "\n") {
		b.WriteString("\r\n")
	}
	return m.To, []byte(b.String()), nil
}
