package msgthread

import (
	"cmp"
	"slices"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/msgsort"
)

// container is a node of the REFERENCES tree under construction: a
// message, or a dummy (msg nil) for an id that was referenced but not
// found.
type container struct {
	msg      *Msg
	parent   *container
	children []*container
	subject  string // CaseMap of the base subject, messages only
	rootIdx  int    // position among the children of the root (step 5)
	node     *Node  // the result, once built
}

// References threads msgs by REFERENCES (RFC 5256 3), step by step:
// (1) parent/child links from References (or the first In-Reply-To id),
// with dummies for ids not found; (2) the parentless become the threads;
// (3) dummies are pruned; (4) threads are sorted by sent date; (5)
// threads with the same base subject are merged; (6) every set of
// siblings is sorted by sent date.
func References(msgs []Msg) []*Node {
	ordered := make([]*Msg, len(msgs))
	for i := range msgs {
		ordered[i] = &msgs[i]
	}
	// Step 1 gives an id to the first message (lowest sequence number)
	// that has it.
	slices.SortStableFunc(ordered, func(a, b *Msg) int { return cmp.Compare(a.Seq, b.Seq) })

	byID := make(map[string]*container, len(msgs))
	var all []*container // creation order, so that step 2 is deterministic
	get := func(id string) *container {
		c := byID[id]
		if c == nil {
			c = &container{}
			byID[id] = c
			all = append(all, c)
		}
		return c
	}
	for _, m := range ordered {
		// (1) A missing or duplicate Message-ID gets a unique one: the
		// container is simply not entered in the table.
		var c *container
		if id := NormalizeID(m.MessageID); id != "" && (byID[id] == nil || byID[id].msg == nil) {
			c = get(id)
		} else {
			c = &container{}
			all = append(all, c)
		}
		c.msg = m
		c.subject = msgsort.CaseMap(m.Subject)

		refs := refsOf(m)
		// (1A) Link the references in order, never changing an existing
		// parent and never making a loop.
		for k := 0; k+1 < len(refs); k++ {
			p, ch := get(refs[k]), get(refs[k+1])
			if ch.parent == nil && !wouldLoop(p, ch) {
				link(p, ch)
			}
		}
		// (1B) The last reference is the parent of the message, replacing
		// a parent set by a truncated References line of another.
		var p *container
		if len(refs) > 0 {
			p = get(refs[len(refs)-1])
		}
		if c.parent != p {
			if c.parent != nil {
				unlink(c)
			}
			if p != nil && !wouldLoop(p, c) {
				link(p, c)
			}
		}
	}

	// (2) The parentless containers are the children of the root.
	var roots []*container
	for _, c := range all {
		if c.parent == nil {
			roots = append(roots, c)
		}
	}
	roots = prune(roots)
	// (4) Sort the threads; a dummy sorts by its first child.
	for _, c := range roots {
		if c.msg == nil {
			sortSiblings(c.children)
		}
	}
	sortSiblings(roots)
	roots = groupSubjects(roots)
	sortTree(roots)
	return toNodes(roots)
}

// refsOf returns the normalised references of m: the References ids, or
// when there are none, the first In-Reply-To id (RFC 5256 3).
func refsOf(m *Msg) []string {
	var refs []string
	for _, r := range m.References {
		if id := NormalizeID(r); id != "" {
			refs = append(refs, id)
		}
	}
	if len(refs) == 0 {
		for _, r := range m.InReplyTo {
			if id := NormalizeID(r); id != "" {
				return []string{id}
			}
		}
	}
	return refs
}

