package imapserver

import (
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchMessages is the mailbox size of BenchmarkSortThread:
// CYRUSGO_SORT_BENCH_N, or 10,000. Filling the mailbox is the slow part
// (every append is made durable with fsync), about a minute per 10,000
// messages on a quiet disk; the 100,000-message figures of the algorithms
// alone are the benchmarks of packages msgsort and msgthread.
func benchMessages() int {
	if n, err := strconv.Atoi(os.Getenv("CYRUSGO_SORT_BENCH_N")); err == nil && n > 0 {
		return n
	}
	return 10000
}

// BenchmarkSortThread answers SORT and THREAD over a mailbox in-process:
// the whole path of the command, with every key read from the cache
// file, as a client sees it. The messages form threads
// (a third start one, the others reply to an earlier one) and have
// varied senders, subjects, dates and sizes.
func BenchmarkSortThread(b *testing.B) {
	n := benchMessages()
	e := newTestEnv(b, nil)
	e.create("user.alice")
	m, err := e.store.OpenForDelivery("user.alice")
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewSource(1))
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	start := time.Now()
	for i := 0; i < n; i++ {
		subject, refs := fmt.Sprintf("topic %d", r.Intn(n/5+1)), ""
		if i > 0 && r.Intn(3) != 0 {
			p := r.Intn(i)
			subject = fmt.Sprintf("Re: topic %d", p)
			refs = fmt.Sprintf("References: <%d@example.com>\r\n", p)
		}
		msg := fmt.Sprintf("From: User %d <u%d@example.com>\r\nTo: t%d@example.org\r\n"+
			"Subject: %s\r\nDate: %s\r\nMessage-ID: <%d@example.com>\r\n%s\r\n%s\r\n",
			r.Intn(1000), r.Intn(1000), r.Intn(100), subject,
			t0.Add(time.Duration(r.Intn(1<<20))*time.Second).Format(time.RFC1123Z), i, refs,
			strings.Repeat("x", r.Intn(2000)))
		if _, err := m.AppendReader(strings.NewReader(msg), nil, t0.Add(time.Duration(i)*time.Second), 0); err != nil {
			b.Fatal(err)
		}
	}
	m.Close()
	b.Logf("%d messages delivered in %v", n, time.Since(start).Round(time.Millisecond))

	c := e.dial()
	c.mustOK("l", "LOGIN alice secret")
	c.mustOK("s", "SELECT INBOX")
	for _, command := range []string{
		"SORT (ARRIVAL) UTF-8 ALL",
		"SORT (SUBJECT DATE) UTF-8 ALL",
		"UID SORT (REVERSE FROM SIZE) UTF-8 ALL",
		"SORT (DISPLAYFROM) UTF-8 UNSEEN",
		"THREAD ORDEREDSUBJECT UTF-8 ALL",
		"THREAD REFERENCES UTF-8 ALL",
	} {
		b.Run(strings.ReplaceAll(command, " ", "_"), func(b *testing.B) {
			size := 0
			for b.Loop() {
				size = slowCmd(b, c, "t "+command)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/command")
			b.ReportMetric(float64(size), "response-bytes")
		})
	}
}

// slowCmd runs a command whose answer may take longer than the usual
// read deadline and returns the size of its answer.
func slowCmd(b *testing.B, c *testConn, line string) int {
	c.send(line)
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Minute))
	br := c.br
	size := 0
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			b.Fatalf("%s: %v", line, err)
		}
		size += len(l)
		if strings.HasPrefix(l, "t ") {
			if !strings.HasPrefix(l, "t OK") {
				b.Fatalf("%s: %s", line, l)
			}
			return size
		}
	}
}
