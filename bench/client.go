package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// ioTimeout bounds every read and write, so a stuck server fails the
// workload instead of hanging the run; a SELECT of a million messages
// still fits in it.
const ioTimeout = 10 * time.Minute

// imapConn is a minimal IMAP speaker: it sends tagged commands and reads
// until the tagged reply, counting literals without keeping them.
type imapConn struct {
	c   net.Conn
	r   *bufio.Reader
	w   *bufio.Writer
	tag int
}

// reply is what came back for one command.
type reply struct {
	untagged []string // untagged lines, literals left out
	tagged   string   // the text after "tag OK"
	literal  int64    // bytes of literal data read
}

func dialIMAP(addr string) (*imapConn, error) {
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return nil, fmt.Errorf("dial IMAP %s: %w", addr, err)
	}
	ic := &imapConn{c: c, r: bufio.NewReaderSize(c, 64<<10), w: bufio.NewWriterSize(c, 64<<10)}
	ic.deadline()
	greeting, _, err := ic.readLine()
	if err != nil || !strings.HasPrefix(greeting, "* OK") {
		c.Close()
		return nil, fmt.Errorf("IMAP greeting from %s %q: %v", addr, greeting, err)
	}
	return ic, nil
}

// loginIMAP dials and logs in.
func loginIMAP(addr, user, pass string) (*imapConn, error) {
	ic, err := dialIMAP(addr)
	if err != nil {
		return nil, err
	}
	if _, err := ic.cmd("LOGIN %s %s", quote(user), quote(pass)); err != nil {
		ic.Close()
		return nil, fmt.Errorf("login %s at %s: %w", user, addr, err)
	}
	return ic, nil
}

// quote makes an IMAP quoted string.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func (ic *imapConn) deadline() { ic.c.SetDeadline(time.Now().Add(ioTimeout)) }

// readLine reads one logical response line; literals ({n}) inside it are
// read and counted but not kept.
func (ic *imapConn) readLine() (string, int64, error) {
	var sb strings.Builder
	var lit int64
	for {
		l, err := ic.r.ReadString('\n')
		if err != nil {
			return sb.String() + l, lit, err
		}
		l = strings.TrimRight(l, "\r\n")
		sb.WriteString(l)
		n, ok := literalSize(l)
		if !ok {
			return sb.String(), lit, nil
		}
		m, err := io.CopyN(io.Discard, ic.r, n)
		lit += m
		if err != nil {
			return sb.String(), lit, err
		}
	}
}

// literalSize reports the n of a line ending in {n}.
func literalSize(l string) (int64, bool) {
	if !strings.HasSuffix(l, "}") {
		return 0, false
	}
	i := strings.LastIndexByte(l, '{')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(l[i+1:len(l)-1], "+"), 10, 64)
	return n, err == nil && n >= 0
}

// send writes a tagged command and returns its tag.
func (ic *imapConn) send(format string, args ...any) (string, error) {
	ic.tag++
	tag := "b" + strconv.Itoa(ic.tag)
	ic.deadline()
	fmt.Fprintf(ic.w, "%s %s\r\n", tag, fmt.Sprintf(format, args...))
	return tag, ic.w.Flush()
}

// cmd sends a command and reads until its tagged reply, which must be OK.
func (ic *imapConn) cmd(format string, args ...any) (reply, error) {
	tag, err := ic.send(format, args...)
	if err != nil {
		return reply{}, err
	}
	return ic.wait(tag, strings.SplitN(format, " ", 2)[0])
}

// wait reads until tag's reply.
func (ic *imapConn) wait(tag, what string) (reply, error) {
	var res reply
	for {
		l, lit, err := ic.readLine()
		res.literal += lit
		if err != nil {
			return res, fmt.Errorf("%s: %w", what, err)
		}
		if rest, ok := strings.CutPrefix(l, tag+" "); ok {
			if !strings.HasPrefix(rest, "OK") {
				return res, fmt.Errorf("%s: %s", what, rest)
			}
			res.tagged = rest
			return res, nil
		}
		if strings.HasPrefix(l, "* ") {
			res.untagged = append(res.untagged, l)
		}
	}
}

