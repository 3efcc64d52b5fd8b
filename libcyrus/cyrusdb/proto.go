package cyrusdb

// The socket protocol between Server (in master) and Client (in children
// and tools). It is private to cyrusgo: both ends ship in the same build,
// and PING carries a version so a mismatch is refused, not misread.
//
// Every message in either direction is one frame:
//
//	frame  = length:u32 body            length = len(body), 1..maxFrameSize
//
// Integers are big-endian. Inside a body:
//
//	str16  = n:u16 n*byte               n <= MaxNameSize
//	bytes  = n:u32 n*byte               n <= the field's limit
//	nbytes = bytes | 0xFFFFFFFF:u32     the all-ones length means nil
//
// nbytes keeps nil apart from empty where DB gives them different meanings
// (CompareAndSwap's old/new, a batch op's value).
//
// Request body = op:u8 name:str16 args; name is the database (empty for
// PING, CONTINUE, STOP). Args by op, and the replies:
//
//	1  PING                                  OK version:u8
//	2  GET      key:bytes                    OK value | NOTFOUND
//	3  PUT      key:bytes value:bytes        OK
//	4  DELETE   key:bytes                    OK
//	5  SCAN     prefix:bytes after:nbytes    ITEM* ... END | ERROR
//	6  BATCH    n:u32 n*(key:bytes value:nbytes)   OK
//	7  PUTIFABSENT key:bytes value:bytes     OK done:u8
//	8  CAS      key:bytes old:nbytes new:nbytes    OK done:u8
//	9  CONTINUE (only after MORE)
//	10 STOP     (only after MORE)
//
// Keys are at most MaxKeySize, values MaxValueSize, a batch MaxBatchSize.
// Any request may instead be answered UNKNOWNDB (the name is not served;
// the connection stays usable) or ERROR (the database failed).
//
// Response body = status:u8 payload:
//
//	0 OK        payload as above
//	1 NOTFOUND
//	2 ITEM      key:bytes value:bytes
//	3 MORE      the server waits for CONTINUE or STOP
//	4 END       the scan is over
//	5 UNKNOWNDB
//	6 ERROR     the rest of the body is a message (at most maxErrorText)
//
// SCAN streams ITEMs in key order, for keys with the prefix and greater
// than after (a client resuming a scan after a reconnect sends the last
// key it received). After every scanWindowItems items or scanWindowBytes
// bytes the server sends MORE and waits: CONTINUE gets the next window,
// STOP gets END at once. That is how a client stops a scan early without
// closing the connection, and it bounds what the server pushes ahead of
// a slow reader.
//
// A frame that is empty, longer than maxFrameSize, cut short, has an
// unknown op, a field over its limit, trailing bytes, or a CONTINUE/STOP
// out of place is a protocol error: the server logs it and closes that
// connection. The length is checked before anything is allocated, and a
// long body is read in chunks, so a peer that announces a large frame and
// sends nothing costs no memory.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

const protoVersion = 1

// Request ops.
const (
	opPing        byte = 1
	opGet         byte = 2
	opPut         byte = 3
	opDelete      byte = 4
	opScan        byte = 5
	opBatch       byte = 6
	opPutIfAbsent byte = 7
	opCAS         byte = 8
	opContinue    byte = 9
	opStop        byte = 10
)

// Response statuses.
const (
	stOK        byte = 0
	stNotFound  byte = 1
	stItem      byte = 2
	stMore      byte = 3
	stEnd       byte = 4
	stUnknownDB byte = 5
	stError     byte = 6
)

const (
	// maxFrameSize fits the largest request, a CAS with two values of
	// MaxValueSize, with room for the header fields.
	maxFrameSize = 2*MaxValueSize + MaxKeySize + MaxNameSize + 64
	nilLen       = 0xFFFFFFFF
	maxErrorText = 4096
	// readChunk is how much of a long body is allocated before its bytes
	// arrive.
	readChunk = 1 << 20

	scanWindowItems = 1024
	scanWindowBytes = 256 << 10
)

// errBadFrame marks a protocol error: the connection is closed and logged.
var errBadFrame = errors.New("bad frame")

func badFrame(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadFrame, fmt.Sprintf(format, args...))
}

func opName(op byte) string {
	switch op {
	case opPing:
		return "ping"
	case opGet:
		return "get"
	case opPut:
		return "put"
	case opDelete:
		return "delete"
	case opScan:
		return "scan"
	case opBatch:
		return "batch"
	case opPutIfAbsent:
		return "put-if-absent"
	case opCAS:
		return "compare-and-swap"
	case opContinue:
		return "continue"
	case opStop:
		return "stop"
	}
	return fmt.Sprintf("op %d", op)
}

