package imapserver

// The body items of FETCH: BODY[section]<partial> (RFC 3501 6.4.5) read
// through the cached summary's byte ranges and streamed from the message
// file, and BINARY, BINARY.SIZE (RFC 3516) decoded on the fly.

import (
	"io"
	"os"

	"github.com/cyrusgo/cyrusgo/libcyrus/message"
)

// sizedReader is what message.SectionRef.Reader returns: a section of
// the file, or a header held in memory.
type sizedReader interface {
	io.ReadSeeker
	Size() int64
}

// writeSection writes a BODY[section] value: a literal, NIL for a part
// the message does not have.
func (fx *fetcher) writeSection(sum *message.Summary, ra io.ReaderAt, sp message.SectionSpec, partial bool, off, count uint32) {
	ref, err := sum.Resolve(sp)
	if err != nil {
		fx.ss.w.Nil()
		return
	}
	var sr sizedReader
	if rd, err := ref.Reader(ra); err == nil {
		sr, _ = rd.(sizedReader)
	}
	if sr == nil {
		fx.ss.w.Nil()
		return
	}
	fx.writeRange(sr, partial, off, count, false)
}

// writeRange writes the bytes of sr, or the <off.count> of them
// (RFC 3501 6.4.5: an origin past the end gives the empty string).
func (fx *fetcher) writeRange(sr sizedReader, partial bool, off, count uint32, lit8 bool) {
	w := fx.ss.w
	size := sr.Size()
	start, n := int64(0), size
	if partial {
		start = min(int64(off), size)
		n = min(int64(count), size-start)
	}
	if n == 0 {
		w.Raw(`""`)
		return
	}
	if _, err := sr.Seek(start, io.SeekStart); err != nil {
		w.Nil()
		return
	}
	if lit8 {
		w.Literal8(sr, n)
	} else {
		w.Literal(sr, n)
	}
}

// binarySource opens the content of a BINARY section: the part's body
// with its transfer encoding undone (RFC 3516 4.1), or the raw bytes when
// there is nothing to undo. ok is false for a part the message lacks.
func (fx *fetcher) binarySource(sum *message.Summary, ra io.ReaderAt, s *fetchSection) (open func() (io.Reader, error), rawSize int64, ok bool) {
	if len(s.spec.Path) == 0 {
		return func() (io.Reader, error) { return io.NewSectionReader(ra, 0, sum.Size), nil }, sum.Size, true
	}
	ref, err := sum.Resolve(message.SectionSpec{Path: s.spec.Path})
	if err != nil || ref.Part == nil {
		return nil, 0, false
	}
	p := ref.Part
	raw := func() (io.Reader, error) { return io.NewSectionReader(ra, p.BodyOffset, p.BodyLen), nil }
	if p.IsMultipart() || p.IsMessage() {
		return raw, p.BodyLen, true
	}
	switch p.Encoding {
	case "", "7BIT", "8BIT", "BINARY":
		return raw, p.BodyLen, true
	case "BASE64", "QUOTED-PRINTABLE":
		// DecodedText converts the charset of text parts too; BINARY
		// wants the octets, so present the part as untyped.
		cp := *p
		cp.Type = "APPLICATION"
		return func() (io.Reader, error) { return message.DecodedText(ra, &cp) }, -1, true
	}
	fx.unknownCTE = true
	return nil, 0, false
}

// count reads rd to its end, returning its length and whether it holds
// a NUL (which only a literal8 may carry, RFC 3516 4.2).
func (fx *fetcher) count(rd io.Reader) (int64, bool, error) {
	if fx.buf == nil {
		fx.buf = make([]byte, 32<<10)
	}
	var n int64
	nul := false
	for {
		k, err := rd.Read(fx.buf)
		n += int64(k)
		if !nul {
			for _, c := range fx.buf[:k] {
				if c == 0 {
					nul = true
					break
				}
			}
		}
		if err == io.EOF {
			return n, nul, nil
		}
		if err != nil {
			return n, nul, err
		}
	}
}

func (fx *fetcher) writeBinary(sum *message.Summary, ra io.ReaderAt, s *fetchSection) {
	w := fx.ss.w
	open, _, ok := fx.binarySource(sum, ra, s)
	if !ok {
		w.Nil()
		return
	}
	rd, err := open()
	if err != nil {
		w.Nil()
		return
	}
	size, nul, err := fx.count(rd)
	if err != nil {
		w.Nil()
		return
	}
	start, n := int64(0), size
	if s.partial {
		start = min(int64(s.offset), size)
		n = min(int64(s.count), size-start)
	}
	if n == 0 {
		w.Raw(`""`)
		return
	}
	if rd, err = open(); err == nil && start > 0 {
		_, err = io.CopyN(io.Discard, rd, start)
	}
	if err != nil {
		w.Nil()
		return
	}
	if nul {
		w.Literal8(rd, n)
	} else {
		w.Literal(rd, n)
	}
}

func (fx *fetcher) writeBinarySize(sum *message.Summary, ra io.ReaderAt, s *fetchSection) {
	w := fx.ss.w
	open, size, ok := fx.binarySource(sum, ra, s)
	if !ok {
		w.Nil()
		return
	}
	if size < 0 {
		rd, err := open()
		if err == nil {
			size, _, err = fx.count(rd)
		}
		if err != nil {
			w.Nil()
			return
		}
	}
	w.Number64(uint64(size))
}

// noFile stands for the message file when the response needs none of it.
type noFile struct{}

func (noFile) ReadAt([]byte, int64) (int, error) { return 0, os.ErrClosed }
