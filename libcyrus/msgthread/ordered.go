package msgthread

import (
	"cmp"
	"slices"

	"github.com/cyrusgo/cyrusgo/libcyrus/msgsort"
)

// OrderedSubject threads msgs by ORDEREDSUBJECT (RFC 5256 3): messages
// sorted by base subject (i;unicode-casemap) and sent date, split into
// one thread per base subject whose first message is the root and the
// others its children, threads ordered by the sent date of their root.
func OrderedSubject(msgs []Msg) []*Node {
	type item struct {
		key string
		m   *Msg
	}
	items := make([]item, len(msgs))
	for i := range msgs {
		items[i] = item{msgsort.CaseMap(msgs[i].Subject), &msgs[i]}
	}
	slices.SortFunc(items, func(a, b item) int {
		if r := cmp.Compare(a.key, b.key); r != 0 {
			return r
		}
		return compareSent(a.m, b.m)
	})
	var roots []*Node
	var first []*Msg // the root message of each thread, for the final sort
	for i := 0; i < len(items); {
		j := i + 1
		for j < len(items) && items[j].key == items[i].key {
			j++
		}
		root := &Node{Seq: items[i].m.Seq}
		if j > i+1 {
			root.Children = make([]*Node, 0, j-i-1)
			for _, it := range items[i+1 : j] {
				root.Children = append(root.Children, &Node{Seq: it.m.Seq})
			}
		}
		roots = append(roots, root)
		first = append(first, items[i].m)
		i = j
	}
	idx := make([]int, len(roots))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return compareSent(first[a], first[b]) })
	out := make([]*Node, len(roots))
	for i, j := range idx {
		out[i] = roots[j]
	}
	return out
}

// compareSent orders by sent date, then by sequence number (RFC 5256 2.2).
func compareSent(a, b *Msg) int {
	if r := a.Sent.Compare(b.Sent); r != 0 {
		return r
	}
	return cmp.Compare(a.Seq, b.Seq)
}
