package lmtpserver

// Copies of the message that differ from what was received: the header
// as a script edited it (RFC 5293), and the messages filed by fcc (RFC
// 8580). Each is staged of its own, so its size, GUID and cached summary
// are those of the bytes stored.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/sieve"
)

// maxEditableHeader is the largest header an edit is applied to: the
// Sieve message reads no more (fields past it are not seen), so a longer
// one would lose them.
const maxEditableHeader = 1 << 20

// errHeaderTooLong refuses an edit of a header longer than
// maxEditableHeader.
var errHeaderTooLong = errors.New("header too long to edit")

// derive stages r as a new message of the same delivery, in the first
// message's partition. id is the Message-ID deliveries are recorded
// under ("" for none). The caller closes it.
func (m *Message) derive(r io.Reader, id string) (*Message, error) {
	sm, err := m.s.store.Stage(m.first, r, 0)
	if err != nil {
		return nil, fmt.Errorf("staging a copy: %w", err)
	}
	return &Message{ReturnPath: m.ReturnPath, ID: id, Date: m.Date, Size: sm.Size(),
		s: m.s, staged: map[string]*mailbox.Staged{m.first: sm}, first: m.first}, nil
}

// bodyOffset returns where the body of the stored message starts (after
// the empty line), or the size when it has none; an error when the
// header is longer than maxEditableHeader.
func bodyOffset(msg *Message) (int64, error) {
	br := bufio.NewReader(io.NewSectionReader(msg.Open(), 0, msg.Size))
	var off int64
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: keep reading it.
			off += int64(len(line))
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				off += int64(len(line))
			}
			line = nil
		} else {
			off += int64(len(line))
		}
		if off > maxEditableHeader {
			return 0, errHeaderTooLong
		}
		if err == io.EOF {
			return msg.Size, nil
		}
		if err != nil {
			return 0, fmt.Errorf("reading the message: %w", err)
		}
		if string(line) == "\r\n" || string(line) == "\n" {
			return off, nil
		}
	}
}

// withHeader returns the message with header in place of its own:
// header, the empty line, the original body. skip drops fields by name
// (a redirect's Return-Path).
func withHeader(msg *Message, header []sieve.Field, skip string) (io.Reader, error) {
	off, err := bodyOffset(msg)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	for _, f := range header {
		if skip != "" && strings.EqualFold(f.Name, skip) {
			continue
		}
		b.Write(f.Bytes())
	}
	b.WriteString("\r\n")
	return io.MultiReader(&b, io.NewSectionReader(msg.Open(), off, msg.Size-off)), nil
}

// editedCopies stages each distinct edited header once.
type editedCopies struct {
	msg    *Message
	copies map[string]*Message
}

// get returns the message to store for an action's header: msg itself
// when header is nil (not edited).
func (c *editedCopies) get(header []sieve.Field) (*Message, error) {
	if header == nil {
		return c.msg, nil
	}
	var key strings.Builder
	sieve.WriteHeader(&key, header)
	if m, ok := c.copies[key.String()]; ok {
		return m, nil
	}
	r, err := withHeader(c.msg, header, "")
	if err != nil {
		return nil, err
	}
	m, err := c.msg.derive(r, c.msg.ID)
	if err != nil {
		return nil, err
	}
	if c.copies == nil {
		c.copies = map[string]*Message{}
	}
	c.copies[key.String()] = m
	return m, nil
}

func (c *editedCopies) close() {
	for _, m := range c.copies {
		m.close()
	}
}
