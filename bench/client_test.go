// Package bench holds end-to-end benchmarks: the real master runs imapd
// and lmtpd on loopback (through test/harness) and the benchmarks talk to
// them over plain sockets. They print figures and never assert on time.
package bench

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/test/harness"
)

const (
	user = "alice"
	pass = "pass"
)

// envInt reads a positive integer from the environment, or def.
func envInt(tb testing.TB, name string, def int) int {
	tb.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		tb.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

// imapConn is a minimal IMAP speaker: it sends tagged commands and reads
// until the tagged reply, skipping over literals.
type imapConn struct {
	c   net.Conn
	r   *bufio.Reader
	tag int
}

// result is what came back for one command.
type result struct {
	untagged []string // untagged lines, literals left out
	literal  int64    // bytes of literal data read
}

func dialIMAP(port int) (*imapConn, error) {
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, err
	}
	ic := &imapConn{c: c, r: bufio.NewReaderSize(c, 64<<10)}
	greeting, _, err := ic.readLine()
	if err != nil || !strings.HasPrefix(greeting, "* OK") {
		c.Close()
		return nil, fmt.Errorf("IMAP greeting %q: %v", greeting, err)
	}
	return ic, nil
}

// loginErr dials and logs alice in.
func loginErr(port int) (*imapConn, error) {
	ic, err := dialIMAP(port)
	if err != nil {
		return nil, err
	}
	if _, err := ic.cmd("LOGIN %s %s", user, pass); err != nil {
		ic.Close()
		return nil, err
	}
	return ic, nil
}

// login is loginErr for the benchmark's own goroutine.
func login(tb testing.TB, port int) *imapConn {
	tb.Helper()
	ic, err := loginErr(port)
	if err != nil {
		tb.Fatal(err)
	}
	return ic
}

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
	return n, err == nil
}

// send writes a tagged command and returns its tag.
func (ic *imapConn) send(format string, args ...any) (string, error) {
	ic.tag++
	tag := "b" + strconv.Itoa(ic.tag)
	_, err := fmt.Fprintf(ic.c, "%s %s\r\n", tag, fmt.Sprintf(format, args...))
	return tag, err
}

// cmd sends a command and reads until its tagged reply, which must be OK.
func (ic *imapConn) cmd(format string, args ...any) (result, error) {
	var res result
	tag, err := ic.send(format, args...)
	if err != nil {
		return res, err
	}
	for {
		l, lit, err := ic.readLine()
		res.literal += lit
		if err != nil {
			return res, err
		}
		if rest, ok := strings.CutPrefix(l, tag+" "); ok {
			if !strings.HasPrefix(rest, "OK") {
				return res, fmt.Errorf("%s: %s", strings.SplitN(format, " ", 2)[0], rest)
			}
			return res, nil
		}
		if strings.HasPrefix(l, "* ") {
			res.untagged = append(res.untagged, l)
		}
	}
}

