package lmtpserver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
)

// cmdData is RFC 2033 4.2: the message, then one reply per accepted
// recipient, in RCPT order.
func cmdData(ss *session, _ string) {
	if ss.txn.bdat {
		// RFC 3030 2: DATA and BDAT do not mix in one transaction.
		ss.reply("503 5.5.1 Bad sequence of commands")
		return
	}
	if len(ss.txn.rcpts) == 0 {
		ss.reply("503 5.5.1 No recipients")
		return
	}
	ss.reply("354 go ahead")
	dot := newDotReader(ss.br)
	rcv := ss.newReceipt(dot)
	msg, err := rcv.stage()
	// Whatever stopped the staging, the rest of the message is read, so
	// the next command is read from where it starts.
	if dot.err == nil {
		drained, _ := io.Copy(io.Discard, dot)
		rcv.size += drained
	}
	if dot.err != nil {
		if msg != nil {
			msg.close()
		}
		ss.txn.reset()
		ss.quit = true
		ss.disconnect(dot.err)
		return
	}
	ss.finish(msg, rcv.size, err)
}

// receipt is a message being received: its assembly from the client's
// data and where it is staged. newReceipt runs in the session's
// goroutine; stage may run in another (BDAT).
type receipt struct {
	srv  *Server
	a    *assembler
	part string
	from string
	// size is how much of the message was seen, for the reply to a
	// message over maxmessagesize.
	size int64
}

func (ss *session) newReceipt(src io.Reader) *receipt {
	s := ss.srv
	now := s.now()
	a := newAssembler(newNormalizer(src), ss.traceFields(now), s.reject8bit, s.munge8bit, s.trailerFields(now))
	return &receipt{srv: s, a: a, part: ss.txn.rcpts[0].partition, from: ss.txn.from}
}

// stage stages the message in the partition of the first recipient's
// mailbox.
func (r *receipt) stage() (*Message, error) {
	s := r.srv
	sm, err := s.store.Stage(r.part, r.a, s.maxSize)
	r.size = r.a.emitted
	if err != nil {
		return nil, err
	}
	return &Message{ReturnPath: r.from, ID: r.a.ID, Date: r.a.Date, Size: sm.Size(), s: s,
		staged: map[string]*mailbox.Staged{r.part: sm}, first: r.part}, nil
}

// finish delivers a received message (or reports why it was not
// received) to every recipient, replies, and ends the transaction.
func (ss *session) finish(msg *Message, seen int64, err error) {
	s := ss.srv
	rcpts := ss.txn.rcpts
	var ce *contentError
	switch {
	case err == nil:
		for _, rc := range rcpts {
			ss.reply(ss.errorReply(ss.deliver(rc, msg)))
		}
		msg.close()
	case errors.Is(err, mailbox.ErrTooBig):
		for range rcpts {
			ss.replyf("552 5.2.3 Message size (%d) exceeds fixed maximum message size (%d)", seen, s.maxSizeShown())
		}
	case errors.As(err, &ce):
		for range rcpts {
			ss.reply("554 5.6.0 " + ce.text)
		}
	default:
		s.log.Error(fmt.Sprintf("IOERROR: receiving message: %v", err))
		for range rcpts {
			ss.reply(replyIOError)
		}
	}
	ss.txn.reset()
}

// bdatTransfer is a message arriving in BDAT chunks (RFC 3030): a
// goroutine stages it from a pipe the chunks are copied into.
type bdatTransfer struct {
	pw    *io.PipeWriter
	done  chan bdatResult
	total int64
}

type bdatResult struct {
	msg  *Message
	seen int64
	err  error
}

var errBDATAborted = errors.New("BDAT transfer aborted")

// maxChunk bounds one chunk's size field, so it fits an int64 with room.
const maxChunk = 1 << 50

