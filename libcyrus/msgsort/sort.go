package msgsort

import (
	"cmp"
	"slices"
	"time"
)

// Msg is what SORT needs of one message.
type Msg struct {
	// Seq is the message sequence number, the implicit last criterion
	// (RFC 5256 3: messages that match exactly keep mailbox order).
	Seq uint32
	// Arrival is the internal date (ARRIVAL).
	Arrival time.Time
	// Sent is the sent date (DATE), as SentDate gives it.
	Sent time.Time
	// Size is RFC822.SIZE (SIZE).
	Size int64
	// Subject is the base subject (SUBJECT), as BaseSubject gives it.
	Subject string
	// From, To and Cc are the first addresses of those headers; the zero
	// Addr stands for an absent header, which sorts as "" (RFC 5256 3).
	From, To, Cc Addr
}

// Sort orders msgs by the sort program prog (RFC 5256 3): the criteria
// in priority order, each ascending unless Reverse, then by Seq. Strings
// compare under i;unicode-casemap, each mapped once per message, so the
// cost is one CaseMap per message and string key plus the sort.
func Sort(msgs []Msg, prog []Criterion) {
	keys := make([][]string, len(prog))
	for i, c := range prog {
		if !c.Key.isString() {
			continue
		}
		ks := make([]string, len(msgs))
		for j := range msgs {
			ks[j] = CaseMap(stringKey(&msgs[j], c.Key))
		}
		keys[i] = ks
	}
	order := make([]int, len(msgs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		for i, c := range prog {
			var r int
			if keys[i] != nil {
				r = cmp.Compare(keys[i][a], keys[i][b])
			} else {
				r = compareScalar(&msgs[a], &msgs[b], c.Key)
			}
			if r != 0 {
				if c.Reverse {
					return -r
				}
				return r
			}
		}
		return cmp.Compare(msgs[a].Seq, msgs[b].Seq)
	})
	sorted := make([]Msg, len(msgs))
	for i, j := range order {
		sorted[i] = msgs[j]
	}
	copy(msgs, sorted)
}

func stringKey(m *Msg, k Key) string {
	switch k {
	case Cc:
		return m.Cc.Mailbox
	case From:
		return m.From.Mailbox
	case To:
		return m.To.Mailbox
	case Subject:
		return m.Subject
	case DisplayFrom:
		return m.From.Display()
	case DisplayTo:
		return m.To.Display()
	}
	return ""
}

func compareScalar(a, b *Msg, k Key) int {
	switch k {
	case Arrival:
		return a.Arrival.Compare(b.Arrival)
	case Date:
		return a.Sent.Compare(b.Sent)
	case Size:
		return cmp.Compare(a.Size, b.Size)
	}
	return 0
}
