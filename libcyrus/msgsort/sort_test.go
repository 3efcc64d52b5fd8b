package msgsort

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseKey(t *testing.T) {
	for _, name := range []string{"arrival", "CC", "Date", "FROM", "SIZE", "SUBJECT", "TO", "displayfrom", "DISPLAYTO"} {
		k, ok := ParseKey(name)
		if !ok || k.String() != strings.ToUpper(name) {
			t.Errorf("ParseKey(%q) = %v, %v", name, k, ok)
		}
	}
	for _, name := range []string{"REVERSE", "", "MODSEQ", "DISPLAY"} {
		if _, ok := ParseKey(name); ok {
			t.Errorf("ParseKey(%q) ok, want unknown", name)
		}
	}
}

func TestAddrDisplay(t *testing.T) {
	tests := []struct {
		a    Addr
		want string
	}{
		{Addr{Name: "Zoë", Mailbox: "a", Host: "x"}, "Zoë"},
		{Addr{Mailbox: "a", Host: "x"}, "a@x"},
		{Addr{Mailbox: "a"}, "a"},
		{Addr{}, ""},
	}
	for _, tt := range tests {
		if got := tt.a.Display(); got != tt.want {
			t.Errorf("%+v.Display() = %q, want %q", tt.a, got, tt.want)
		}
	}
}

func TestSentDate(t *testing.T) {
	internal := time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600))
	if got := SentDate(time.Time{}, internal); !got.Equal(internal) || got.Location() != time.UTC {
		t.Errorf("no Date: %v, want the internal date in UTC", got)
	}
	// RFC 5256 2.2: "31 Dec 2000 16:01:33 -0800" is 1 Jan 2001 00:01:33 UTC.
	d := time.Date(2000, 12, 31, 16, 1, 33, 0, time.FixedZone("", -8*3600))
	if got := SentDate(d, internal); got != time.Date(2001, 1, 1, 0, 1, 33, 0, time.UTC) {
		t.Errorf("SentDate = %v", got)
	}
}

func day(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }

// sortCorpus has ties on every key, so that the implicit sequence
// number criterion shows.
var sortCorpus = []Msg{
	{Seq: 1, Arrival: day(3), Sent: day(5), Size: 300, Subject: "beta",
		From: Addr{Name: "Zed", Mailbox: "alice", Host: "a.example"}, To: Addr{Mailbox: "bob", Host: "b.example"}},
	{Seq: 2, Arrival: day(1), Sent: day(5), Size: 100, Subject: "Alpha",
		From: Addr{Mailbox: "Carol", Host: "c.example"}, To: Addr{Name: "Ann", Mailbox: "zz", Host: "b.example"}, Cc: Addr{Mailbox: "dave"}},
	{Seq: 3, Arrival: day(2), Sent: day(4), Size: 300, Subject: "alpha",
		From: Addr{Name: "bob", Mailbox: "bob", Host: "b.example"}, Cc: Addr{Mailbox: "Able"}},
	{Seq: 4, Arrival: day(2), Sent: day(6), Size: 200, Subject: "",
		From: Addr{Mailbox: "alice", Host: "a.example"}, To: Addr{Mailbox: "Bob", Host: "b.example"}},
	{Seq: 5, Arrival: day(4), Sent: day(1), Size: 50, Subject: "Ålpha",
		From: Addr{}, To: Addr{Name: "ann", Mailbox: "x", Host: "y"}},
}

func TestSort(t *testing.T) {
	k := func(key Key) Criterion { return Criterion{Key: key} }
	r := func(key Key) Criterion { return Criterion{Key: key, Reverse: true} }
	tests := []struct {
		name string
		prog []Criterion
		want []uint32
	}{
		{"ARRIVAL", []Criterion{k(Arrival)}, []uint32{2, 3, 4, 1, 5}},
		{"REVERSE ARRIVAL", []Criterion{r(Arrival)}, []uint32{5, 1, 3, 4, 2}}, // ties stay ascending
		{"DATE", []Criterion{k(Date)}, []uint32{5, 3, 1, 2, 4}},
		{"SIZE", []Criterion{k(Size)}, []uint32{5, 2, 4, 1, 3}},
		{"REVERSE SIZE", []Criterion{r(Size)}, []uint32{1, 3, 4, 2, 5}},
		// The empty string sorts first; case is ignored; Å decomposes
		// to A and a combining ring, so "Ålpha" sorts after "alpha"
		// but before "beta".
		{"SUBJECT", []Criterion{k(Subject)}, []uint32{4, 2, 3, 5, 1}},
		{"SUBJECT REVERSE DATE", []Criterion{k(Subject), r(Date)}, []uint32{4, 2, 3, 5, 1}},
		{"SUBJECT DATE", []Criterion{k(Subject), k(Date)}, []uint32{4, 3, 2, 5, 1}},
		{"FROM", []Criterion{k(From)}, []uint32{5, 1, 4, 3, 2}},
		{"FROM SIZE", []Criterion{k(From), k(Size)}, []uint32{5, 4, 1, 3, 2}},
		{"TO", []Criterion{k(To)}, []uint32{3, 1, 4, 5, 2}},
		{"CC", []Criterion{k(Cc)}, []uint32{1, 4, 5, 3, 2}},
		// RFC 5957: the name when there is one, else mailbox@host.
		{"DISPLAYFROM", []Criterion{k(DisplayFrom)}, []uint32{5, 4, 3, 2, 1}},
		{"DISPLAYTO", []Criterion{k(DisplayTo)}, []uint32{3, 2, 5, 1, 4}},
		{"REVERSE DISPLAYTO", []Criterion{r(DisplayTo)}, []uint32{1, 4, 2, 5, 3}},
		{"none", nil, []uint32{1, 2, 3, 4, 5}},
	}
	for _, tt := range tests {
		msgs := slices.Clone(sortCorpus)
		slices.Reverse(msgs) // the input order must not matter
		Sort(msgs, tt.prog)
		var got []uint32
		for _, m := range msgs {
			got = append(got, m.Seq)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