// request is a decoded request. Its slices point into the frame buffer.
type request struct {
	op   byte
	name string
	key  []byte // GET, PUT, DELETE, PUTIFABSENT, CAS: the key; SCAN: the prefix
	val  []byte // PUT, PUTIFABSENT: the value; CAS: new
	old  []byte // CAS: old; SCAN: after
	ops  []Op   // BATCH
}

// response is a decoded response. Its slices point into the frame buffer.
type response struct {
	status byte
	key    []byte // ITEM
	val    []byte // OK payload, ITEM value, ERROR text
}

// readFrame reads one frame and returns its body. A clean end of stream
// before the first byte is io.EOF; anywhere else it is a truncated frame.
// scratch is used for the body when it is large enough, so a caller must
// be done with one body before reading the next.
func readFrame(r io.Reader, scratch []byte) ([]byte, error) {
	var hdr [4]byte
	if n, err := io.ReadFull(r, hdr[:]); err != nil {
		if n == 0 && err == io.EOF {
			return nil, io.EOF
		}
		return nil, truncated(err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 {
		return nil, badFrame("empty frame")
	}
	if n > maxFrameSize {
		return nil, badFrame("frame of %d bytes over the limit of %d", n, maxFrameSize)
	}
	size := int(n)
	if size <= len(scratch) {
		body := scratch[:size]
		if _, err := io.ReadFull(r, body); err != nil {
			return nil, truncated(err)
		}
		return body, nil
	}
	// Allocate as the bytes arrive: the length is only a claim.
	body := make([]byte, 0, min(size, readChunk))
	for len(body) < size {
		m := min(size-len(body), readChunk)
		if cap(body)-len(body) < m {
			grown := make([]byte, len(body), min(size, 2*cap(body)+m))
			copy(grown, body)
			body = grown
		}
		if _, err := io.ReadFull(r, body[len(body):len(body)+m]); err != nil {
			return nil, truncated(err)
		}
		body = body[:len(body)+m]
	}
	return body, nil
}

func truncated(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: truncated frame", errBadFrame)
	}
	return err
}

// encoder appends a frame to a buffer; finish fills in the length.
type encoder struct {
	b     []byte
	start int
}

func newFrame(dst []byte) encoder {
	return encoder{b: append(dst, 0, 0, 0, 0), start: len(dst)}
}

func (e *encoder) u8(v byte) { e.b = append(e.b, v) }

func (e *encoder) u32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }

func (e *encoder) str16(s string) {
	e.b = binary.BigEndian.AppendUint16(e.b, uint16(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) bytes(p []byte) {
	e.u32(uint32(len(p)))
	e.b = append(e.b, p...)
}

func (e *encoder) nbytes(p []byte) {
	if p == nil {
		e.u32(nilLen)
		return
	}
	e.bytes(p)
}

func (e *encoder) raw(p []byte) { e.b = append(e.b, p...) }

func (e *encoder) finish() []byte {
	binary.BigEndian.PutUint32(e.b[e.start:], uint32(len(e.b)-e.start-4))
	return e.b
}

// appendRequest appends r as a frame to dst. The caller has checked the
// size limits, which keep the frame under maxFrameSize.
func appendRequest(dst []byte, r *request) []byte {
	e := newFrame(dst)
	e.u8(r.op)
	e.str16(r.name)
	switch r.op {
	case opGet, opDelete:
		e.bytes(r.key)
	case opPut, opPutIfAbsent:
		e.bytes(r.key)
		e.bytes(r.val)
	case opScan:
		e.bytes(r.key)
		e.nbytes(r.old)
	case opCAS:
		e.bytes(r.key)
		e.nbytes(r.old)
		e.nbytes(r.val)
	case opBatch:
		e.u32(uint32(len(r.ops)))
		for _, op := range r.ops {
			e.bytes(op.Key)
			e.nbytes(op.Value)
		}
	}
	return e.finish()
}

// appendResponse appends r as a frame to dst.
func appendResponse(dst []byte, r *response) []byte {
	e := newFrame(dst)
	e.u8(r.status)
	switch r.status {
	case stOK:
		e.raw(r.val)
	case stItem:
		e.bytes(r.key)
		e.bytes(r.val)
	case stError:
		msg := r.val
		if len(msg) > maxErrorText {
			msg = msg[:maxErrorText]
		}
		e.raw(msg)
	}
	return e.finish()
}

// decoder reads fields from a body; the first error sticks and later
// reads return zero values, so a decode function checks once at the end.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = badFrame(format, args...)
	}
}