// NormalizeID returns the canonical form of a msg-id, so that quoting
// does not tell equal ids apart (RFC 5256 3: <"01KF8"@x.y> is <01KF8@x.y>):
// quotes are removed, quoted-pairs replaced by their character, and blanks
// dropped.
func NormalizeID(id string) string {
	if !strings.ContainsAny(id, "\"\\ \t\r\n") {
		return id
	}
	var b strings.Builder
	for i := 0; i < len(id); i++ {
		switch c := id[i]; c {
		case '"', ' ', '\t', '\r', '\n':
		case '\\':
			if i+1 < len(id) {
				i++
				b.WriteByte(id[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// wouldLoop reports whether making p the parent of c would make a loop:
// p is c or one of its descendants.
func wouldLoop(p, c *container) bool {
	if p == c {
		return true
	}
	if len(c.children) == 0 {
		return false
	}
	for a := p.parent; a != nil; a = a.parent {
		if a == c {
			return true
		}
	}
	return false
}

func link(p, c *container) {
	c.parent = p
	p.children = append(p.children, c)
}

func unlink(c *container) {
	p := c.parent
	if i := slices.Index(p.children, c); i >= 0 {
		p.children = slices.Delete(p.children, i, i+1)
	}
	c.parent = nil
}

// prune is step (3): a dummy without children goes; a dummy with children
// goes and its children take its place, except that a dummy among the
// threads keeps two or more children rather than make them threads.
// Children are pruned before their parent, so a dummy's children that
// take its place are already pruned.
func prune(roots []*container) []*container {
	order := preorder(roots)
	for i := len(order) - 1; i >= 0; i-- {
		c := order[i]
		c.children = pruneList(c.children, c, false)
	}
	return pruneList(roots, nil, true)
}

func pruneList(list []*container, parent *container, atRoot bool) []*container {
	dummies := false
	for _, c := range list {
		if c.msg == nil {
			dummies = true
			break
		}
	}
	if !dummies {
		return list
	}
	out := make([]*container, 0, len(list))
	for _, c := range list {
		switch {
		case c.msg != nil:
			out = append(out, c)
		case len(c.children) == 0:
		case !atRoot || len(c.children) == 1:
			for _, k := range c.children {
				k.parent = parent
			}
			out = append(out, c.children...)
		default:
			out = append(out, c)
		}
	}
	return out
}

// preorder lists the containers of the trees under roots, parents before
// children, without recursion.
func preorder(roots []*container) []*container {
	var out []*container
	stack := slices.Clone(roots)
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		out = append(out, c)
		stack = append(stack, c.children...)
	}
	return out
}

// first is the message a container sorts by: itself, or for a dummy its
// first child (whose children are sorted already).
func first(c *container) *Msg {
	for c.msg == nil && len(c.children) > 0 {
		c = c.children[0]
	}
	return c.msg
}

// sortSiblings orders siblings by sent date, then sequence number (RFC
// 5256 2.2).
func sortSiblings(list []*container) {
	slices.SortStableFunc(list, func(a, b *container) int {
		ma, mb := first(a), first(b)
		if ma == nil || mb == nil {
			return cmp.Compare(boolInt(ma == nil), boolInt(mb == nil))
		}
		return compareSent(ma, mb)
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sortTree is step (6): every set of siblings sorted, the deepest first
// so that a dummy's first child is known when the dummy is sorted.
func sortTree(roots []*container) {
	order := preorder(roots)
	for i := len(order) - 1; i >= 0; i-- {
		sortSiblings(order[i].children)
	}
	sortSiblings(roots)
}

// threadSubject is the subject of a thread (step 5.B.i): its message's,
// or for a dummy, its first child's.
func threadSubject(c *container) string {
	if c.msg == nil {
		if len(c.children) == 0 {
			return ""
		}
		return c.children[0].subject
	}
	return c.subject
}

// groupSubjects is step (5): threads whose subjects are equal under
// i;unicode-casemap are merged.
func groupSubjects(roots []*container) []*container {
	// (5B) The subject table: one thread per subject, preferring a
	// dummy, then a thread that is not a reply.
	table := make(map[string]*container)
	for i, c := range roots {
		c.rootIdx = i
		s := threadSubject(c)
		if s == "" {
			continue
		}
		old := table[s]
		switch {
		case old == nil:
			table[s] = c
		case old.msg != nil && (c.msg == nil || old.msg.Reply && !c.msg.Reply):
			table[s] = c
		}
	}
	// (5C) Merge each other thread into the one in the table.
	removed := make([]bool, len(roots))
	for i, c := range roots {
		if removed[i] {
			continue
		}
		s := threadSubject(c)
		if s == "" {
			continue
		}
		t := table[s]
		if t == c {
			continue
		}
		switch {
		case t.msg == nil && c.msg == nil:
			for _, k := range c.children {
				k.parent = t
			}
			t.children = append(t.children, c.children...)
			c.children = nil
			removed[i] = true
		case t.msg == nil:
			link(t, c)
			removed[i] = true
		case c.msg != nil && c.msg.Reply && !t.msg.Reply:
			link(t, c)
			removed[i] = true
		default:
			d := &container{rootIdx: t.rootIdx}
			link(d, t)
			link(d, c)
			roots[t.rootIdx] = d
			table[s] = d
			removed[i] = true
		}
	}
	out := roots[:0]
	for i, c := range roots {
		if !removed[i] {
			c.parent = nil
			out = append(out, c)
		}
	}
	return out
}

// toNodes turns the containers into Nodes, without recursion.
func toNodes(roots []*container) []*Node {
	order := preorder(roots)
	for _, c := range order {
		c.node = &Node{}
		if c.msg != nil {
			c.node.Seq = c.msg.Seq
		}
	}
	for _, c := range order {
		if len(c.children) > 0 {
			c.node.Children = make([]*Node, len(c.children))
			for i, k := range c.children {
				c.node.Children[i] = k.node
			}
		}
	}
	out := make([]*Node, len(roots))
	for i, c := range roots {
		out[i] = c.node
	}
	return out
}
