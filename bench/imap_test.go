package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fetchMessages is the size of the mailbox of the FETCH benchmarks.
const fetchMessages = 1000

// searchMessages is the size of the mailbox of the SEARCH and SELECT
// benchmarks: CYRUSGO_BENCH_MESSAGES, default 2000. Every message is
// delivered over LMTP with fsync before the timed part, so a 100,000
// message run (the figure a large mailbox calls for) takes minutes of setup.
func searchMessages(b *testing.B) int { return envInt(b, "CYRUSGO_BENCH_MESSAGES", 2000) }

// idleConns is the number of IDLE sessions of BenchmarkIdleConnections:
// CYRUSGO_BENCH_CONNS, default 200.
func idleConns(b *testing.B) int { return envInt(b, "CYRUSGO_BENCH_CONNS", 200) }

func skipShort(b *testing.B) {
	if testing.Short() {
		b.Skip("end-to-end benchmark; skipped with -short")
	}
}

// BenchmarkIMAPFetchHeaders fetches three header fields of every message
// of a 1000-message INBOX per op, over one open session.
func BenchmarkIMAPFetchHeaders(b *testing.B) {
	skipShort(b)
	m := startMailbox(b, fetchMessages, "")
	ic := login(b, m.IMAP)
	defer ic.Close()
	ic.must(b, "SELECT INBOX")
	for b.Loop() {
		res, err := ic.cmd("UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])")
		if err != nil {
			b.Fatal(err)
		}
		if n := res.count(" FETCH "); n != fetchMessages {
			b.Fatalf("%d FETCH responses, want %d", n, fetchMessages)
		}
	}
	b.ReportMetric(float64(fetchMessages*b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkIMAPFetchBodies fetches the whole of 100 messages per op.
func BenchmarkIMAPFetchBodies(b *testing.B) {
	skipShort(b)
	m := startMailbox(b, fetchMessages, "")
	ic := login(b, m.IMAP)
	defer ic.Close()
	ic.must(b, "SELECT INBOX")
	var bytes int64
	for b.Loop() {
		res, err := ic.cmd("FETCH 1:100 BODY.PEEK[]")
		if err != nil {
			b.Fatal(err)
		}
		if n := res.count(" FETCH "); n != 100 {
			b.Fatalf("%d FETCH responses, want 100", n)
		}
		bytes += res.literal
	}
	b.ReportMetric(float64(bytes)/1e6/b.Elapsed().Seconds(), "MB/s")
}

// BenchmarkIMAPSearch runs SEARCH over the whole INBOX
// (CYRUSGO_BENCH_MESSAGES messages): on the Subject header, and on the
// body text, which means reading every message file.
func BenchmarkIMAPSearch(b *testing.B) {
	skipShort(b)
	n := searchMessages(b)
	m := startMailbox(b, n, "")
	ic := login(b, m.IMAP)
	defer ic.Close()
	ic.must(b, "SELECT INBOX")
	for _, c := range []struct{ name, key string }{
		{"Subject", "SUBJECT " + searchSubject},
		{"Body", "BODY " + searchBody},
	} {
		b.Run(fmt.Sprintf("%s/N=%d", c.name, n), func(b *testing.B) {
			var hits int
			for b.Loop() {
				res, err := ic.cmd("SEARCH %s", c.key)
				if err != nil {
					b.Fatal(err)
				}
				hits = 0
				for _, l := range res.untagged {
					if rest, ok := strings.CutPrefix(l, "* SEARCH"); ok {
						hits += len(strings.Fields(rest))
					}
				}
				if hits == 0 {
					b.Fatalf("SEARCH %s found nothing", c.key)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
			b.ReportMetric(float64(hits), "hits")
		})
	}
}

// BenchmarkIMAPSelect selects the INBOX (CYRUSGO_BENCH_MESSAGES messages)
// once per op, over one session.
func BenchmarkIMAPSelect(b *testing.B) {
	skipShort(b)
	n := searchMessages(b)
	m := startMailbox(b, n, "")
	ic := login(b, m.IMAP)
	defer ic.Close()
	b.Run("N="+strconv.Itoa(n), func(b *testing.B) {
		for b.Loop() {
			ic.must(b, "SELECT INBOX")
		}
		b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/select")
	})
}

// BenchmarkIdleConnections holds CYRUSGO_BENCH_CONNS sessions logged in
// and IDLEing on the INBOX, and sums the resident memory (VmRSS) of every
// imapd process master runs. imap_client_limit is raised to 50: that is
// cyrusgo's multi-session mode, where one imapd process serves many
// sessions; with imap_client_limit 1 there would be one process per
// connection, as in Cyrus. 50 rather than 100 because an IDLE session
// holds about 3.5 descriptors and the service's maxfds defaults to 256,
// as in Cyrus: at 100 a process runs out of descriptors near 70 sessions.
// One op opens, logs in and starts IDLE on all the connections, then
// closes them.
func BenchmarkIdleConnections(b *testing.B) {
	skipShort(b)
	k := idleConns(b)
	m := startMailbox(b, 10, "imap_client_limit: 50\n")
	var kib, procs int
	for b.Loop() {
		conns := make([]*imapConn, k)
		var wg sync.WaitGroup
		errs := make(chan error, k)
		// A few dialers at a time, not k at once: master's listen backlog.
		sem := make(chan struct{}, 16)
		for i := range conns {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				ic, err := loginErr(m.IMAP)
				if err != nil {
					errs <- err
					return
				}
				conns[i] = ic
				if _, err := ic.cmd("SELECT INBOX"); err != nil {
					errs <- err
					return
				}
				if err := ic.idle(); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		b.StopTimer()
		var failed error
		for err := range errs {
			failed = err
		}
		if failed != nil {
			closeAll(conns)
			b.Fatal(failed)
		}
		kib, procs = 0, 0
		for _, svc := range []string{"imap", "imaps"} {
			for _, p := range m.ServiceChildren(svc) {
				kib += vmRSS(p.Pid)
				procs++
			}
		}
		closeAll(conns)
		b.StartTimer()
	}
	b.ReportMetric(float64(kib)/float64(k), "KiB/conn")
	b.ReportMetric(float64(kib)/1024, "MiB-total")
	b.ReportMetric(float64(procs), "imapd-procs")
}

// vmRSS is a process's resident set in KiB (0 if it is gone).
func vmRSS(pid int) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.Atoi(f[0])
				return n
			}
		}
	}
	return 0
}