// appendMsgs appends msgs to mbox in one command: MULTIAPPEND (RFC 3502)
// when there are several, with synchronizing literals so any server
// takes them.
func (ic *imapConn) appendMsgs(mbox string, msgs [][]byte) (reply, error) {
	ic.tag++
	tag := "b" + strconv.Itoa(ic.tag)
	ic.deadline()
	fmt.Fprintf(ic.w, "%s APPEND %s", tag, quote(mbox))
	for i, m := range msgs {
		fmt.Fprintf(ic.w, " () {%d}\r\n", len(m))
		if err := ic.w.Flush(); err != nil {
			return reply{}, err
		}
		l, _, err := ic.readLine()
		if err != nil {
			return reply{}, fmt.Errorf("APPEND: %w", err)
		}
		if !strings.HasPrefix(l, "+") {
			return reply{}, fmt.Errorf("APPEND message %d: %s", i, l)
		}
		ic.w.Write(m)
	}
	ic.w.WriteString("\r\n")
	if err := ic.w.Flush(); err != nil {
		return reply{}, err
	}
	return ic.wait(tag, "APPEND")
}

// idle starts IDLE and waits for the continuation.
func (ic *imapConn) idle() error {
	if _, err := ic.send("IDLE"); err != nil {
		return err
	}
	l, _, err := ic.readLine()
	if err != nil {
		return fmt.Errorf("IDLE: %w", err)
	}
	if !strings.HasPrefix(l, "+") {
		return fmt.Errorf("IDLE: %s", l)
	}
	return nil
}

func (ic *imapConn) Close() error { return ic.c.Close() }

// logout says LOGOUT and closes.
func (ic *imapConn) logout() error {
	_, err := ic.cmd("LOGOUT")
	ic.Close()
	return err
}

// count returns the number of untagged lines containing word.
func (r reply) count(word string) int {
	n := 0
	for _, l := range r.untagged {
		if strings.Contains(l, word) {
			n++
		}
	}
	return n
}

// exists is the EXISTS count of a SELECT, or -1.
func (r reply) exists() int {
	for _, l := range r.untagged {
		if rest, ok := strings.CutSuffix(l, " EXISTS"); ok {
			if n, err := strconv.Atoi(strings.TrimPrefix(rest, "* ")); err == nil {
				return n
			}
		}
	}
	return -1
}

// searchHits is the number of results of a SEARCH.
func (r reply) searchHits() int {
	n := 0
	for _, l := range r.untagged {
		if rest, ok := strings.CutPrefix(l, "* SEARCH"); ok {
			n += len(strings.Fields(rest))
		}
	}
	return n
}

// appendUID is the last UID of an APPENDUID response code (RFC 4315), or 0.
func (r reply) appendUID() uint32 {
	_, rest, ok := strings.Cut(r.tagged, "[APPENDUID ")
	if !ok {
		return 0
	}
	f := strings.Fields(strings.SplitN(rest, "]", 2)[0])
	if len(f) != 2 {
		return 0
	}
	set := f[1]
	if i := strings.LastIndexAny(set, ":,"); i >= 0 {
		set = set[i+1:]
	}
	n, _ := strconv.ParseUint(set, 10, 32)
	return uint32(n)
}

// lmtpConn is a minimal LMTP client for a service that needs no
// authentication (Cyrus's lmtpd -a, Dovecot's lmtp).
type lmtpConn struct {
	c net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

func dialLMTP(addr string) (*lmtpConn, error) {
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return nil, fmt.Errorf("dial LMTP %s: %w", addr, err)
	}
	lc := &lmtpConn{c: c, r: bufio.NewReader(c), w: bufio.NewWriterSize(c, 64<<10)}
	if err := lc.step("", "220"); err != nil {
		c.Close()
		return nil, err
	}
	if err := lc.step("LHLO bench.example", "250"); err != nil {
		c.Close()
		return nil, err
	}
	return lc, nil
}

// reply reads a (possibly multi-line) reply and returns its last line.
func (lc *lmtpConn) reply() (string, error) {
	for {
		l, err := lc.r.ReadString('\n')
		if err != nil {
			return l, fmt.Errorf("LMTP reply: %w", err)
		}
		if len(l) < 4 || l[3] != '-' {
			return strings.TrimRight(l, "\r\n"), nil
		}
	}
}

