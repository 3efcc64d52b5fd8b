package sieve

import (
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/message"
)

// unspecifiedDomain is what message.ParseAddressList reports as the host
// of an address without one.
const unspecifiedDomain = "unspecified-domain"

// parseAddresses returns the addr-specs ("local@domain", or "local" for
// an address without a domain) of an address-list header value; group
// markers are skipped (RFC 5228 2.7.4: groups are not addresses).
func parseAddresses(v string) []string {
	var out []string
	for _, a := range message.ParseAddressList(v) {
		if !a.Host.Valid {
			continue
		}
		if a.Host.S == unspecifiedDomain || a.Host.S == "" {
			out = append(out, a.Mailbox.S)
			continue
		}
		out = append(out, a.Mailbox.S+"@"+a.Host.S)
	}
	return out
}

// addressPart extracts an ADDRESS-PART (RFC 5228 2.7.4; RFC 5233 4 with
// "+" as the separator, as Cyrus uses). ok is false when the part does
// not exist (":detail" of an address without "+"): such an address
// matches no key.
func addressPart(addr, part string) (string, bool) {
	local, domain := addr, ""
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		local, domain = addr[:i], addr[i+1:]
	}
	switch part {
	case "localpart":
		return local, true
	case "domain":
		return domain, true
	case "user":
		if i := strings.IndexByte(local, '+'); i >= 0 {
			return local[:i], true
		}
		return local, true
	case "detail":
		if i := strings.IndexByte(local, '+'); i >= 0 {
			return local[i+1:], true
		}
		return "", false
	}
	return addr, true
}

// validAddress checks a redirect target: an RFC 5322 addr-spec,
// optionally in angle brackets, with a domain (RFC 5228 4.2).
func validAddress(s string) bool {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") {
		s = s[1 : len(s)-1]
	}
	i := strings.LastIndexByte(s, '@')
	if i <= 0 || i == len(s)-1 || len(s) > 998 {
		return false
	}
	local, domain := s[:i], s[i+1:]
	if strings.HasPrefix(local, `"`) {
		if len(local) < 2 || !strings.HasSuffix(local, `"`) {
			return false
		}
	} else {
		for _, atom := range strings.Split(local, ".") {
			if atom == "" || !isAtext(atom) {
				return false
			}
		}
	}
	if strings.HasPrefix(domain, "[") && strings.HasSuffix(domain, "]") {
		return true
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || !isAtext(label) {
			return false
		}
	}
	return true
}

// isAtext: RFC 5322 3.2.3 atext.
func isAtext(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlpha(c) || isDigit(c) || c >= 0x80 || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// validMailbox checks a :from parameter (RFC 5230 4.3: "a valid [RFC2822]
// mailbox-list"): one or more addresses, each with a domain.
func validMailbox(s string) bool {
	addrs := parseAddresses(s)
	if len(addrs) == 0 {
		return false
	}
	for _, a := range addrs {
		if !validAddress(a) {
			return false
		}
	}
	return true
}

// sameAddress compares addresses the way mail systems match a recipient:
// the domain case-blind, the local part case-blind as Cyrus does.
func sameAddress(a, b string) bool {
	return strings.EqualFold(strings.Trim(a, "<> "), strings.Trim(b, "<> "))
}
