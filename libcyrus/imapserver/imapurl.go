package imapserver

// IMAP URLs (RFC 5092) as CATENATE takes them (RFC 4469 3): messages and
// message parts of this server that the session's user may read.

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/message"
)

// catURL is a parsed RFC 5092 message or message-part URL.
type catURL struct {
	mailbox     string // decoded (UTF-8), external form; "" for the selected one
	uidValidity uint32
	uid         uint32
	section     message.SectionSpec
	wholeMsg    bool // no section
	partial     bool
	offset      int64
	length      int64 // -1: to the end
}

// badURL is the answer to a URL that cannot be used (RFC 4469 4.1). The
// URL goes in the response code; "]" and control characters, which
// url-resp-text cannot hold, are percent-encoded.
func badURL(u, text string) *result {
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c == ']' || c < 0x20 || c == 0x7f || c >= 0x80 && !utf8.ValidString(u) {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	r := no("BADURL "+b.String(), text)
	return &r
}

// parseCatURL parses u: an absolute IMAP URL of this server and user
// ("imap://user@host/INBOX/;UID=1"), an absolute path ("/INBOX;UIDVALIDITY=5/;UID=1/;SECTION=1.MIME"),
// or, with a mailbox selected, a path relative to it (";UID=1").
// Parameter names are case-insensitive; URLAUTH and other parameters are
// not supported.
func (ss *session) parseCatURL(u string) (*catURL, string) {
	const malformed = "Improperly specified URL"
	path := u
	if len(u) >= 7 && strings.EqualFold(u[:7], "imap://") {
		rest := u[7:]
		slash := strings.IndexByte(rest, '/')
		if slash < 0 {
			return nil, malformed
		}
		auth, hostPort := "", rest[:slash]
		if at := strings.LastIndexByte(hostPort, '@'); at >= 0 {
			auth, hostPort = hostPort[:at], hostPort[at+1:]
		}
		host := hostPort
		if colon := strings.LastIndexByte(hostPort, ':'); colon >= 0 {
			host = hostPort[:colon]
		}
		user := auth
		if semi := strings.IndexByte(auth, ';'); semi >= 0 {
			user = auth[:semi]
		}
		user, err := url.PathUnescape(user)
		if err != nil || !strings.EqualFold(host, ss.srv.serverName) || user != "" && user != ss.user {
			return nil, "Only URLs of this server and user are supported"
		}
		path = rest[slash:]
	} else if i := strings.IndexAny(u, ":"); i >= 0 && !strings.ContainsAny(u[:i], "/;") {
		return nil, "Only IMAP URLs are supported"
	}
	var cu catURL
	cu.length = -1
	var params string
	switch {
	case strings.HasPrefix(path, "/"):
		i := indexFold(path, "/;UID=")
		if i < 0 {
			return nil, malformed
		}
		mbox := path[1:i]
		params = path[i+2:]
		if j := indexFold(mbox, ";UIDVALIDITY="); j >= 0 {
			n, err := strconv.ParseUint(mbox[j+len(";UIDVALIDITY="):], 10, 32)
			if err != nil || n == 0 {
				return nil, malformed
			}
			cu.uidValidity = uint32(n)
			mbox = mbox[:j]
		}
		name, err := url.PathUnescape(mbox)
		if err != nil || name == "" || !utf8.ValidString(name) {
			return nil, malformed
		}
		cu.mailbox = name
	case hasPrefixFold(path, ";UID="):
		if ss.mbox == nil {
			return nil, "No mailbox is selected or specified"
		}
		params = path[1:]
	default:
		return nil, malformed
	}
	for k, p := range strings.Split(params, "/;") {
		eq := strings.IndexByte(p, '=')
		if eq < 0 {
			return nil, malformed
		}
		name, val := strings.ToUpper(p[:eq]), p[eq+1:]
		switch {
		case k == 0 && name == "UID":
			n, err := strconv.ParseUint(val, 10, 32)
			if err != nil || n == 0 {
				return nil, malformed
			}
			cu.uid = uint32(n)
		case k == 1 && name == "SECTION":
			sec, err := url.PathUnescape(val)
			if err != nil || !parseURLSection(sec, &cu.section) {
				return nil, malformed
			}
		case k >= 1 && name == "PARTIAL" && !cu.partial:
			off, n, ok := strings.Cut(val, ".")
			o, err := strconv.ParseInt(off, 10, 64)
			if err != nil || o < 0 {
				return nil, malformed
			}
			cu.partial, cu.offset = true, o
			if ok {
				l, err := strconv.ParseInt(n, 10, 64)
				if err != nil || l <= 0 {
					return nil, malformed
				}
				cu.length = l
			}
		default:
			return nil, malformed
		}
	}
	cu.wholeMsg = len(cu.section.Path) == 0 && cu.section.Specifier == ""
	return &cu, ""
}

// parseURLSection parses the decoded enc-section of a URL (RFC 5092 3:
// the section of RFC 3501 without its brackets).
func parseURLSection(s string, sp *message.SectionSpec) bool {
	tok, fields, hasFields := strings.Cut(s, " ")
	if parseSectionText(tok, sp) != nil {
		return false
	}
	isFields := strings.HasPrefix(sp.Specifier, "HEADER.FIELDS")
	if isFields != hasFields {
		return false
	}
	if !isFields {
		return true
	}
	if !strings.HasPrefix(fields, "(") || !strings.HasSuffix(fields, ")") {
		return false
	}
	for _, f := range strings.Fields(fields[1 : len(fields)-1]) {
		if !validFieldName(f) {
			return false
		}
		sp.Fields = append(sp.Fields, f)
	}
	return len(sp.Fields) > 0
}

func indexFold(s, sub string) int {
	return strings.Index(strings.ToUpper(s), strings.ToUpper(sub))
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// openCatURL opens what u names: a reader of its bytes, their number and
// the message file to close after; res is the BADURL answer when u cannot
// be used.
func (ss *session) openCatURL(u string) (rd io.Reader, size int64, closer io.Closer, res *result) {
	cu, why := ss.parseCatURL(u)
	if cu == nil {
		return nil, 0, nil, badURL(u, why)
	}
	name := ss.mboxName
	if cu.mailbox != "" {
		var err error
		name, err = ss.ns.ToInternal(cu.mailbox, ss.user)
		if err != nil {
			return nil, 0, nil, badURL(u, textNoSuchTarget)
		}
	}
	// A mailbox of its own, read-only, even when it is the selected one:
	// its view is fresh and the session's is left alone.
	m, err := ss.srv.store.Open(ss.id, name, mailbox.OpenOptions{ReadOnly: true})
	if err != nil {
		switch mailbox.CodeOf(err) {
		case mailbox.CodeNonexistent:
			return nil, 0, nil, badURL(u, textNoSuchTarget)
		case mailbox.CodeNoPerm:
			return nil, 0, nil, badURL(u, "Permission denied")
		}
		return nil, 0, nil, badURL(u, storeResult(err).text)
	}
	defer m.Close()
	if m.Rights()&acl.Read == 0 {
		return nil, 0, nil, badURL(u, "Permission denied")
	}
	if cu.uidValidity != 0 && cu.uidValidity != m.Entry().UIDValidity {
		return nil, 0, nil, badURL(u, "Uidvalidity of mailbox has changed")
	}
	seq := m.SeqOf(cu.uid)
	var rec mailbox.Record
	if seq != 0 {
		rec, err = m.Record(seq)
	}
	if seq == 0 || err != nil || rec.Expunged() {
		return nil, 0, nil, badURL(u, "No such message in mailbox")
	}
	f, err := m.OpenMessage(&rec)
	if err != nil {
		return nil, 0, nil, badURL(u, "No such message in mailbox")
	}
	var sr sizedReader = io.NewSectionReader(f, 0, int64(rec.Size))
	if !cu.wholeMsg {
		sr = nil
		data, err := m.CacheData(&rec)
		var sum *message.Summary
		if err == nil {
			sum, err = message.Unmarshal(data)
		}
		if err == nil {
			var ref message.SectionRef
			if ref, err = sum.Resolve(cu.section); err == nil {
				var r io.Reader
				if r, err = ref.Reader(f); err == nil {
					sr, _ = r.(sizedReader)
				}
			}
		}
		if sr == nil {
			f.Close()
			return nil, 0, nil, badURL(u, "No such message part")
		}
	}
	size = sr.Size()
	if cu.partial {
		start := min(cu.offset, size)
		n := size - start
		if cu.length >= 0 {
			n = min(n, cu.length)
		}
		if _, err := sr.Seek(start, io.SeekStart); err != nil {
			f.Close()
			return nil, 0, nil, badURL(u, "No such message part")
		}
		return io.LimitReader(sr, n), n, f, nil
	}
	return sr, size, f, nil
}
