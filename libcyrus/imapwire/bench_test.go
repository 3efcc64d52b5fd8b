package imapwire

import (
	"bufio"
	"bytes"
	"io"
	"testing"
)

// BenchmarkReadFetch parses a typical FETCH command as the engine would.
func BenchmarkReadFetch(b *testing.B) {
	cmd := []byte("A001 UID FETCH 1:4,7,10:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Subject Date Message-ID)])\r\n")
	src := bytes.NewReader(cmd)
	br := bufio.NewReader(src)
	r := NewReader(br, nil, DefaultLimits())
	attName := func(c byte) bool { return IsAtomChar(c) && c != '[' }
	var fields func(r *Reader) error
	fields = func(r *Reader) error { _, err := r.ReadAString(); return err }
	item := func(r *Reader) error {
		if _, err := r.ReadAtomFunc(attName); err != nil {
			return err
		}
		if !r.Accept('[') {
			return nil
		}
		if _, err := r.ReadAtom(); err != nil {
			return err
		}
		if r.Accept(' ') {
			if err := r.ReadList(fields); err != nil {
				return err
			}
		}
		return r.Expect(']')
	}
	b.SetBytes(int64(len(cmd)))
	b.ReportAllocs()
	for b.Loop() {
		src.Reset(cmd)
		br.Reset(src)
		if _, err := r.ReadTag(); err != nil {
			b.Fatal(err)
		}
		r.SP()
		r.ReadAtom()
		r.SP()
		r.ReadAtom()
		r.SP()
		if _, err := r.ReadSequenceSet(); err != nil {
			b.Fatal(err)
		}
		r.SP()
		if err := r.ReadList(item); err != nil {
			b.Fatal(err)
		}
		if err := r.ReadEOL(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteFetchFlags writes 10,000 "* n FETCH (UID u FLAGS (...))"
// responses per iteration.
func BenchmarkWriteFetchFlags(b *testing.B) {
	w := NewWriter(io.Discard)
	flags := []string{`\Seen`, `\Answered`, "$Label1"}
	b.ReportAllocs()
	for b.Loop() {
		for i := uint32(1); i <= 10000; i++ {
			w.Untagged()
			w.Number(i)
			w.Atom(" FETCH (UID ")
			w.Number(i + 1000)
			w.Atom(" FLAGS ")
			w.List(func() {
				for j, f := range flags {
					if j > 0 {
						w.SP()
					}
					w.Atom(f)
				}
			})
			w.Byte(')')
			w.CRLF()
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteAString writes mailbox names of the three forms.
func BenchmarkWriteAString(b *testing.B) {
	w := NewWriter(io.Discard)
	names := []string{"INBOX.Sent", "INBOX.Sent Items", "INBOX.50%"}
	b.ReportAllocs()
	for b.Loop() {
		for _, n := range names {
			w.AString(n)
			w.CRLF()
		}
	}
	w.Flush()
}
