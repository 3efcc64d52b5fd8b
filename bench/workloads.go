package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sizes are the knobs of the workloads (flags of the same names).
type sizes struct {
	LMTPMessages  int // messages of lmtp1 and lmtp8
	LMTPConns     int // connections of lmtp8
	LargeMessages int // messages of lmtp1mb
	LargeSize     int // bytes of each
	Clients       int // concurrent IMAP clients of imap-mix
	Sessions      int // sessions of imap-mix in all
	MixMessages   int // messages of the imap-mix mailbox
	Idle          int // connections of imap-idle
	Big           int // messages of the select-big mailbox
	Search        int // messages of the search mailbox
	POP3          int // messages at least in INBOX for pop3
	Repeat        int // repetitions of select-big and search commands
}

// bench is one run: the sizes, the progress bar and a nonce that keeps
// the Message-IDs of LMTP deliveries unique across runs (duplicate
// suppression would otherwise drop them).
type bench struct {
	sz  sizes
	pr  *progress
	run string
}

// workload is one thing to measure.
type workload struct {
	name  string
	needs []string // protocols: "imap", "lmtp", "pop3"
	fills []string // bench mailboxes it reads
	fn    func(b *bench, s *server) ([]result, error)
}

// Bench mailbox names under the user's personal namespace.
const (
	mboxBig    = "bench-big"
	mboxSearch = "bench-search"
	mboxMix    = "bench-mix"
)

func allWorkloads() []workload {
	return []workload{
		{"lmtp1", []string{"lmtp"}, nil, func(b *bench, s *server) ([]result, error) {
			return b.lmtp(s, "lmtp1", 1, b.sz.LMTPMessages, func(i int) []byte { return message(i, b.run+".l1") })
		}},
		{"lmtp8", []string{"lmtp"}, nil, func(b *bench, s *server) ([]result, error) {
			return b.lmtp(s, "lmtp8", b.sz.LMTPConns, b.sz.LMTPMessages, func(i int) []byte { return message(i, b.run+".l8") })
		}},
		{"lmtp1mb", []string{"lmtp"}, nil, func(b *bench, s *server) ([]result, error) {
			return b.lmtp(s, "lmtp1mb", 1, b.sz.LargeMessages, func(i int) []byte { return largeMessage(i, b.run+".lg", b.sz.LargeSize) })
		}},
		{"imap-mix", []string{"imap"}, []string{mboxMix}, (*bench).mix},
		{"imap-idle", []string{"imap"}, nil, (*bench).idle},
		{"select-big", []string{"imap"}, []string{mboxBig}, (*bench).selectBig},
		{"search", []string{"imap"}, []string{mboxSearch}, (*bench).search},
		{"pop3", []string{"pop3", "imap"}, nil, (*bench).pop3},
	}
}

// fillOf says how a bench mailbox is made.
func (b *bench) fillOf(name string) fill {
	switch name {
	case mboxBig:
		return fill{name: name, n: b.sz.Big, gen: func(i int) []byte { return smallMessage(i, "big") }}
	case mboxSearch:
		return fill{name: name, n: b.sz.Search, gen: func(i int) []byte { return message(i, "search") }}
	default:
		return fill{name: name, n: b.sz.MixMessages, gen: func(i int) []byte { return message(i, "mix") }}
	}
}

// has reports whether s offers every protocol w needs.
func (w workload) runsOn(s *server) bool {
	for _, p := range w.needs {
		if (p == "imap" && s.imap == "") || (p == "lmtp" && s.lmtp == "") || (p == "pop3" && s.pop3 == "") {
			return false
		}
	}
	return true
}

// lmtp delivers n messages over conns connections; one op is one message.
func (b *bench) lmtp(s *server, name string, conns, n int, gen func(int) []byte) ([]result, error) {
	var rec recorder
	b.pr.begin(name+" "+s.name, n)
	defer b.pr.end()
	start := time.Now()
	err := parallel(conns, func(w int) error {
		lc, err := dialLMTP(s.lmtp)
		if err != nil {
			return err
		}
		for i := n * w / conns; i < n*(w+1)/conns; i++ {
			msg := gen(i)
			err := rec.time(1, func() (int64, error) { return int64(len(msg)), lc.deliver(s.rcpt, msg) })
			if err != nil {
				lc.c.Close()
				return fmt.Errorf("deliver message %d: %w", i, err)
			}
			b.pr.add(1)
		}
		return lc.quit()
	})
	if err != nil {
		return nil, err
	}
	r := rec.summary(name, "message", time.Since(start))
	r.Note = fmt.Sprintf("%d conn", conns)
	return []result{s.withMem(r)}, nil
}