func (ic *imapConn) must(tb testing.TB, format string, args ...any) result {
	tb.Helper()
	res, err := ic.cmd(format, args...)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// idle starts IDLE and waits for the continuation.
func (ic *imapConn) idle() error {
	if _, err := ic.send("IDLE"); err != nil {
		return err
	}
	l, _, err := ic.readLine()
	if err != nil {
		return err
	}
	if !strings.HasPrefix(l, "+") {
		return fmt.Errorf("IDLE: %s", l)
	}
	return nil
}

func (ic *imapConn) Close() error { return ic.c.Close() }

// count returns the number of untagged lines containing word.
func (r result) count(word string) int {
	n := 0
	for _, l := range r.untagged {
		if strings.Contains(l, word) {
			n++
		}
	}
	return n
}

// lmtpConn is a minimal LMTP client for the pre-authorized (-a) service.
type lmtpConn struct {
	c net.Conn
	r *bufio.Reader
}

// reply reads a (possibly multi-line) reply and returns its last line.
func (lc *lmtpConn) reply() (string, error) {
	for {
		l, err := lc.r.ReadString('\n')
		if err != nil {
			return l, err
		}
		if len(l) < 4 || l[3] != '-' {
			return strings.TrimRight(l, "\r\n"), nil
		}
	}
}

// step sends one line (if any) and wants a reply with the given code.
func (lc *lmtpConn) step(line, code string) error {
	if line != "" {
		if _, err := io.WriteString(lc.c, line+"\r\n"); err != nil {
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

// deliverRange delivers message(i) to alice for i in [from, to) over one
// LMTP session.
func deliverRange(port, from, to int) error {
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return err
	}
	defer c.Close()
	lc := &lmtpConn{c: c, r: bufio.NewReader(c)}
	if err := lc.step("", "220"); err != nil {
		return err
	}
	if err := lc.step("LHLO bench.example", "250"); err != nil {
		return err
	}
	w := bufio.NewWriterSize(c, 32<<10)
	for i := from; i < to; i++ {
		if err := lc.step("MAIL FROM:<>", "250"); err != nil {
			return err
		}
		if err := lc.step("RCPT TO:<"+user+">", "250"); err != nil {
			return err
		}
		if err := lc.step("DATA", "354"); err != nil {
			return err
		}
		for _, l := range strings.SplitAfter(message(i), "\r\n") {
			if strings.HasPrefix(l, ".") {
				w.WriteByte('.')
			}
			w.WriteString(l)
		}
		w.WriteString(".\r\n")
		if err := w.Flush(); err != nil {
			return err
		}
		if err := lc.step("", "250"); err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
	}
	return lc.step("QUIT", "221")
}

// Words that the search benchmarks look for: every tenth message has
// searchSubject in its Subject and every seventh searchBody in its text.
const (
	searchSubject = "Zanzibar"
	searchBody    = "quokka"
)

var filler = strings.Fields(`the quarterly report shows revenue growth across
all regions while operating costs remained stable please review the attached
figures before the meeting on thursday and send any comments to the finance
team we expect the integration work to finish next month pending approval of
the budget for infrastructure and staffing in the new office`)

// message builds message i: a multipart/alternative MIME message of 4 to
// 20 KB (text and HTML parts), deterministic in i.
func message(i int) string {
	rng := rand.New(rand.NewPCG(uint64(i), 42))
	size := 4096 + rng.IntN(16*1024)
	subject := fmt.Sprintf("Status update %d", i)
	if i%10 == 0 {
		subject += " " + searchSubject
	}
	var text strings.Builder
	for text.Len() < size/2 {
		for j := 0; j < 12; j++ {
			text.WriteString(filler[rng.IntN(len(filler))])
			text.WriteByte(' ')
		}
		text.WriteString("\r\n")
	}
	if i%7 == 0 {
		text.WriteString("Also, the " + searchBody + " arrived.\r\n")
	}
	body := text.String()
	html := "<html><body><p>" + strings.ReplaceAll(body, "\r\n", "</p>\r\n<p>") + "</p></body></html>\r\n"
	date := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
	b := "=_bench_" + strconv.Itoa(i)
	return "From: Sender " + strconv.Itoa(i%50) + " <sender" + strconv.Itoa(i%50) + "@example.com>\r\n" +
		"To: Alice <alice@example.com>\r\n" +
		"Subject: " + subject + "\r\n" +
		"Date: " + date.Format(time.RFC1123Z) + "\r\n" +
		"Message-ID: <bench." + strconv.Itoa(i) + "@example.com>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=\"" + b + "\"\r\n" +
		"\r\n" +
		"--" + b + "\r\n" +
		"Content-Type: text/plain; charset=us-ascii\r\n\r\n" + body +
		"--" + b + "\r\n" +
		"Content-Type: text/html; charset=us-ascii\r\n\r\n" + html +
		"--" + b + "--\r\n"
}

// startMailbox starts master and fills alice's INBOX with n messages; it
// returns the server once the INBOX holds them all.
func startMailbox(b *testing.B, n int, conf string) *harness.Mail {
	b.Helper()
	m := harness.StartMail(b, harness.MailOptions{Users: map[string]string{user: pass}, ImapdConf: conf})
	// Logging in once creates the INBOX (autocreate_quota: 0).
	ic := login(b, m.IMAP)
	defer ic.Close()
	if n == 0 {
		return m
	}
	const workers = 4
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		from, to := n*w/workers, n*(w+1)/workers
		wg.Go(func() {
			if err := deliverRange(m.LMTP, from, to); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	res := ic.must(b, "SELECT INBOX")
	if got := res.count("* " + strconv.Itoa(n) + " EXISTS"); got != 1 {
		b.Fatalf("INBOX after delivery: %q, want %d EXISTS", res.untagged, n)
	}
	return m
}