func (d *decoder) u8(what string) byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 1 {
		d.fail("%s: body too short", what)
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) u32(what string) uint32 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 4 {
		d.fail("%s: body too short", what)
		return 0
	}
	v := binary.BigEndian.Uint32(d.b)
	d.b = d.b[4:]
	return v
}

func (d *decoder) str16(what string, limit int) string {
	if d.err != nil {
		return ""
	}
	if len(d.b) < 2 {
		d.fail("%s: body too short", what)
		return ""
	}
	n := int(binary.BigEndian.Uint16(d.b))
	d.b = d.b[2:]
	if n > limit {
		d.fail("%s of %d bytes over the limit of %d", what, n, limit)
		return ""
	}
	if len(d.b) < n {
		d.fail("%s: body too short", what)
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// field reads a bytes field; it is never nil, so an empty value stays a
// value.
func (d *decoder) field(what string, limit int) []byte {
	p, isNil := d.nfield(what, limit)
	if isNil {
		d.fail("%s: nil where a value is required", what)
	}
	return p
}

// nfield reads an nbytes field.
func (d *decoder) nfield(what string, limit int) ([]byte, bool) {
	n := d.u32(what)
	if d.err != nil {
		return nil, false
	}
	if n == nilLen {
		return nil, true
	}
	if int64(n) > int64(limit) {
		d.fail("%s of %d bytes over the limit of %d", what, n, limit)
		return nil, false
	}
	if uint64(len(d.b)) < uint64(n) {
		d.fail("%s: body too short", what)
		return nil, false
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p, false
}

func (d *decoder) nbytes(what string, limit int) []byte {
	p, _ := d.nfield(what, limit)
	return p
}

func (d *decoder) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	return d.err
}

// decodeRequest decodes a request body. The result points into body.
func decodeRequest(body []byte) (request, error) {
	d := decoder{b: body}
	var r request
	r.op = d.u8("op")
	r.name = d.str16("database name", MaxNameSize)
	switch r.op {
	case opPing, opContinue, opStop:
		if r.name != "" {
			d.fail("%s with a database name", opName(r.op))
		}
	case opGet, opDelete:
		r.key = d.field("key", MaxKeySize)
	case opPut, opPutIfAbsent:
		r.key = d.field("key", MaxKeySize)
		r.val = d.field("value", MaxValueSize)
	case opScan:
		r.key = d.field("prefix", MaxKeySize)
		r.old = d.nbytes("after", MaxKeySize)
	case opCAS:
		r.key = d.field("key", MaxKeySize)
		r.old = d.nbytes("old value", MaxValueSize)
		r.val = d.nbytes("new value", MaxValueSize)
	case opBatch:
		n := d.u32("batch count")
		// Each op takes at least 8 bytes: check the count against what
		// is there before allocating for it.
		if d.err == nil && uint64(n) > uint64(len(d.b))/8 {
			d.fail("batch count %d larger than the frame", n)
		}
		if d.err == nil {
			r.ops = make([]Op, n)
			total := 0
			for i := range r.ops {
				r.ops[i].Key = d.field("batch key", MaxKeySize)
				r.ops[i].Value = d.nbytes("batch value", MaxValueSize)
				total += len(r.ops[i].Key) + len(r.ops[i].Value) + 8
			}
			if total > MaxBatchSize {
				d.fail("batch of %d bytes over the limit of %d", total, MaxBatchSize)
			}
		}
	default:
		if d.err == nil {
			d.fail("unknown op %d", r.op)
		}
	}
	if err := d.end(); err != nil {
		return request{}, err
	}
	return r, nil
}

// decodeResponse decodes a response body. The result points into body.
func decodeResponse(body []byte) (response, error) {
	d := decoder{b: body}
	var r response
	r.status = d.u8("status")
	switch r.status {
	case stOK:
		r.val = d.b
		d.b = nil
	case stItem:
		r.key = d.field("key", MaxKeySize)
		r.val = d.field("value", MaxValueSize)
	case stError:
		if len(d.b) > maxErrorText {
			d.fail("error text of %d bytes", len(d.b))
		}
		r.val = d.b
		d.b = nil
	case stNotFound, stMore, stEnd, stUnknownDB:
	default:
		if d.err == nil {
			d.fail("unknown status %d", r.status)
		}
	}
	if err := d.end(); err != nil {
		return response{}, err
	}
	return r, nil
}
