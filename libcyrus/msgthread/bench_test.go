package msgthread

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/msgsort"
)

// synthMailbox builds n messages that form threads the way mailing lists
// do: about a third start a thread, the rest reply to an earlier message
// (References carry its ancestry, cut to the last ten ids, sometimes lost
// so that only In-Reply-To is left), some parents are missing from the
// mailbox, and subjects repeat.
func synthMailbox(n int) []Msg {
	r := rand.New(rand.NewSource(1))
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	msgs := make([]Msg, n)
	refs := make([][]string, n)
	for i := range msgs {
		id := fmt.Sprintf("<%d@example.com>", i)
		subject := fmt.Sprintf("topic %d", r.Intn(n/5+1))
		var chain []string
		if i > 0 && r.Intn(3) != 0 {
			p := r.Intn(i)
			subject = "Re: " + msgs[p].Subject
			chain = append(slices.Clone(refs[p]), msgs[p].MessageID)
			if len(chain) > 10 {
				chain = chain[len(chain)-10:]
			}
		}
		if r.Intn(50) == 0 {
			chain = append(chain, fmt.Sprintf("<gone%d@example.com>", r.Intn(100)))
		}
		refs[i] = chain
		base, reply := msgsort.BaseSubject(subject)
		msgs[i] = Msg{
			Seq:       uint32(i + 1),
			Sent:      t0.Add(time.Duration(i)*time.Minute - time.Duration(r.Intn(7200))*time.Second),
			Subject:   base,
			Reply:     reply,
			MessageID: id,
		}
		if r.Intn(10) == 0 && len(chain) > 0 {
			msgs[i].InReplyTo = chain[len(chain)-1:]
		} else {
			msgs[i].References = chain
		}
	}
	return msgs
}

// BenchmarkThread100k threads 100,000 messages with each algorithm and
// encodes the answer, as THREAD does after the search.
func BenchmarkThread100k(b *testing.B) {
	msgs := synthMailbox(100000)
	for _, alg := range []struct {
		name string
		fn   func([]Msg) []*Node
	}{{"REFERENCES", References}, {"ORDEREDSUBJECT", OrderedSubject}} {
		b.Run(alg.name, func(b *testing.B) {
			b.ReportAllocs()
			var out []byte
			for b.Loop() {
				roots := alg.fn(msgs)
				out = AppendThreads(out[:0], roots, func(seq uint32) uint32 { return seq })
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/thread")
			b.ReportMetric(float64(len(out)), "response-bytes")
		})
	}
}
