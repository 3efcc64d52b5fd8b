package pop3server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// cmdRETR is RFC 1939 5.
func cmdRETR(ss *session, arg string, hasArg bool) {
	if !hasArg {
		ss.err("", "Missing argument")
		return
	}
	n, ok := ss.parseMsgno(arg)
	if !ok {
		return
	}
	ss.counts.retr++
	if ss.blat(n, -1) {
		ss.msgs[n-1].seen = true
	}
}

// cmdTOP is RFC 1939 7, with Cyrus's parsing and messages: "TOP msg n".
func cmdTOP(ss *session, arg string, hasArg bool) {
	num, rest, ok := parseUint32(strings.TrimLeftFunc(arg, isSpace))
	if !ok || rest == "" {
		ss.err("", "Missing argument")
		return
	}
	lines, rest, ok := parseUint32(strings.TrimLeftFunc(rest, isSpace))
	switch {
	case !ok:
		ss.err("", "Invalid number of lines")
	case rest != "":
		ss.err("", "Unexpected extra argument")
	default:
		if n, ok := ss.msgExists(num); ok {
			ss.counts.top++
			ss.blat(n, int(lines))
		}
	}
}

// blat sends message n as a multi-line response, as Cyrus's blat: the
// whole message, or with bodyLines >= 0 the header, the blank line and
// that many lines of the body (RFC 1939 7: all of it if it has fewer).
// It reports whether the message was sent.
func (ss *session) blat(n int, bodyLines int) bool {
	msg := ss.msgs[n-1]
	r, err := ss.mbox.Record(msg.seq)
	if err != nil {
		ss.srv.log.Error(fmt.Sprintf("read record of message %d in %s: %v", msg.uid, ss.mbox.Name(), err))
		ss.err("SYS/PERM", "Could not read index record")
		return false
	}
	f, err := ss.mbox.OpenMessage(&r)
	if err != nil {
		// Another session expunged it with expunge_mode: immediate, or
		// the file is missing (reconstruct will tell).
		ss.srv.log.Info(fmt.Sprintf("open message %d in %s: %v", msg.uid, ss.mbox.Name(), err))
		ss.err("SYS/PERM", "Could not read message file")
		return false
	}
	defer f.Close()
	if ss.msgReader == nil {
		ss.msgReader = bufio.NewReaderSize(f, 32<<10)
	} else {
		ss.msgReader.Reset(f)
	}
	ss.ok("Message follows")
	if err := writeMessage(ss.bw, ss.msgReader, bodyLines); err != nil {
		// The +OK is out: the only honest end for a message that cannot
		// be sent whole is to drop the connection, so the client keeps
		// nothing truncated (and deletes nothing).
		if !isIOError(err) || errors.Is(err, errReadMessage) {
			ss.srv.log.Error(fmt.Sprintf("send message %d of %s: %v", msg.uid, ss.mbox.Name(), err))
		}
		ss.closing = true
		return false
	}
	ss.endMulti()
	return true
}

// errReadMessage marks a failure to read the message file, as opposed to
// a failure to write to the client.
var errReadMessage = errors.New("read message file")

// writeMessage copies a message from r to w as the body of a multi-line
// response (RFC 1939 3): a line starting with "." gets another one
// ("byte-stuffing"), every line ends in CRLF (a bare LF, which a stored
// message should not hold, is sent as CRLF), and a message not ending in
// a line end gets one, as Cyrus does. The terminating "." is the
// caller's. With bodyLines >= 0 it stops after the blank line ending the
// header and that many more lines. It streams: memory use does not
// depend on the message size.
func writeMessage(w *bufio.Writer, r *bufio.Reader, bodyLines int) error {
	lineStart := true
	prevCR := false // the previous chunk of this line ended in CR
	inBody := false
	count := 0
	for {
		chunk, err := r.ReadSlice('\n')
		if len(chunk) > 0 {
			complete := chunk[len(chunk)-1] == '\n'
			if lineStart && chunk[0] == '.' {
				w.WriteByte('.')
			}
			blank := lineStart && complete && (len(chunk) == 1 || len(chunk) == 2 && chunk[0] == '\r')
			if complete {
				text := chunk[:len(chunk)-1]
				if len(text) > 0 && text[len(text)-1] == '\r' || len(text) == 0 && prevCR {
					w.Write(chunk)
				} else {
					w.Write(text)
					w.WriteString("\r\n")
				}
				prevCR = false
			} else {
				w.Write(chunk)
				prevCR = chunk[len(chunk)-1] == '\r'
			}
			if complete && bodyLines >= 0 {
				switch {
				case inBody:
					count++
				case blank:
					inBody = true
				}
				if inBody && count >= bodyLines {
					return nil
				}
			}
			lineStart = complete
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			switch {
			case lineStart:
			case prevCR: // the CR of a CRLF cut short
				w.WriteByte('\n')
			default:
				w.WriteString("\r\n")
			}
			_, werr := w.Write(nil) // bufio keeps a failed write's error
			return werr
		default:
			return fmt.Errorf("%w: %w", errReadMessage, err)
		}
		if _, werr := w.Write(nil); werr != nil {
			return werr
		}
	}
}
