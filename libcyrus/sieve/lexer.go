package sieve

import (
	"math"
	"strings"
)

// tokenKind is a lexical element of RFC 5228 section 8.1.
type tokenKind int

const (
	tEOF tokenKind = iota
	tIdent
	tTag
	tNumber
	tString
	tLBracket
	tRBracket
	tLParen
	tRParen
	tLBrace
	tRBrace
	tComma
	tSemicolon
)

type token struct {
	kind tokenKind
	text string // identifier or tag name (lower case, tags without ":"), or a string's value
	num  uint64
	line int
}

// lexer turns a script into tokens. Line endings are CRLF after
// normalizeLines; line numbers count them.
type lexer struct {
	src  string
	pos  int
	line int
}

// syntaxErr is the message for input that does not fit the grammar; it is
// the one Cyrus gives ("line 1: syntax error"), so that clients and users
// see the same text.
const syntaxErr = "syntax error"

func (lx *lexer) fail(line int, msg string) {
	panic(&Error{Line: line, Msg: msg})
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// next returns the next token.
func (lx *lexer) next() token {
	lx.skipSpace()
	if lx.pos >= len(lx.src) {
		return token{kind: tEOF, line: lx.line}
	}
	c := lx.src[lx.pos]
	line := lx.line
	switch c {
	case '[':
		lx.pos++
		return token{kind: tLBracket, line: line}
	case ']':
		lx.pos++
		return token{kind: tRBracket, line: line}
	case '(':
		lx.pos++
		return token{kind: tLParen, line: line}
	case ')':
		lx.pos++
		return token{kind: tRParen, line: line}
	case '{':
		lx.pos++
		return token{kind: tLBrace, line: line}
	case '}':
		lx.pos++
		return token{kind: tRBrace, line: line}
	case ',':
		lx.pos++
		return token{kind: tComma, line: line}
	case ';':
		lx.pos++
		return token{kind: tSemicolon, line: line}
	case '"':
		return token{kind: tString, text: lx.quoted(), line: line}
	case ':':
		lx.pos++
		if lx.pos >= len(lx.src) || !(isAlpha(lx.src[lx.pos]) || lx.src[lx.pos] == '_') {
			lx.fail(line, syntaxErr)
		}
		return token{kind: tTag, text: strings.ToLower(lx.ident()), line: line}
	}
	if isDigit(c) {
		return token{kind: tNumber, num: lx.number(), line: line}
	}
	if isAlpha(c) || c == '_' {
		id := strings.ToLower(lx.ident())
		// RFC 5228 8.1: multi-line = "text:" *(SP / HTAB) (hash-comment / CRLF) ...
		if id == "text" && lx.pos < len(lx.src) && lx.src[lx.pos] == ':' {
			lx.pos++
			return token{kind: tString, text: lx.multiline(line), line: line}
		}
		return token{kind: tIdent, text: id, line: line}
	}
	lx.fail(line, syntaxErr)
	return token{}
}

func (lx *lexer) ident() string {
	start := lx.pos
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		if !(isAlpha(c) || isDigit(c) || c == '_') {
			break
		}
		lx.pos++
	}
	return lx.src[start:lx.pos]
}

// number reads 1*DIGIT [QUANTIFIER] (RFC 5228 2.4.1). Values past what an
// int64 holds are refused rather than wrapped.
func (lx *lexer) number() uint64 {
	line := lx.line
	var n uint64
	for lx.pos < len(lx.src) && isDigit(lx.src[lx.pos]) {
		d := uint64(lx.src[lx.pos] - '0')
		if n > (math.MaxInt64-d)/10 {
			lx.fail(line, "number too large")
		}
		n = n*10 + d
		lx.pos++
	}
	if lx.pos < len(lx.src) {
		var mul uint64
		switch lx.src[lx.pos] | 0x20 {
		case 'k':
			mul = 1 << 10
		case 'm':
			mul = 1 << 20
		case 'g':
			mul = 1 << 30
		}
		if mul != 0 {
			lx.pos++
			if n > math.MaxInt64/mul {
				lx.fail(line, "number too large")
			}
			n *= mul
		}
	}
	if lx.pos < len(lx.src) && (isAlpha(lx.src[lx.pos]) || lx.src[lx.pos] == '_') {
		lx.fail(line, syntaxErr)
	}
	return n
}

