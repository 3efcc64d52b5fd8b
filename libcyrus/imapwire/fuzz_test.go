package imapwire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

// fuzzLimits are small so that the fuzzer reaches every limit.
func fuzzLimits(minus bool) Limits {
	return Limits{
		MaxLine:          2048,
		MaxWord:          64,
		MaxQuoted:        128,
		MaxLiteral:       256,
		MaxAppendLiteral: 1024,
		MaxArgs:          4096,
		LiteralMinus:     minus,
	}
}

// countingContinuer counts continuation requests.
type countingContinuer struct{ n int }

func (c *countingContinuer) Continue(string) error { c.n++; return nil }

// FuzzReader runs a generic command loop over arbitrary input: a tag, a
// command name, then a mix of astrings, nested lists, sequence sets,
// numbers, flags, dates and streamed literals until the end of the line or
// an error, then SkipLine, as the engine does. Besides not panicking or
// hanging: every error is a client error or an I/O error; each command
// returns no more bytes from memory than MaxLine; the scratch buffer stays
// bounded; and the loop always progresses.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"a1 NOOP\r\n",
		"a LOGIN {5}\r\nalice {4+}\r\npass\r\nb LOGOUT\r\n",
		"A001 UID FETCH 1:4,7,*:9 (UID FLAGS BODY.PEEK[HEADER.FIELDS (From To)])\r\n",
		"a APPEND INBOX (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {11}\r\nhello world\r\n",
		"a APPEND INBOX ~{3+}\r\na\x00b\r\n",
		"a SEARCH SINCE 1-Feb-1994 NOT (OR FROM \"x\" TO {1+}\r\ny)\r\n",
		"a BOGUS {20+}\r\nb DELETE INBOX\r\n   \r\nc NOOP\r\n",
		"a LOGIN {9999}\r\nb NOOP\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"a STORE $ +FLAGS.SILENT (\\Deleted)\n",
		"((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((",
	} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(fuzzOnce)
}

func fuzzOnce(t *testing.T, data []byte, minus bool) {
	{
		lim := fuzzLimits(minus)
		cont := &countingContinuer{}
		r := NewReader(bufio.NewReaderSize(bytes.NewReader(data), 16), cont, lim)
		for cmds := 0; ; cmds++ {
			if cmds > len(data)+1 {
				t.Fatalf("%d commands from %d bytes", cmds, len(data))
			}
			err := fuzzCommand(r)
			if err == nil {
				continue
			}
			if !IsClientError(err) {
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					return
				}
				t.Fatalf("unexpected error %v", err)
			}
			if err := r.SkipLine(); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatalf("SkipLine: %v", err)
				}
				return
			}
			if cap(r.buf) > lim.MaxLine+smallBuf {
				t.Fatalf("scratch buffer grew to %d", cap(r.buf))
			}
		}
	}
}

// fuzzCommand reads one command generically and returns the first error.
func fuzzCommand(r *Reader) error {
	if _, err := r.ReadTag(); err != nil {
		return err
	}
	if err := r.SP(); err != nil {
		return err
	}
	if _, err := r.ReadAtom(); err != nil {
		return err
	}
	held := 0 // bytes of the command returned in memory
	for !r.AtEOL() {
		if err := r.SP(); err != nil {
			return err
		}
		n, err := fuzzArg(r, 0)
		held += n
		if held > r.lim.MaxLine {
			panic("command returned more than MaxLine bytes")
		}
		if err != nil {
			return err
		}
	}
	return r.ReadEOL()
}

// fuzzArg reads one argument chosen by its first byte and returns how
// many bytes it returned in memory.
func fuzzArg(r *Reader, depth int) (int, error) {
	c, err := r.Peek()
	if err != nil {
		return 0, err
	}
	switch {
	case c == '(':
		held := 0
		err := r.ReadList(func(r *Reader) error {
			n, err := fuzzArg(r, depth+1)
			held += n
			return err
		})
		return held, err
	case c == '~' || c == '{' && depth == 0:
		lr, _, err := r.ReadLiteralReader(0)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(io.Discard, lr)
		return 0, err
	case c == '\\':
		s, err := r.ReadFlag()
		return len(s), err
	case c == '"' && depth == 1:
		_, err := r.ReadDateTime()
		return 0, err
	case c >= '0' && c <= '9' || c == '*' || c == '$':
		switch {
		case depth == 0 || c == '*' || c == '$':
			s, err := r.ReadSequenceSet()
			return len(s.String()), err
		case depth == 1:
			_, err := r.ReadNumber64()
			return 0, err
		default:
			_, err := r.ReadDate()
			return 0, err
		}
	case c == 'N' || c == 'n':
		s, _, err := r.ReadNString()
		return len(s), err
	default:
		s, err := r.ReadAString()
		return len(s), err
	}
}