// cmdBDAT is RFC 3030 2: "BDAT <size> [LAST]". The chunk's octets follow
// the command and are read whatever happens, to stay in step with the
// client; a chunk is acknowledged once it is read, and BDAT LAST gets
// the per-recipient replies of DATA (RFC 2033 4.2).
func cmdBDAT(ss *session, arg string) {
	f := strings.Split(arg, " ")
	last := len(f) == 2 && strings.EqualFold(f[1], "LAST")
	size, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || size < 0 || size > maxChunk || !isDigits(f[0]) || len(f) > 2 || (len(f) == 2 && !last) {
		// Without a size the chunk cannot be skipped: the stream is
		// lost, so is the session.
		ss.reply("501 5.5.4 Syntax error in parameters")
		ss.abortBDAT()
		ss.txn.reset()
		ss.quit = true
		return
	}
	var refuse string
	switch {
	case !ss.txn.active:
		refuse = "503 5.5.1 Need MAIL command"
	case len(ss.txn.rcpts) == 0:
		refuse = "503 5.5.1 No recipients"
	}
	if refuse != "" {
		if _, err := io.CopyN(io.Discard, ss.br, size); err != nil {
			ss.quit = true
			ss.disconnect(err)
			return
		}
		ss.reply(refuse)
		return
	}
	ss.txn.bdat = true
	if ss.bdat == nil {
		ss.startBDAT()
	}
	t := ss.bdat
	// Counted on the reading side: bytes read but not taken by a staging
	// that stopped early are consumed all the same.
	chunk := &io.LimitedReader{R: ss.br, N: size}
	io.Copy(t.pw, chunk)
	if chunk.N > 0 {
		// Either the staging stopped early (the message is refused; its
		// reason comes with LAST) or the connection failed.
		if _, err := io.CopyN(io.Discard, ss.br, chunk.N); err != nil {
			ss.quit = true
			ss.abortBDAT()
			ss.txn.reset()
			ss.disconnect(err)
			return
		}
	}
	t.total += size
	if !last {
		ss.replyf("250 2.0.0 Ok %d octets received", size)
		return
	}
	t.pw.Close()
	res := <-t.done
	ss.bdat = nil
	ss.finish(res.msg, max(res.seen, t.total), res.err)
}

func (ss *session) startBDAT() {
	pr, pw := io.Pipe()
	rcv := ss.newReceipt(pr)
	t := &bdatTransfer{pw: pw, done: make(chan bdatResult, 1)}
	ss.bdat = t
	go func() {
		var res bdatResult
		defer func() {
			if p := recover(); p != nil {
				ss.srv.log.Error(fmt.Sprintf("panic staging a BDAT message: %v", p), "stack", string(debug.Stack()))
				res = bdatResult{err: fmt.Errorf("panic: %v", p)}
			}
			// Writers see the end, whatever it was.
			pr.CloseWithError(errBDATAborted)
			t.done <- res
		}()
		res.msg, res.err = rcv.stage()
		res.seen = rcv.size
	}()
}

// abortBDAT ends a transfer that will not see LAST (RSET, QUIT, a lost
// connection) and throws away what was staged.
func (ss *session) abortBDAT() {
	t := ss.bdat
	if t == nil {
		return
	}
	ss.bdat = nil
	t.pw.CloseWithError(errBDATAborted)
	if res := <-t.done; res.msg != nil {
		res.msg.close()
	}
}

// tlsInfo is Cyrus's tls_get_info, for the Received field.
func tlsInfo(st *tls.ConnectionState) string {
	verify := "NO"
	if len(st.VerifiedChains) > 0 {
		verify = "YES"
	}
	b := cipherBits(st)
	return fmt.Sprintf("version=%s cipher=%s bits=%d/%d verify=%s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), b, b, verify)
}

// cipherBits is the symmetric key size of the negotiated suite.
func cipherBits(st *tls.ConnectionState) int {
	name := tls.CipherSuiteName(st.CipherSuite)
	switch {
	case strings.Contains(name, "AES_128"):
		return 128
	case strings.Contains(name, "AES_256"), strings.Contains(name, "CHACHA20"):
		return 256
	}
	return 0
}
