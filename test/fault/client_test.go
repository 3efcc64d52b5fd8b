package fault

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// ioTimeout bounds every client read and write, so a server that hangs
// fails the test instead of stalling it.
const ioTimeout = 30 * time.Second

// imapClient is a minimal IMAP client: tagged commands, literals both
// ways, responses as whole lines with their literals inlined.
type imapClient struct {
	c   net.Conn
	r   *bufio.Reader
	tag int
}

func dialIMAP(addr string) (*imapClient, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	ic := &imapClient{c: c, r: bufio.NewReader(c)}
	c.SetDeadline(time.Now().Add(ioTimeout))
	greet, err := ic.readResp()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if !strings.HasPrefix(greet, "* OK") {
		c.Close()
		return nil, fmt.Errorf("greeting %q", greet)
	}
	return ic, nil
}

// loginIMAP dials and logs in.
func loginIMAP(addr, user, pass string) (*imapClient, error) {
	ic, err := dialIMAP(addr)
	if err != nil {
		return nil, err
	}
	if _, err := ic.ok("LOGIN %s %s", user, pass); err != nil {
		ic.Close()
		return nil, err
	}
	return ic, nil
}

func (ic *imapClient) Close() error { return ic.c.Close() }

// readResp reads one response line, with any literals it announces
// inlined (the literal bytes follow the {n} marker and a CRLF).
func (ic *imapClient) readResp() (string, error) {
	var b strings.Builder
	for {
		line, err := ic.r.ReadString('\n')
		if err != nil {
			return "", err
		}
		b.WriteString(line)
		t := strings.TrimRight(line, "\r\n")
		if !strings.HasSuffix(t, "}") {
			return strings.TrimRight(b.String(), "\r\n"), nil
		}
		i := strings.LastIndexByte(t, '{')
		n, err := strconv.Atoi(t[i+1 : len(t)-1])
		if i < 0 || err != nil {
			return strings.TrimRight(b.String(), "\r\n"), nil
		}
		lit := make([]byte, n)
		if _, err := io.ReadFull(ic.r, lit); err != nil {
			return "", err
		}
		b.Write(lit)
	}
}

// cmd sends a tagged command and returns the untagged responses and the
// tagged one (without the tag).
func (ic *imapClient) cmd(format string, args ...any) ([]string, string, error) {
	ic.tag++
	tag := "a" + strconv.Itoa(ic.tag)
	ic.c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := fmt.Fprintf(ic.c, "%s %s\r\n", tag, fmt.Sprintf(format, args...)); err != nil {
		return nil, "", err
	}
	return ic.collect(tag)
}

func (ic *imapClient) collect(tag string) ([]string, string, error) {
	var untagged []string
	for {
		l, err := ic.readResp()
		if err != nil {
			return untagged, "", err
		}
		if rest, ok := strings.CutPrefix(l, tag+" "); ok {
			return untagged, rest, nil
		}
		untagged = append(untagged, l)
	}
}

// ok is cmd that wants an OK.
func (ic *imapClient) ok(format string, args ...any) ([]string, error) {
	u, tagged, err := ic.cmd(format, args...)
	if err != nil {
		return u, err
	}
	if !strings.HasPrefix(tagged, "OK") {
		return u, fmt.Errorf("%s: %s", strings.Fields(format)[0], tagged)
	}
	return u, nil
}

// append sends APPEND with a synchronizing literal and returns the tagged
// response.
func (ic *imapClient) append(mbox string, msg []byte) (string, error) {
	ic.tag++
	tag := "a" + strconv.Itoa(ic.tag)
	ic.c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := fmt.Fprintf(ic.c, "%s APPEND %s {%d}\r\n", tag, mbox, len(msg)); err != nil {
		return "", err
	}
	l, err := ic.readResp()
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(l, "+") {
		if rest, ok := strings.CutPrefix(l, tag+" "); ok {
			return rest, nil
		}
		return "", fmt.Errorf("APPEND: %q instead of a continuation", l)
	}
	if _, err := ic.c.Write(append(msg, '\r', '\n')); err != nil {
		return "", err
	}
	_, tagged, err := ic.collect(tag)
	return tagged, err
}

// exists is the EXISTS count among untagged responses (the last one).
func exists(untagged []string) int {
	n := -1
	for _, l := range untagged {
		f := strings.Fields(l)
		if len(f) == 3 && f[0] == "*" && f[2] == "EXISTS" {
			n, _ = strconv.Atoi(f[1])
		}
	}
	return n
}

// fetched is one message as fetchAll sees it.
type fetched struct {
	uid       int
	size      int
	messageID string
}

