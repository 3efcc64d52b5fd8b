package imapserver

// COMPRESS=DEFLATE (RFC 4978). After the tagged OK both directions are
// raw DEFLATE (RFC 1951) streams, layered like STARTTLS layers TLS:
//
//	reads:  conn -> [TLS] -> bufio (the session's old buffer) -> inflate -> bufio -> imapwire.Reader
//	writes: imapwire.Writer -> bufio -> deflate with a sync flush per write -> [TLS] -> conn
//
// Compression sits inside TLS (RFC 4978 3: first COMPRESS, then TLS).
//
// Reading never blocks on bytes the client has not sent: the inflater
// reads its input a byte at a time from the old buffer (a
// io.ByteReader, so compress/flate adds no read-ahead of its own), needs
// only the bits of the symbol it decodes, and hands out what it has
// decoded when it reaches the empty stored block that ends a sync flush
// (RFC 4978 4: the client flushes after each command). Bytes the old
// buffer already held when COMPRESS ended are read through the inflater,
// not lost.
//
// Writing: the imapwire.Writer's buffer reaches the deflater only when
// the session flushes (before it waits for input) or the buffer fills,
// and every such write ends with a sync flush, so the client can always
// decode everything it was sent (RFC 4978 4).

import (
	"bufio"
	"compress/flate"
	"fmt"
	"io"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/imapwire"
)

// deflateLevel: the server may pick any rate (RFC 4978 3); the fastest
// one keeps a busy server's CPU for serving mail.
const deflateLevel = flate.BestSpeed

// cmdCompress is RFC 4978 3, with Cyrus 3.6's answers.
func cmdCompress(ss *session, tag string) result {
	if err := ss.r.SP(); err != nil {
		return wireErr(err)
	}
	mech, err := ss.r.ReadAString()
	if err != nil {
		return wireErr(err)
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	if ss.compressed {
		// RFC 4978 3: BAD when COMPRESS is already active (NO is for
		// compression by another layer, which TLS here never does).
		return result{status: "BAD", code: "COMPRESSIONACTIVE", text: "DEFLATE active via COMPRESS"}
	}
	if !strings.EqualFold(mech, "DEFLATE") {
		return no("", "Unknown COMPRESS algorithm: "+mech)
	}
	ss.respond(tag, ok("DEFLATE active"))
	if err := ss.w.Err(); err != nil {
		return wireErr(err)
	}
	ss.startDeflate()
	return result{status: answered}
}

// startDeflate puts the deflate layer between the session and its
// connection (see the file comment).
func (ss *session) startDeflate() {
	in := flate.NewReader(ss.br)
	ss.br = bufio.NewReaderSize(in, 16<<10)
	fw, _ := flate.NewWriter(ss.conn, deflateLevel) // the level is valid
	utf8 := ss.utf8Wire()
	ss.w = imapwire.NewWriter(&syncFlushWriter{fw: fw})
	ss.w.SetUTF8Accept(utf8)
	ss.r = imapwire.NewReader(ss.br, ss.w, ss.srv.limits)
	ss.compressed = true
}

// syncFlushWriter ends every write with a sync flush: the bytes written
// so far are decodable by the peer at once.
type syncFlushWriter struct {
	fw *flate.Writer
}

func (s *syncFlushWriter) Write(p []byte) (int, error) {
	n, err := s.fw.Write(p)
	if err != nil {
		return n, fmt.Errorf("deflate: %w", err)
	}
	if err := s.fw.Flush(); err != nil {
		return n, fmt.Errorf("deflate flush: %w", err)
	}
	return n, nil
}

var _ io.Writer = (*syncFlushWriter)(nil)