// step sends one line (if any) and wants a reply with the given code.
func (lc *lmtpConn) step(line, code string) error {
	lc.c.SetDeadline(time.Now().Add(ioTimeout))
	if line != "" {
		lc.w.WriteString(line + "\r\n")
		if err := lc.w.Flush(); err != nil {
			return err
		}
	}
	l, err := lc.reply()
	if err != nil {
		return err
	}
	if !strings.HasPrefix(l, code) {
		return fmt.Errorf("LMTP %q: %s", line, l)
	}
	return nil
}

// deliver sends one message to rcpt, dot-stuffed.
func (lc *lmtpConn) deliver(rcpt string, msg []byte) error {
	if err := lc.step("MAIL FROM:<>", "250"); err != nil {
		return err
	}
	if err := lc.step("RCPT TO:<"+rcpt+">", "250"); err != nil {
		return err
	}
	if err := lc.step("DATA", "354"); err != nil {
		return err
	}
	for len(msg) > 0 {
		i := bytes.IndexByte(msg, '\n')
		line := msg
		if i >= 0 {
			line = msg[:i+1]
		}
		if len(line) > 0 && line[0] == '.' {
			lc.w.WriteByte('.')
		}
		lc.w.Write(line)
		msg = msg[len(line):]
	}
	lc.w.WriteString(".\r\n")
	if err := lc.w.Flush(); err != nil {
		return fmt.Errorf("LMTP DATA: %w", err)
	}
	return lc.step("", "250")
}

func (lc *lmtpConn) quit() error {
	err := lc.step("QUIT", "221")
	lc.c.Close()
	return err
}

// pop3Conn is a minimal POP3 client (USER/PASS).
type pop3Conn struct {
	c net.Conn
	r *bufio.Reader
}

func loginPOP3(addr, user, pass string) (*pop3Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return nil, fmt.Errorf("dial POP3 %s: %w", addr, err)
	}
	pc := &pop3Conn{c: c, r: bufio.NewReaderSize(c, 64<<10)}
	if _, err := pc.cmd(""); err != nil {
		c.Close()
		return nil, err
	}
	if _, err := pc.cmd("USER " + user); err != nil {
		c.Close()
		return nil, err
	}
	if _, err := pc.cmd("PASS " + pass); err != nil {
		c.Close()
		return nil, fmt.Errorf("POP3 login %s at %s: %w", user, addr, err)
	}
	return pc, nil
}

// cmd sends a line (if any) and wants +OK; it returns the reply's text.
func (pc *pop3Conn) cmd(line string) (string, error) {
	pc.c.SetDeadline(time.Now().Add(ioTimeout))
	if line != "" {
		if _, err := io.WriteString(pc.c, line+"\r\n"); err != nil {
			return "", err
		}
	}
	l, err := pc.r.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("POP3 %q: %w", strings.Fields(line + " ")[0], err)
	}
	l = strings.TrimRight(l, "\r\n")
	rest, ok := strings.CutPrefix(l, "+OK")
	if !ok {
		return "", fmt.Errorf("POP3 %q: %s", strings.Fields(line + " ")[0], l)
	}
	return strings.TrimSpace(rest), nil
}

// stat returns the number of messages of the maildrop.
func (pc *pop3Conn) stat() (int, error) {
	rest, err := pc.cmd("STAT")
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.Fields(rest + " 0")[0])
	if err != nil {
		return 0, fmt.Errorf("STAT %q: %w", rest, err)
	}
	return n, nil
}

// retr reads message n and returns its size on the wire.
func (pc *pop3Conn) retr(n int) (int64, error) {
	if _, err := pc.cmd("RETR " + strconv.Itoa(n)); err != nil {
		return 0, err
	}
	var size int64
	lineStart := true
	for {
		l, err := pc.r.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull {
			return size, fmt.Errorf("RETR %d: %w", n, err)
		}
		if lineStart && err == nil && (string(l) == ".\r\n" || string(l) == ".\n") {
			return size, nil
		}
		lineStart = err == nil
		size += int64(len(l))
	}
}

func (pc *pop3Conn) quit() error {
	_, err := pc.cmd("QUIT")
	pc.c.Close()
	return err
}
