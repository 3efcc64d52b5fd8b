package message

import "strings"

// unspecifiedDomain is the host Cyrus reports for an address without one
// ("To: alice" gives (NIL NIL "alice" "unspecified-domain")).
const unspecifiedDomain = "unspecified-domain"

// ParseAddressList parses an RFC 5322 3.4 address-list (From, To, Cc, ...)
// into ENVELOPE addresses (RFC 3501 7.4.2), leniently and with the results
// Cyrus gives for the malformed lists found in real mail:
//
//   - a display name is the phrase with quotes removed and blanks and
//     comments collapsed to single spaces, not RFC 2047-decoded;
//   - a bare addr-spec takes its trailing comment as the name
//     ("joe@example.com (Joe)");
//   - a word without "@" is a mailbox in "unspecified-domain";
//   - "name: a, b;" gives a start-of-group marker, the members, and an
//     end-of-group marker, also when the ";" is missing;
//   - a source route "<@r1,@r2:joe@example.com>" goes to the adl.
func ParseAddressList(s string) []Address {
	a := addrScanner{s: s}
	var out []Address
	ingroup := false
	groupEnd := Address{}
	for tok := byte(' '); tok != 0; {
		specials := ",@<:"
		if ingroup {
			specials = ",@<;"
		}
		var phrase string
		phrase, tok = a.phrase(specials)
		switch tok {
		case ',', 0, ';':
			if phrase != "" {
				out = append(out, mkAddr("", "", phrase, ""))
			}
			if tok == ';' {
				out = append(out, groupEnd)
				ingroup = false
			}
		case ':':
			out = append(out, Address{Mailbox: Str(phrase)})
			ingroup = true
		case '@':
			var domain, comment string
			domain, comment, tok = a.domain(true)
			out = append(out, mkAddr(comment, "", phrase, domain))
			if tok == ';' {
				out = append(out, groupEnd)
				ingroup = false
			}
		case '<':
			var mailbox string
			mailbox, tok = a.phrase("@>")
			if tok != '@' {
				out = append(out, mkAddr(phrase, "", mailbox, ""))
				continue
			}
			route := ""
			if mailbox == "" {
				a.i-- // the "@" starts the route
				route, tok = a.route()
				if tok != ':' {
					out = append(out, mkAddr(phrase, route, "", ""))
					tok = a.skipTo('>', tok)
					continue
				}
				mailbox, tok = a.phrase("@>")
				if tok != '@' {
					out = append(out, mkAddr(phrase, route, mailbox, ""))
					continue
				}
			}
			var domain string
			domain, _, tok = a.domain(false)
			out = append(out, mkAddr(phrase, route, mailbox, domain))
			tok = a.skipTo('>', tok)
		}
	}
	if ingroup {
		out = append(out, groupEnd)
	}
	return out
}

func mkAddr(name, route, mailbox, host string) Address {
	a := Address{Mailbox: Str(mailbox), Host: Str(host)}
	if name != "" {
		a.Name = Str(name)
	}
	if route != "" {
		a.ADL = Str(route)
	}
	if host == "" {
		a.Host = Str(unspecifiedDomain)
	}
	return a
}

type addrScanner struct {
	s string
	i int
}

// next returns the next byte, or 0 at the end (a NUL also ends the input).
func (a *addrScanner) next() byte {
	if a.i >= len(a.s) {
		a.i = len(a.s) + 1
		return 0
	}
	c := a.s[a.i]
	a.i++
	if c == 0 {
		a.i = len(a.s) + 1
	}
	return c
}

// skipTo consumes up to and including the byte want.
func (a *addrScanner) skipTo(want, tok byte) byte {
	for tok != 0 && tok != want {
		tok = a.next()
	}
	return tok
}

func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}

