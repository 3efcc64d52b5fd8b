package msgthread

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
)

// fuzzMsgs turns fuzz bytes into a mailbox: four bytes a message (id,
// two references, subject and day), the ids and subjects drawn from small
// sets so that they collide often.
func fuzzMsgs(data []byte) []Msg {
	subjects := []string{"", "a", "Re: a", "A (fwd)", "[fwd: a]", "b", "Fwd: b", "[x] b", "Re:"}
	id := func(b byte) string {
		if b%8 == 0 {
			return ""
		}
		return fmt.Sprintf("<%d@x>", b%8)
	}
	var msgs []Msg
	for i := 0; i+4 <= len(data) && len(msgs) < 200; i += 4 {
		d := data[i : i+4]
		x := m(uint32(len(msgs)+1), int(d[3]%5)+1, subjects[int(d[2])%len(subjects)], id(d[0]))
		for _, r := range []byte{d[1] & 0x0f, d[1] >> 4} {
			if r != 0 {
				x.References = append(x.References, id(r))
			}
		}
		if d[2]&0x80 != 0 {
			x.InReplyTo, x.References = x.References, nil
		}
		msgs = append(msgs, x)
	}
	return msgs
}

// FuzzThread checks both algorithms on arbitrary mailboxes: every message
// is in the answer exactly once, the answer follows the thread-list
// grammar of RFC 5256 5, and the order the messages come in does not
// matter.
func FuzzThread(f *testing.F) {
	f.Add([]byte("\x01\x00\x01\x00\x02\x01\x02\x01\x03\x21\x03\x02"))
	f.Add([]byte("\x01\x02\x00\x00\x02\x01\x00\x00"))
	f.Add([]byte("\x01\x09\x01\x00\x02\x09\x05\x01\x03\x00\x06\x02\x04\x00\x01\x03"))
	f.Fuzz(func(t *testing.T, data []byte) {
		msgs := fuzzMsgs(data)
		for _, alg := range []func([]Msg) []*Node{References, OrderedSubject} {
			out := format(alg(slices.Clone(msgs)))
			seqs, err := parseThreads(out)
			if err != nil {
				t.Fatalf("%q: %v", out, err)
			}
			slices.Sort(seqs)
			for i, s := range seqs {
				if s != uint32(i+1) {
					t.Fatalf("%q: messages %v, want 1..%d", out, seqs, len(msgs))
				}
			}
			if len(seqs) != len(msgs) {
				t.Fatalf("%q: %d messages, want %d", out, len(seqs), len(msgs))
			}
			rev := slices.Clone(msgs)
			slices.Reverse(rev)
			if again := format(alg(rev)); again != out {
				t.Fatalf("input order matters: %q then %q", out, again)
			}
		}
	})
}

// parseThreads checks s against thread-data's 1*thread-list and returns
// the numbers in it.
func parseThreads(s string) ([]uint32, error) {
	p := threadParser{s: s}
	for p.i < len(s) {
		if err := p.list(); err != nil {
			return nil, err
		}
	}
	return p.nums, nil
}

type threadParser struct {
	s    string
	i    int
	nums []uint32
}

// list reads thread-list = "(" (thread-members / thread-nested) ")".
func (p *threadParser) list() error {
	if !p.eat('(') {
		return fmt.Errorf("want ( at %d", p.i)
	}
	if p.peek() == '(' {
		if err := p.nested(); err != nil {
			return err
		}
	} else {
		// thread-members = nz-number *(SP nz-number) [SP thread-nested]
		for {
			if err := p.number(); err != nil {
				return err
			}
			if !p.eat(' ') {
				break
			}
			if p.peek() == '(' {
				if err := p.nested(); err != nil {
					return err
				}
				break
			}
		}
	}
	if !p.eat(')') {
		return fmt.Errorf("want ) at %d", p.i)
	}
	return nil
}

// nested reads thread-nested = 2*thread-list.
func (p *threadParser) nested() error {
	n := 0
	for p.peek() == '(' {
		if err := p.list(); err != nil {
			return err
		}
		n++
	}
	if n < 2 {
		return fmt.Errorf("nested lists with one member at %d", p.i)
	}
	return nil
}

func (p *threadParser) number() error {
	j := p.i
	for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
		j++
	}
	n, err := strconv.ParseUint(p.s[p.i:j], 10, 32)
	if err != nil || n == 0 || p.s[p.i] == '0' {
		return fmt.Errorf("want nz-number at %d", p.i)
	}
	p.nums = append(p.nums, uint32(n))
	p.i = j
	return nil
}

func (p *threadParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *threadParser) eat(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}
