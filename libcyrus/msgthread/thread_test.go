package msgthread

import (
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/msgsort"
)

// m builds a message; subject is the raw Subject, its base and reply
// flag taken as BaseSubject gives them.
func m(seq uint32, day int, subject, id string, refs ...string) Msg {
	base, reply := msgsort.BaseSubject(subject)
	return Msg{
		Seq: seq, Sent: time.Date(2024, 1, day, 0, 0, 0, 0, time.UTC),
		Subject: base, Reply: reply, MessageID: id, References: refs,
	}
}

func format(roots []*Node) string {
	return string(AppendThreads(nil, roots, func(seq uint32) uint32 { return seq }))
}

func TestReferences(t *testing.T) {
	irt := func(x Msg, ids ...string) Msg { x.InReplyTo = ids; return x }
	tests := []struct {
		name string
		msgs []Msg
		want string
	}{
		{"empty", nil, ""},
		{"chain", []Msg{
			m(1, 1, "a", "<a>"), m(2, 2, "Re: a", "<b>", "<a>"), m(3, 3, "Re: a", "<c>", "<a>", "<b>"),
		}, "(1 2 3)"},
		{"siblings by date", []Msg{
			m(1, 1, "a", "<a>"), m(2, 5, "Re: a", "<b>", "<a>"), m(3, 3, "Re: a", "<c>", "<a>"),
		}, "(1 (3)(2))"},
		{"threads by date", []Msg{m(1, 9, "x", "<a>"), m(2, 1, "y", "<b>"), m(3, 5, "z", "<c>")}, "(2)(3)(1)"},
		{"equal dates keep sequence order", []Msg{m(2, 1, "y", "<b>"), m(1, 1, "x", "<a>")}, "(1)(2)"},
		// (1) A missing parent becomes a dummy; (3) at the top it stays
		// when it has several children, keeping them one thread.
		{"dummy kept at the root", []Msg{
			m(1, 1, "p", "<a>", "<gone>"), m(2, 2, "q", "<b>", "<gone>"),
		}, "((1)(2))"},
		{"dummy with one child pruned", []Msg{m(1, 1, "p", "<a>", "<gone>")}, "(1)"},
		// Below the root a dummy's children are promoted.
		{"dummy in the middle", []Msg{
			m(1, 1, "p", "<a>"), m(2, 2, "q", "<b>", "<a>", "<gone>"), m(3, 3, "r", "<c>", "<a>", "<gone>"),
		}, "(1 (2)(3))"},
		{"dummy chain", []Msg{m(1, 1, "p", "<a>", "<g1>", "<g2>", "<g3>"), m(2, 2, "q", "<b>", "<g1>", "<g2>")}, "((1)(2))"},
		// References win over In-Reply-To; In-Reply-To's first id counts
		// when References has none.
		{"in-reply-to", []Msg{
			m(1, 1, "p", "<a>"), irt(m(2, 2, "q", "<b>"), "<a>", "<zzz>"),
		}, "(1 2)"},
		{"references before in-reply-to", []Msg{
			m(1, 1, "p", "<a>"), m(2, 2, "q", "<b>"), irt(m(3, 3, "r", "<c>", "<b>"), "<a>"),
		}, "(1)(2 3)"},
		// Quoting does not make ids differ; case does.
		{"normalised ids", []Msg{m(1, 1, "p", `<"a.b"@x>`), m(2, 2, "q", "<c>", `<a\.b@x>`)}, "(1 2)"},
		{"ids are case-sensitive", []Msg{m(1, 1, "p", "<a@x>"), m(2, 2, "q", "<c>", "<A@x>")}, "(1)(2)"},
		// A duplicate Message-ID belongs to the first message only.
		{"duplicate id", []Msg{
			m(1, 1, "p", "<a>"), m(2, 2, "q", "<a>"), m(3, 3, "r", "<c>", "<a>"),
		}, "(1 3)(2)"},
		{"no message-id", []Msg{m(1, 1, "p", ""), m(2, 2, "q", "", "<x>")}, "(1)(2)"},
		// 1.A: an existing parent is not changed by a later, truncated
		// References line; 1.B: the last reference always is the parent.
		{"truncated references", []Msg{
			m(1, 1, "p", "<a>"), m(2, 2, "q", "<b>", "<a>"), m(3, 3, "r", "<c>", "<a>", "<b>"),
			m(4, 4, "s", "<d>", "<x>", "<b>"),
		}, "(1 2 (3)(4))"},
		{"1.B replaces a parent from 1.A", []Msg{
			m(1, 1, "p", "<a>"), m(2, 2, "q", "<c>", "<b>", "<x>"), m(3, 3, "r", "<x>", "<a>"),
		}, "(1 3 2)"},
		// Loops are never made.
		{"mutual references", []Msg{m(1, 1, "p", "<a>", "<b>"), m(2, 2, "q", "<b>", "<a>")}, "(2 1)"},
		{"self reference", []Msg{m(1, 1, "p", "<a>", "<a>"), m(2, 2, "q", "<b>", "<a>", "<b>", "<a>")}, "(1 2)"},
		{"reference loop in one line", []Msg{m(1, 1, "p", "<a>", "<x>", "<y>", "<x>")}, "(1)"},
		// (5) Threads with the same base subject merge: a reply under a
		// non-reply, two non-replies under a new dummy, anything under
		// a dummy.
		{"reply joins by subject", []Msg{m(1, 1, "hello", "<a>"), m(2, 2, "Re: hello", "<b>")}, "(1 2)"},
		{"reply first", []Msg{m(1, 1, "Re: hello", "<a>"), m(2, 2, "HELLO", "<b>")}, "(2 1)"},
		{"forward joins", []Msg{m(1, 1, "hello", "<a>"), m(2, 2, "hello (fwd)", "<b>"), m(3, 3, "[fwd: hello]", "<c>")}, "(1 (2)(3))"},
		{"two originals", []Msg{m(1, 1, "hello", "<a>"), m(2, 2, "hello", "<b>")}, "((1)(2))"},
		{"two replies", []Msg{m(1, 1, "Re: hello", "<a>"), m(2, 2, "Re: hello", "<b>")}, "((1)(2))"},
		{"three originals", []Msg{m(1, 1, "hello", "<a>"), m(2, 2, "hello", "<b>"), m(3, 3, "hello", "<c>")}, "((1)(2)(3))"},
		{"into a dummy", []Msg{
			m(1, 1, "hello", "<a>", "<gone>"), m(2, 2, "x", "<b>", "<gone>"), m(3, 3, "Re: hello", "<c>"),
		}, "((1)(2)(3))"},
		{"two dummies", []Msg{
			m(1, 1, "hello", "<a>", "<g1>"), m(2, 2, "x", "<b>", "<g1>"),
			m(3, 3, "hello", "<c>", "<g2>"), m(4, 4, "y", "<d>", "<g2>"),
		}, "((1)(2)(3)(4))"},
		{"subject of the thread's root only", []Msg{
			m(1, 1, "hello", "<a>"), m(2, 2, "other", "<b>", "<a>"), m(3, 3, "other", "<c>"),
		}, "(1 2)(3)"},
		{"empty subjects do not merge", []Msg{m(1, 1, "", "<a>"), m(2, 2, "Re:", "<b>")}, "(1)(2)"},
		{"subjects merge without case or tags", []Msg{m(1, 1, "[list] Héllo", "<a>"), m(2, 2, "RE: HÉLLO", "<b>")}, "(1 2)"},
		// (6) Every level is sorted by date, a dummy by its first child.
		{"sorted at depth", []Msg{
			m(1, 1, "r", "<r>"), m(2, 9, "a", "<a>", "<r>"), m(3, 2, "b", "<b>", "<r>"),
			m(4, 8, "c", "<c>", "<r>", "<b>"), m(5, 3, "d", "<d>", "<r>", "<b>"),
		}, "(1 (3 (5)(4))(2))"},
		{"dummy sorts by first child", []Msg{
			m(1, 5, "p", "<a>"), m(2, 9, "q", "<b>", "<g>"), m(3, 2, "r", "<c>", "<g>"),
		}, "((3)(2))(1)"},
	}
	for _, tt := range tests {
		if got := format(References(tt.msgs)); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestOrderedSubject(t *testing.T) {
	tests := []struct {
		name string
		msgs []Msg
		want string
	}{
		{"empty", nil, ""},
		{"one", []Msg{m(1, 1, "x", "")}, "(1)"},
		{"groups", []Msg{
			m(1, 2, "b", ""), m(2, 3, "a", ""), m(3, 4, "Re: b", ""), m(4, 1, "A", ""), m(5, 5, "[x] Fwd: a", ""),
		}, "(4 (2)(5))(1 3)"},
		{"flat, no grandchildren", []Msg{
			m(1, 1, "s", "<a>"), m(2, 2, "Re: s", "<b>", "<a>"), m(3, 3, "Re: s", "<c>", "<a>", "<b>"),
		}, "(1 (2)(3))"},
		{"date ties by sequence", []Msg{m(3, 1, "x", ""), m(1, 1, "y", ""), m(2, 1, "x", "")}, "(1)(2 3)"},
		{"empty subjects group", []Msg{m(1, 1, "", ""), m(2, 2, "z", ""), m(3, 3, "Re:", "")}, "(1 3)(2)"},
	}
	for _, tt := range tests {
		if got := format(OrderedSubject(tt.msgs)); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestAppendThreads(t *testing.T) {
	n := func(seq uint32, kids ...*Node) *Node { return &Node{Seq: seq, Children: kids} }
	// RFC 5256 4: "(2)(3 6 (4 23)(44 7 96))" and "((3)(5))".
	roots := []*Node{n(2), n(3, n(6, n(4, n(23)), n(44, n(7, n(96)))))}
	if got := format(roots); got != "(2)(3 6 (4 23)(44 7 96))" {
		t.Errorf("got %s", got)
	}
	if got := format([]*Node{n(0, n(3), n(5))}); got != "((3)(5))" {
		t.Errorf("got %s", got)
	}
	uid := string(AppendThreads(nil, roots, func(seq uint32) uint32 { return seq * 10 }))
	if uid != "(20)(30 60 (40 230)(440 70 960))" {
		t.Errorf("numbers not mapped: %s", uid)
	}
	// A chain as long as a mailbox costs no stack.
	deep := n(1)
	for i := uint32(2); i <= 200000; i++ {
		deep = n(i, deep, n(i+1000000))
	}
	if out := format([]*Node{deep}); len(out) < 200000 {
		t.Errorf("deep tree: %d bytes", len(out))
	}
}
