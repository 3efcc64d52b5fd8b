package msgsort

import (
	"fmt"
	"math/rand"
	"testing"
	"time"
)

// synthSubjects is a mailbox's worth of raw subjects: list tags, replies,
// forwards, encoded words and plain text, with many repeats.
func synthSubjects(n int, r *rand.Rand) []string {
	leaders := []string{"", "", "Re: ", "RE: Re: ", "Fwd: ", "[list] ", "[list] Re: ", "Re[2]: "}
	out := make([]string, n)
	for i := range out {
		base := fmt.Sprintf("topic number %d about things", r.Intn(n/10+1))
		switch r.Intn(20) {
		case 0:
			base = "=?utf-8?q?caf=C3=A9_" + fmt.Sprint(r.Intn(100)) + "?="
		case 1:
			base = "Ünïcödé " + base
		case 2:
			base += " (fwd)"
		}
		out[i] = leaders[r.Intn(len(leaders))] + base
	}
	return out
}

// synthMsgs builds n messages as the IMAP server does from cached
// summaries: base subject extracted, sent date normalised.
func synthMsgs(n int) []Msg {
	r := rand.New(rand.NewSource(1))
	subjects := synthSubjects(n, r)
	names := []string{"", "Alice", "Bob Brown", "Zoë", "carol"}
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	msgs := make([]Msg, n)
	for i := range msgs {
		base, _ := BaseSubject(subjects[i])
		arrival := t0.Add(time.Duration(i) * time.Minute)
		msgs[i] = Msg{
			Seq:     uint32(i + 1),
			Arrival: arrival,
			Sent:    SentDate(arrival.Add(-time.Duration(r.Intn(3600))*time.Second), arrival),
			Size:    int64(500 + r.Intn(100000)),
			Subject: base,
			From:    Addr{Name: names[r.Intn(len(names))], Mailbox: fmt.Sprintf("user%d", r.Intn(500)), Host: "example.com"},
			To:      Addr{Mailbox: fmt.Sprintf("user%d", r.Intn(50)), Host: "example.org"},
		}
	}
	return msgs
}

// BenchmarkSort100k sorts 100,000 messages by several programs, as SORT
// does after the search: the CaseMap of every string key and the sort.
func BenchmarkSort100k(b *testing.B) {
	msgs := synthMsgs(100000)
	for _, prog := range [][]Criterion{
		{{Key: Arrival}},
		{{Key: Date, Reverse: true}},
		{{Key: Subject}, {Key: Date}},
		{{Key: From}, {Key: Size, Reverse: true}},
		{{Key: DisplayFrom}},
	} {
		name := ""
		for _, c := range prog {
			if c.Reverse {
				name += "REVERSE_"
			}
			name += c.Key.String() + "_"
		}
		b.Run(name[:len(name)-1], func(b *testing.B) {
			work := make([]Msg, len(msgs))
			b.ReportAllocs()
			for b.Loop() {
				copy(work, msgs)
				Sort(work, prog)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/sort")
		})
	}
}

// BenchmarkBaseSubject100k extracts 100,000 base subjects, the per-message
// cost THREAD pays on top of the cached summary.
func BenchmarkBaseSubject100k(b *testing.B) {
	subjects := synthSubjects(100000, rand.New(rand.NewSource(1)))
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range subjects {
			BaseSubject(s)
		}
	}
}