// parallel runs fn(0..n-1) at once and returns the first error.
func parallel(n int, fn func(i int) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			if err := fn(i); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// mix runs IMAP sessions from several clients at once. One op is one
// session of nine commands: LOGIN, SELECT, FETCH the envelopes of the
// last 20 messages, FETCH one whole message, SEARCH, STORE \Seen, APPEND
// a message, STORE \Deleted on it and EXPUNGE, LOGOUT. The APPEND and the
// EXPUNGE keep the mailbox's size.
func (b *bench) mix(s *server) ([]result, error) {
	var rec recorder
	mbox := s.mailbox(mboxMix)
	b.pr.begin("imap-mix "+s.name, b.sz.Sessions)
	defer b.pr.end()
	start := time.Now()
	clients := max(1, min(b.sz.Clients, b.sz.Sessions))
	err := parallel(clients, func(c int) error {
		rng := rand.New(rand.NewPCG(uint64(c), 9))
		for k := c; k < b.sz.Sessions; k += clients {
			err := rec.time(1, func() (int64, error) { return b.session(s, mbox, rng, k) })
			if err != nil {
				return fmt.Errorf("session %d: %w", k, err)
			}
			b.pr.add(1)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	r := rec.summary("imap-mix", "session", time.Since(start))
	r.Note = fmt.Sprintf("%d clients, 9 cmds/session", clients)
	return []result{s.withMem(r)}, nil
}

// session is one imap-mix session; it returns the message bytes fetched.
func (b *bench) session(s *server, mbox string, rng *rand.Rand, k int) (int64, error) {
	ic, err := loginIMAP(s.imap, s.user, s.pass)
	if err != nil {
		return 0, err
	}
	defer ic.Close()
	res, err := ic.cmd("SELECT %s", quote(mbox))
	if err != nil {
		return 0, err
	}
	n := res.exists()
	if n <= 0 {
		return 0, fmt.Errorf("SELECT %s: %d messages", mbox, n)
	}
	if _, err := ic.cmd("FETCH %d:%d (ENVELOPE FLAGS INTERNALDATE RFC822.SIZE)", max(1, n-19), n); err != nil {
		return 0, err
	}
	res, err = ic.cmd("FETCH %d (BODY.PEEK[])", 1+rng.IntN(n))
	if err != nil {
		return 0, err
	}
	fetched := res.literal
	if _, err := ic.cmd("SEARCH SUBJECT %s", searchSubject); err != nil {
		return 0, err
	}
	if _, err := ic.cmd("STORE %d +FLAGS.SILENT (\\Seen)", 1+rng.IntN(n)); err != nil {
		return 0, err
	}
	run := b.run + ".mix" + strconv.Itoa(k)
	res, err = ic.appendMsgs(mbox, [][]byte{message(k, run)})
	if err != nil {
		return 0, err
	}
	uid := res.appendUID()
	if uid == 0 {
		// No UIDPLUS: find it by its Message-ID.
		res, err := ic.cmd("UID SEARCH HEADER Message-ID %s", quote("bench."+run+"."+strconv.Itoa(k)))
		if err != nil {
			return 0, err
		}
		for _, l := range res.untagged {
			if f := strings.Fields(strings.TrimPrefix(l, "* SEARCH")); len(f) > 0 {
				u, _ := strconv.ParseUint(f[len(f)-1], 10, 32)
				uid = uint32(u)
			}
		}
		if uid == 0 {
			return 0, fmt.Errorf("appended message %d not found", k)
		}
	}
	if _, err := ic.cmd("UID STORE %d +FLAGS.SILENT (\\Deleted)", uid); err != nil {
		return 0, err
	}
	if _, err := ic.cmd("EXPUNGE"); err != nil {
		return 0, err
	}
	_, err = ic.cmd("LOGOUT")
	return fetched, err
}

// idle holds connections logged in and IDLEing on INBOX, and measures
// the memory they add to the server. One op is setting up one connection
// (connect, LOGIN, SELECT, IDLE), 16 at a time.
func (b *bench) idle(s *server) ([]result, error) {
	k := b.sz.Idle
	before, memErr := s.mem()
	var rec recorder
	conns := make([]*imapConn, k)
	defer func() {
		for _, ic := range conns {
			if ic != nil {
				ic.Close()
			}
		}
	}()
	b.pr.begin("imap-idle "+s.name, k)
	start := time.Now()
	sem := make(chan struct{}, 16)
	err := parallel(k, func(i int) error {
		sem <- struct{}{}
		defer func() { <-sem }()
		return rec.time(0, func() (int64, error) {
			ic, err := loginIMAP(s.imap, s.user, s.pass)
			if err != nil {
				return 0, err
			}
			conns[i] = ic
			if _, err := ic.cmd("SELECT INBOX"); err != nil {
				return 0, err
			}
			b.pr.add(1)
			return 0, ic.idle()
		})
	})
	elapsed := time.Since(start)
	b.pr.end()
	if err != nil {
		return nil, err
	}
	// Let the server settle (a process forked for the last connections).
	time.Sleep(500 * time.Millisecond)
	r := s.withMem(rec.summary("imap-idle", "connection", elapsed))
	if memErr == nil && r.RSSKiB > 0 && k > 0 {
		r.RSSPerConnKiB = float64(r.RSSKiB-before.RSS) / float64(k)
		r.PssPerConnKiB = float64(r.PssKiB-before.Pss) / float64(k)
	}
	r.Note = fmt.Sprintf("%d conns idle", k)
	return []result{r}, nil
}

// selectBig SELECTs the big mailbox and FETCHes 1:* (FLAGS) of it,
// Repeat times each over one session. One op is one command.
func (b *bench) selectBig(s *server) ([]result, error) {
	ic, err := loginIMAP(s.imap, s.user, s.pass)
	if err != nil {
		return nil, err
	}
	defer ic.logout()
	mbox := s.mailbox(mboxBig)
	var sel, fetch recorder
	var n int
	b.pr.begin("select-big "+s.name, 2*b.sz.Repeat)
	defer b.pr.end()
	start := time.Now()
	for range b.sz.Repeat {
		t := time.Now()
		res, err := ic.cmd("SELECT %s", quote(mbox))
		if err != nil {
			return nil, err
		}
		n = res.exists()
		sel.add(time.Since(t), int64(n), 0)
		b.pr.add(1)
	}
	selElapsed := time.Since(start)
	start = time.Now()
	for range b.sz.Repeat {
		t := time.Now()
		res, err := ic.cmd("FETCH 1:* (FLAGS)")
		if err != nil {
			return nil, err
		}
		if got := res.count(" FETCH "); got != n {
			return nil, fmt.Errorf("FETCH 1:* (FLAGS): %d responses, want %d", got, n)
		}
		fetch.add(time.Since(t), int64(n), 0)
		b.pr.add(1)
	}
	fetchElapsed := time.Since(start)
	note := fmt.Sprintf("%d msgs", n)
	r1 := sel.summary("select-big", "SELECT", selElapsed)
	r2 := fetch.summary("fetch-flags-big", "FETCH", fetchElapsed)
	r1.Note, r2.Note = note, note
	return []result{s.withMem(r1), s.withMem(r2)}, nil
}

// search runs SEARCH over the search mailbox: on a header (every tenth
// message matches) and on the body text (every seventh), which reads
// every message. One op is one SEARCH.
func (b *bench) search(s *server) ([]result, error) {
	ic, err := loginIMAP(s.imap, s.user, s.pass)
	if err != nil {
		return nil, err
	}
	defer ic.logout()
	res, err := ic.cmd("SELECT %s", quote(s.mailbox(mboxSearch)))
	if err != nil {
		return nil, err
	}
	n := res.exists()
	var out []result
	b.pr.begin("search "+s.name, 2*b.sz.Repeat)
	defer b.pr.end()
	for _, q := range []struct{ name, key string }{
		{"search-subject", "SUBJECT " + searchSubject},
		{"search-body", "BODY " + searchBody},
	} {
		var rec recorder
		var hits int
		start := time.Now()
		for range b.sz.Repeat {
			t := time.Now()
			res, err := ic.cmd("SEARCH %s", q.key)
			if err != nil {
				return nil, err
			}
			if hits = res.searchHits(); hits == 0 && n >= 10 {
				return nil, fmt.Errorf("SEARCH %s found nothing in %d messages", q.key, n)
			}
			rec.add(time.Since(t), int64(n), 0)
			b.pr.add(1)
		}
		r := rec.summary(q.name, "SEARCH", time.Since(start))
		r.Note = fmt.Sprintf("%d msgs, %d hits", n, hits)
		out = append(out, s.withMem(r))
	}
	return out, nil
}

// pop3 retrieves every message of INBOX over one POP3 session, after
// topping INBOX up to POP3 messages over IMAP. One op is one RETR.
func (b *bench) pop3(s *server) ([]result, error) {
	ic, err := loginIMAP(s.imap, s.user, s.pass)
	if err != nil {
		return nil, err
	}
	f := fill{name: "INBOX", n: b.sz.POP3, gen: func(i int) []byte { return message(i, b.run+".pop") }}
	err = populateIMAP(ic, "INBOX", f, b.pr)
	ic.logout()
	if err != nil {
		return nil, err
	}
	pc, err := loginPOP3(s.pop3, s.user, s.pass)
	if err != nil {
		return nil, err
	}
	defer pc.quit()
	n, err := pc.stat()
	if err != nil {
		return nil, err
	}
	var rec recorder
	b.pr.begin("pop3 "+s.name, n)
	defer b.pr.end()
	start := time.Now()
	for i := 1; i <= n; i++ {
		if err := rec.time(1, func() (int64, error) { return pc.retr(i) }); err != nil {
			return nil, err
		}
		b.pr.add(1)
	}
	r := rec.summary("pop3", "RETR", time.Since(start))
	r.Note = fmt.Sprintf("%d msgs", n)
	return []result{s.withMem(r)}, nil
}
