package main

import (
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/cyrusgo/cyrusgo/test/harness"
)

// The go test -bench benchmarks (imap_test.go) start master through
// test/harness, deliver their mailbox to alice over LMTP and talk IMAP
// over plain sockets with the program's own clients.
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

// loginErr dials and logs alice in.
func loginErr(port int) (*imapConn, error) { return loginIMAP(harness.Addr(port), user, pass) }

// login is loginErr for the benchmark's own goroutine.
func login(tb testing.TB, port int) *imapConn {
	tb.Helper()
	ic, err := loginErr(port)
	if err != nil {
		tb.Fatal(err)
	}
	return ic
}

func (ic *imapConn) must(tb testing.TB, format string, args ...any) reply {
	tb.Helper()
	res, err := ic.cmd(format, args...)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// deliverRange delivers message(i) to alice for i in [from, to) over one
// LMTP session.
func deliverRange(port, from, to int) error {
	lc, err := dialLMTP(harness.Addr(port))
	if err != nil {
		return err
	}
	for i := from; i < to; i++ {
		if err := lc.deliver(user, message(i, "gotest")); err != nil {
			lc.c.Close()
			return err
		}
	}
	return lc.quit()
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
	if got := res.exists(); got != n {
		b.Fatalf("INBOX after delivery: %q, want %d EXISTS", res.untagged, n)
	}
	return m
}

func closeAll(conns []*imapConn) {
	for _, ic := range conns {
		if ic != nil {
			ic.Close()
		}
	}
}