// skipSpace skips white space and comments (RFC 5228 2.3).
func (lx *lexer) skipSpace() {
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		switch {
		case c == '\n':
			lx.line++
			lx.pos++
		case c == ' ' || c == '\t' || c == '\r':
			lx.pos++
		case c == '#':
			for lx.pos < len(lx.src) && lx.src[lx.pos] != '\n' {
				lx.pos++
			}
		case c == '/' && lx.pos+1 < len(lx.src) && lx.src[lx.pos+1] == '*':
			line := lx.line
			end := strings.Index(lx.src[lx.pos+2:], "*/")
			if end < 0 {
				lx.fail(line, "unterminated comment")
			}
			body := lx.src[lx.pos : lx.pos+2+end+2]
			lx.line += strings.Count(body, "\n")
			lx.pos += len(body)
		default:
			return
		}
	}
}

// quoted reads a quoted-string (RFC 5228 2.4.2): "\\" and "\"" are the
// escapes; any other backslash is dropped and the character after it kept
// ("an undefined escape sequence ... is interpreted as if there were no
// backslash").
func (lx *lexer) quoted() string {
	line := lx.line
	lx.pos++ // opening quote
	var b strings.Builder
	start := lx.pos
	for {
		if lx.pos >= len(lx.src) {
			lx.fail(line, "unterminated string")
		}
		c := lx.src[lx.pos]
		switch c {
		case '"':
			b.WriteString(lx.src[start:lx.pos])
			lx.pos++
			return b.String()
		case '\\':
			b.WriteString(lx.src[start:lx.pos])
			lx.pos++
			if lx.pos >= len(lx.src) {
				lx.fail(line, "unterminated string")
			}
			if lx.src[lx.pos] == '\n' {
				lx.line++
			}
			start = lx.pos
			lx.pos++
		case '\n':
			lx.line++
			lx.pos++
		default:
			lx.pos++
		}
	}
}

// multiline reads the rest of a "text:" string: to the end of the line
// (which may hold a hash comment), then lines up to a line holding just
// ".", with a leading ".." standing for "." (dot-stuffing).
func (lx *lexer) multiline(line int) string {
	for lx.pos < len(lx.src) && (lx.src[lx.pos] == ' ' || lx.src[lx.pos] == '\t') {
		lx.pos++
	}
	switch {
	case strings.HasPrefix(lx.src[lx.pos:], "#"):
		for lx.pos < len(lx.src) && lx.src[lx.pos] != '\n' {
			lx.pos++
		}
	case strings.HasPrefix(lx.src[lx.pos:], "\r\n"):
		lx.pos++
	default:
		lx.fail(line, syntaxErr)
	}
	if lx.pos >= len(lx.src) {
		lx.fail(line, "unterminated multi-line string")
	}
	lx.pos++ // the LF
	lx.line++
	var b strings.Builder
	for {
		if lx.pos >= len(lx.src) {
			lx.fail(line, "unterminated multi-line string")
		}
		end := strings.IndexByte(lx.src[lx.pos:], '\n')
		var l string
		if end < 0 {
			l = lx.src[lx.pos:]
			lx.pos = len(lx.src)
		} else {
			l = lx.src[lx.pos : lx.pos+end+1]
			lx.pos += end + 1
			lx.line++
		}
		content := strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r")
		if content == "." {
			// A final "." without its CRLF is accepted: the last line
			// break of a script is often missing.
			return b.String()
		}
		if end < 0 {
			lx.fail(line, "unterminated multi-line string")
		}
		if strings.HasPrefix(content, "..") {
			content = content[1:]
		}
		b.WriteString(content)
		b.WriteString("\r\n")
	}
}

// normalizeLines makes every line end in CRLF, as Cyrus stores scripts and
// as RFC 5228 says scripts are written, so multi-line strings hold CRLF
// whatever the uploading client sent.
func normalizeLines(src []byte) string {
	if !strings.ContainsAny(string(src), "\r\n") {
		return string(src)
	}
	var b strings.Builder
	b.Grow(len(src) + len(src)/32)
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '\r':
			b.WriteString("\r\n")
			if i+1 < len(src) && src[i+1] == '\n' {
				i++
			}
		case '\n':
			b.WriteString("\r\n")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
