package managesieve

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The wire syntax of RFC 5804 section 4: a command is an atom followed by
// strings and numbers separated by single spaces and ended by CRLF;
// strings are quoted ("..." with \" and \\) or literals ({n+} CRLF and n
// octets). Literals the client announces without "+" ({n}) are read the
// same way, as Cyrus does: ManageSieve has no continuation request.

// clientError is a malformed command: the server answers NO with the
// message and skips the rest of the line.
type clientError struct{ msg string }

func (e *clientError) Error() string { return e.msg }

func syntaxf(format string, args ...any) error {
	return &clientError{msg: fmt.Sprintf(format, args...)}
}

// tooLongError is a string longer than the command allows; its literal
// was read and thrown away, so the line can be finished normally.
type tooLongError struct {
	size, max int64
}

func (e *tooLongError) Error() string {
	return fmt.Sprintf("string of %d octets is longer than %d", e.size, e.max)
}

// errFatalInput ends the session: input no reader can resynchronise on
// (a literal too large to skip).
var errFatalInput = errors.New("input too large")

// Limits of the wire.
const (
	maxQuoted = 1024 // RFC 5804 4: quoted = DQUOTE *1024QUOTED-CHAR DQUOTE
	maxAtom   = 1024
	maxName   = 1024
	// maxSkip bounds a literal that is read only to be thrown away.
	maxSkip = 64 << 20
)

// reader reads commands from the client.
type reader struct {
	br *bufio.Reader
}