// fetchAll selects mbox and returns every message's UID, size and
// Message-ID.
func (ic *imapClient) fetchAll(mbox string) ([]fetched, error) {
	u, err := ic.ok("EXAMINE %s", mbox)
	if err != nil {
		return nil, err
	}
	if exists(u) == 0 {
		return nil, nil
	}
	u, err = ic.ok("FETCH 1:* (UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
	if err != nil {
		return nil, err
	}
	var out []fetched
	for _, l := range u {
		if !strings.Contains(l, " FETCH (") {
			continue
		}
		var f fetched
		f.uid = intAfter(l, "UID ")
		f.size = intAfter(l, "RFC822.SIZE ")
		if i := strings.Index(l, "Message-ID:"); i >= 0 {
			rest := l[i+len("Message-ID:"):]
			if j := strings.IndexAny(rest, "\r\n"); j >= 0 {
				rest = rest[:j]
			}
			f.messageID = strings.TrimSpace(rest)
		}
		out = append(out, f)
	}
	return out, nil
}

func intAfter(s, key string) int {
	i := strings.Index(s, key)
	if i < 0 {
		return -1
	}
	s = s[i+len(key):]
	j := 0
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	n, _ := strconv.Atoi(s[:j])
	return n
}

// lmtpClient speaks LMTP (RFC 2033) on one connection.
type lmtpClient struct {
	c net.Conn
	r *bufio.Reader
}

func dialLMTP(addr string) (*lmtpClient, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	lc := &lmtpClient{c: c, r: bufio.NewReader(c)}
	c.SetDeadline(time.Now().Add(ioTimeout))
	if code, text, err := lc.reply(); err != nil || code != 220 {
		c.Close()
		return nil, fmt.Errorf("greeting %d %q: %v", code, text, err)
	}
	if code, text, err := lc.cmd("LHLO fault.test"); err != nil || code != 250 {
		c.Close()
		return nil, fmt.Errorf("LHLO %d %q: %v", code, text, err)
	}
	return lc, nil
}

func (lc *lmtpClient) Close() error { return lc.c.Close() }

// reply reads one (possibly multi-line) reply.
func (lc *lmtpClient) reply() (int, string, error) {
	var text []string
	for {
		l, err := lc.r.ReadString('\n')
		if err != nil {
			return 0, strings.Join(text, "\n"), err
		}
		l = strings.TrimRight(l, "\r\n")
		if len(l) < 4 {
			return 0, l, fmt.Errorf("short reply %q", l)
		}
		text = append(text, l[4:])
		if l[3] == ' ' {
			code, err := strconv.Atoi(l[:3])
			return code, strings.Join(text, "\n"), err
		}
	}
}

func (lc *lmtpClient) cmd(line string) (int, string, error) {
	lc.c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(lc.c, line+"\r\n"); err != nil {
		return 0, "", err
	}
	return lc.reply()
}

// errNoRecipient is a transaction where every RCPT was refused.
var errNoRecipient = errors.New("no recipient accepted")

// deliver runs one transaction and returns the reply code of each
// recipient (the RCPT reply if refused, the DATA reply otherwise).
func (lc *lmtpClient) deliver(from string, rcpts []string, msg []byte) (map[string]int, error) {
	if code, text, err := lc.cmd("MAIL FROM:<" + from + ">"); err != nil || code != 250 {
		return nil, fmt.Errorf("MAIL %d %q: %v", code, text, err)
	}
	codes := map[string]int{}
	var ok []string
	for _, r := range rcpts {
		code, _, err := lc.cmd("RCPT TO:<" + r + ">")
		if err != nil {
			return nil, err
		}
		codes[r] = code
		if code == 250 {
			ok = append(ok, r)
		}
	}
	if len(ok) == 0 {
		lc.cmd("RSET")
		return codes, errNoRecipient
	}
	code, text, err := lc.cmd("DATA")
	if err != nil {
		return nil, err
	}
	if code != 354 {
		return nil, fmt.Errorf("DATA %d %q", code, text)
	}
	if _, err := lc.c.Write(dotStuff(msg)); err != nil {
		return nil, err
	}
	for _, r := range ok {
		code, _, err := lc.reply()
		if err != nil {
			return nil, err
		}
		codes[r] = code
	}
	return codes, nil
}

// dotStuff makes msg a DATA body: CRLF lines, leading dots doubled, the
// final ".".
func dotStuff(msg []byte) []byte {
	var b bytes.Buffer
	for _, l := range bytes.SplitAfter(msg, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		if l[0] == '.' {
			b.WriteByte('.')
		}
		b.Write(l)
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	b.WriteString(".\r\n")
	return b.Bytes()
}

// message builds a small message with a unique Message-ID and a body of
// about size bytes.
func message(id string, size int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: sender@example.com\r\nTo: rcpt@example.com\r\nSubject: fault %s\r\nMessage-ID: %s\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\n\r\n", id, id)
	line := strings.Repeat("abcdefghij", 7) + "\r\n"
	for b.Len() < size {
		b.WriteString(line)
	}
	return b.Bytes()
}
