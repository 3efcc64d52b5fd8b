package imapserver

// APPEND of a literal8 (RFC 3516 4.4): the message may hold NUL and bare
// LF in its bodies, which no FETCH BODY literal may carry (RFC 3501 9:
// CHAR8 excludes NUL) and RFC 3516 6 wants BODYSTRUCTURE and BODY to
// describe in a transfer encoding of the base protocol. So, as Cyrus
// does, the parts that need it (declared "binary", or holding NUL or a
// bare LF) are re-encoded in base64 before the message is stored: their
// Content-Transfer-Encoding fields are replaced, their bodies encoded;
// everything else is kept byte for byte. BINARY[part] gives back the
// octets that were sent (RFC 3516 4.4: no loss of data).

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/message"
)

// base64Line is the encoded line length (RFC 2045 6.8: at most 76).
const base64Line = 76

// encodeBinaryParts returns sm, or a new staged message with the parts
// that need it in base64 (sm is then closed). msg is the NO text for a
// message that cannot be stored: NUL in a header.
func (ss *session) encodeBinaryParts(sm *mailbox.Staged, partition string) (out *mailbox.Staged, msg string, err error) {
	f := sm.File()
	size := sm.Size()
	sum, err := message.Parse(io.NewSectionReader(f, 0, size), message.Options{})
	if err != nil {
		return nil, "", fmt.Errorf("parse staged message: %w", err)
	}
	var parts []*message.Part
	for _, p := range sum.LeafParts() {
		need, err := needsBase64(f, p)
		if err != nil {
			return nil, "", err
		}
		if need {
			parts = append(parts, p)
		}
	}
	// The headers and the bytes between parts are kept: they must be
	// free of NUL.
	var pos int64
	for _, p := range parts {
		if nul, err := hasNUL(f, pos, p.BodyOffset-pos); err != nil || nul {
			return nil, textNUL, err
		}
		pos = p.BodyOffset + p.BodyLen
	}
	if nul, err := hasNUL(f, pos, size-pos); err != nil || nul {
		return nil, textNUL, err
	}
	if len(parts) == 0 {
		return sm, "", nil
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeBase64Parts(pw, f, size, parts)) }()
	ns, err := ss.srv.store.Stage(partition, pr, 0)
	pr.CloseWithError(io.ErrClosedPipe) // stops the writer if Stage gave up
	if err != nil {
		return nil, "", err
	}
	sm.Close()
	return ns, "", nil
}

// needsBase64 reports whether a leaf part must be re-encoded.
func needsBase64(ra io.ReaderAt, p *message.Part) (bool, error) {
	if p.Encoding == "BINARY" {
		return true, nil
	}
	br := bufio.NewReader(io.NewSectionReader(ra, p.BodyOffset, p.BodyLen))
	prev := byte(0)
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("read staged message: %w", err)
		}
		if c == 0 || c == '\n' && prev != '\r' {
			return true, nil
		}
		prev = c
	}
}

func hasNUL(ra io.ReaderAt, off, n int64) (bool, error) {
	buf := make([]byte, 32<<10)
	for n > 0 {
		k := int(min(n, int64(len(buf))))
		got, err := ra.ReadAt(buf[:k], off)
		if bytes.IndexByte(buf[:got], 0) >= 0 {
			return true, nil
		}
		if err != nil && got < k {
			return false, fmt.Errorf("read staged message: %w", err)
		}
		off += int64(got)
		n -= int64(got)
	}
	return false, nil
}

// writeBase64Parts writes the message of ra with parts (in file order)
// re-encoded.
func writeBase64Parts(w io.Writer, ra io.ReaderAt, size int64, parts []*message.Part) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	var pos int64
	for _, p := range parts {
		// Up to the part's header, then its header without the
		// Content-Transfer-Encoding fields, then the encoded body.
		if _, err := io.Copy(bw, io.NewSectionReader(ra, pos, p.HeaderOffset-pos)); err != nil {
			return err
		}
		hdr := make([]byte, p.HeaderLen)
		if _, err := ra.ReadAt(hdr, p.HeaderOffset); err != nil {
			return err
		}
		bw.Write(withoutCTE(hdr))
		bw.WriteString("Content-Transfer-Encoding: base64\r\n\r\n")
		lw := &lineWrapper{w: bw}
		enc := base64.NewEncoder(base64.StdEncoding, lw)
		if _, err := io.Copy(enc, io.NewSectionReader(ra, p.BodyOffset, p.BodyLen)); err != nil {
			return err
		}
		enc.Close()
		if lw.err != nil {
			return lw.err
		}
		pos = p.BodyOffset + p.BodyLen
	}
	if _, err := io.Copy(bw, io.NewSectionReader(ra, pos, size-pos)); err != nil {
		return err
	}
	return bw.Flush()
}

// withoutCTE returns a part's header (ending with its blank line) without
// that blank line and without its Content-Transfer-Encoding fields,
// continuation lines included.
func withoutCTE(hdr []byte) []byte {
	var out []byte
	drop := false
	for len(hdr) > 0 {
		i := bytes.IndexByte(hdr, '\n')
		line := hdr
		if i >= 0 {
			line = hdr[:i+1]
		}
		hdr = hdr[len(line):]
		if bytes.Equal(bytes.TrimRight(line, "\r\n"), nil) {
			break // the blank line that ends the header
		}
		if line[0] != ' ' && line[0] != '\t' {
			const name = "content-transfer-encoding"
			field, _, _ := bytes.Cut(line, []byte(":"))
			drop = bytes.EqualFold(bytes.TrimRight(field, " \t"), []byte(name))
		}
		if !drop {
			out = append(out, line...)
		}
	}
	return out
}

// lineWrapper breaks base64 text into CRLF-separated lines.
type lineWrapper struct {
	w   *bufio.Writer
	col int
	err error
}

func (l *lineWrapper) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && l.err == nil {
		if l.col == base64Line {
			_, l.err = l.w.WriteString("\r\n")
			l.col = 0
		}
		k := min(len(p), base64Line-l.col)
		_, err := l.w.Write(p[:k])
		if err != nil {
			l.err = err
		}
		l.col += k
		p = p[k:]
	}
	return n, l.err
}

// storableBinary is encodeBinaryParts for APPEND: sm is closed when the
// message is refused (ok false, with the answer).
func (ss *session) storableBinary(sm *mailbox.Staged, partition string) (*mailbox.Staged, result, bool) {
	out, msg, err := ss.encodeBinaryParts(sm, partition)
	if err != nil {
		sm.Close()
		return nil, ss.mboxResult("APPEND", err), false
	}
	if msg != "" {
		sm.Close()
		return nil, no("", msg), false
	}
	return out, result{}, true
}