func (r *reader) peek() (byte, error) {
	b, err := r.br.Peek(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

// atom reads ATOM-CHARs (RFC 5804 4).
func (r *reader) atom() (string, error) {
	var b strings.Builder
	for {
		c, err := r.peek()
		if err != nil {
			return "", err
		}
		if c <= ' ' || c >= 0x7f || c == '(' || c == ')' || c == '{' || c == '"' || c == '\\' {
			break
		}
		r.br.ReadByte()
		b.WriteByte(c)
		if b.Len() > maxAtom {
			return "", syntaxf("atom too long")
		}
	}
	if b.Len() == 0 {
		return "", syntaxf("Expected a command. Got something else.")
	}
	return b.String(), nil
}

// sp consumes one space.
func (r *reader) sp(what string) error {
	c, err := r.peek()
	if err != nil {
		return err
	}
	if c != ' ' {
		return syntaxf("%s", what)
	}
	r.br.ReadByte()
	return nil
}

// atEOL reports whether the line ends here (CRLF, or a bare LF).
func (r *reader) atEOL() (bool, error) {
	c, err := r.peek()
	if err != nil {
		return false, err
	}
	return c == '\r' || c == '\n', nil
}

// eol consumes the line end.
func (r *reader) eol() error {
	c, err := r.peek()
	if err != nil {
		return err
	}
	switch c {
	case '\r':
		r.br.ReadByte()
		c, err = r.peek()
		if err != nil {
			return err
		}
		if c != '\n' {
			return syntaxf("Expected EOL")
		}
		r.br.ReadByte()
		return nil
	case '\n':
		r.br.ReadByte()
		return nil
	}
	return syntaxf("Expected EOL")
}

// number reads a number (RFC 5804 4: 32-bit unsigned).
func (r *reader) number() (uint64, error) {
	var b strings.Builder
	for {
		c, err := r.peek()
		if err != nil {
			return 0, err
		}
		if c < '0' || c > '9' {
			break
		}
		r.br.ReadByte()
		b.WriteByte(c)
		if b.Len() > 10 {
			return 0, syntaxf("Expected Number")
		}
	}
	n, err := strconv.ParseUint(b.String(), 10, 32)
	if err != nil {
		return 0, syntaxf("Expected Number")
	}
	return n, nil
}

// isString reports whether a string starts here.
func (r *reader) isString() (bool, error) {
	c, err := r.peek()
	if err != nil {
		return false, err
	}
	return c == '"' || c == '{', nil
}

// str reads a quoted string or a literal of at most max octets. A longer
// literal is read and discarded (up to maxSkip, past which the session
// cannot go on) and reported as a *tooLongError.
func (r *reader) str(max int64, what string) (string, error) {
	c, err := r.peek()
	if err != nil {
		return "", err
	}
	switch c {
	case '"':
		return r.quoted()
	case '{':
		n, err := r.literalHeader()
		if err != nil {
			return "", err
		}
		if n > max {
			if err := r.discard(n); err != nil {
				return "", err
			}
			return "", &tooLongError{size: n, max: max}
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(r.br, buf); err != nil {
			return "", err
		}
		return string(buf), nil
	}
	return "", syntaxf("%s", what)
}

// literalHeader reads "{" number ["+"] "}" CRLF.
func (r *reader) literalHeader() (int64, error) {
	r.br.ReadByte() // {
	n, err := r.number()
	if err != nil {
		return 0, err
	}
	c, err := r.peek()
	if err != nil {
		return 0, err
	}
	if c == '+' {
		r.br.ReadByte()
	}
	if c, err = r.peek(); err != nil {
		return 0, err
	}
	if c != '}' {
		return 0, syntaxf("Invalid literal")
	}
	r.br.ReadByte()
	if err := r.eol(); err != nil {
		if _, ok := err.(*clientError); ok {
			return 0, syntaxf("Invalid literal")
		}
		return 0, err
	}
	return int64(n), nil
}

func (r *reader) discard(n int64) error {
	if n > maxSkip {
		return errFatalInput
	}
	_, err := io.CopyN(io.Discard, r.br, n)
	return err
}

// quoted reads a quoted string: no CR, LF or NUL inside, "\" quotes only
// DQUOTE and "\" (RFC 5804 4: QUOTED-CHAR).
func (r *reader) quoted() (string, error) {
	r.br.ReadByte() // "
	var b strings.Builder
	for {
		c, err := r.br.ReadByte()
		if err != nil {
			return "", err
		}
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			c, err = r.br.ReadByte()
			if err != nil {
				return "", err
			}
			if c != '"' && c != '\\' {
				r.br.UnreadByte()
				return "", syntaxf("Invalid escape in quoted string")
			}
		case '\r', '\n', 0:
			r.br.UnreadByte()
			return "", syntaxf("Invalid character in quoted string")
		}
		b.WriteByte(c)
		if b.Len() > maxQuoted {
			return "", syntaxf("Quoted string too long")
		}
	}
}

// skipLine discards the rest of a command after an error, literals
// included: a line ending in "{n}" or "{n+}" announces n octets that
// belong to the command, and the command goes on after them.
func (r *reader) skipLine() error {
	var tail []byte
	for {
		c, err := r.br.ReadByte()
		if err != nil {
			return err
		}
		if c != '\n' {
			if len(tail) < 32 {
				tail = append(tail, c)
			} else {
				tail = append(tail[1:], c)
			}
			continue
		}
		line := strings.TrimSuffix(string(tail), "\r")
		tail = tail[:0]
		n, ok := literalAtEnd(line)
		if !ok {
			return nil
		}
		if err := r.discard(n); err != nil {
			return err
		}
	}
}

// literalAtEnd recognises a literal announcement at the end of a line.
func literalAtEnd(line string) (int64, bool) {
	if !strings.HasSuffix(line, "}") {
		return 0, false
	}
	open := strings.LastIndexByte(line, '{')
	if open < 0 {
		return 0, false
	}
	num := strings.TrimSuffix(line[open+1:len(line)-1], "+")
	n, err := strconv.ParseUint(num, 10, 32)
	if err != nil {
		return 0, false
	}
	return int64(n), true
}

// quote renders s as a quoted string when it can be one, otherwise as a
// literal (RFC 5804 4: quoted strings hold no CR, LF or NUL).
func quote(s string) string {
	if len(s) > maxQuoted || strings.ContainsAny(s, "\r\n\x00") {
		return literal(s)
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// literal renders s as a server-to-client literal, {n} CRLF s.
func literal(s string) string {
	return "{" + strconv.Itoa(len(s)) + "}\r\n" + s
}