func isAlnum(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// skipWhite skips blanks and comments.
func (a *addrScanner) skipWhite() {
	for a.i < len(a.s) {
		c := a.s[a.i]
		switch {
		case c == '(':
			depth := 0
			for a.i < len(a.s) {
				c := a.s[a.i]
				a.i++
				switch {
				case c == '\\' && a.i < len(a.s):
					a.i++
				case c == '(':
					depth++
				case c == ')':
					depth--
				}
				if depth == 0 {
					break
				}
			}
		case isCSpace(c):
			a.i++
		default:
			return
		}
	}
}

// phrase reads words and quoted strings up to one of specials, the end, or
// an unbalanced quote (which ends the list: tok 0, phrase "").
func (a *addrScanner) phrase(specials string) (string, byte) {
	a.skipWhite()
	var b strings.Builder
	for {
		c := a.next()
		switch {
		case c == '"':
			closed := false
			for a.i < len(a.s) {
				c = a.s[a.i]
				a.i++
				if c == '\\' && strings.HasPrefix(a.s[a.i:], "\r\n") {
					// A backslash before CRLF is dropped.
					c = '\r'
					a.i++
				}
				if c == '\r' && a.i < len(a.s) && a.s[a.i] == '\n' {
					a.i++
					if a.i < len(a.s) && isWSP(a.s[a.i]) {
						continue // folding inside the quotes
					}
					return "", 0 // the field ended inside the quotes
				}
				if c < 0x20 || c == 0x7f {
					if c == '\r' || c == '\n' {
						c = ' '
					} else if c != '\t' {
						continue
					}
				}
				if c == '"' {
					closed = true
					break
				}
				if c == '\\' {
					if a.i >= len(a.s) {
						return "", 0
					}
					c = a.s[a.i]
					a.i++
				}
				b.WriteByte(c)
			}
			if !closed {
				return "", 0
			}
		case c != 0 && (isCSpace(c) || c == '('):
			a.i--
			a.skipWhite()
			b.WriteByte(' ')
		case c == 0 || strings.IndexByte(specials, c) >= 0:
			return strings.TrimSuffix(b.String(), " "), c
		default:
			b.WriteByte(c)
		}
	}
}

// domain reads a domain; with wantComment it also returns a comment that
// follows it (the display name of "joe@example.com (Joe)").
func (a *addrScanner) domain(wantComment bool) (domain, comment string, tok byte) {
	a.skipWhite()
	var b []byte
	for {
		c := a.next()
		switch {
		case isAlnum(c) || c == '-' || c == '[' || c == ']' || c == ':' || c > 127:
			b = append(b, c)
			comment = ""
		case c == '.':
			if len(b) > 0 && b[len(b)-1] != '.' {
				b = append(b, c)
			}
			comment = ""
		case c == '(' && wantComment:
			var cb []byte
			depth := 1
			for depth > 0 && a.i < len(a.s) {
				c = a.s[a.i]
				a.i++
				switch {
				case c == '(':
					depth++
				case c == ')':
					depth--
				case c == '\\' && a.i < len(a.s):
					c = a.s[a.i]
					a.i++
				}
				if depth > 0 {
					cb = append(cb, c)
				}
			}
			comment = string(cb)
		case c == '(':
			a.i--
			a.skipWhite()
		case c == '@':
			// A second "@": garbage, kept as Cyrus keeps it.
			b = append(b, c)
			comment = ""
		case c == 0 || !isCSpace(c):
			for len(b) > 0 && b[len(b)-1] == '.' {
				b = b[:len(b)-1]
			}
			return string(b), comment, c
		}
	}
}

// route reads an obsolete source route (RFC 5322 4.4 obs-route).
func (a *addrScanner) route() (string, byte) {
	a.skipWhite()
	var b []byte
	for {
		c := a.next()
		switch {
		case isAlnum(c) || c == '-' || c == '[' || c == ']' || c == ',' || c == '@':
			b = append(b, c)
		case c == '.':
			if len(b) > 0 && b[len(b)-1] != '.' {
				b = append(b, c)
			}
		case c != 0 && (isCSpace(c) || c == '('):
			a.i--
			a.skipWhite()
		default:
			for len(b) > 0 && (b[len(b)-1] == '.' || b[len(b)-1] == ',' || b[len(b)-1] == '@') {
				b = b[:len(b)-1]
			}
			return string(b), c
		}
	}
}
