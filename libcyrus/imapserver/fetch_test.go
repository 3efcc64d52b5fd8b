package imapserver

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

func TestFetchTranscript(t *testing.T)    { t.Parallel(); runTranscript(t, "fetch.txt") }
func TestSessionsTranscript(t *testing.T) { t.Parallel(); runTranscript(t, "sessions.txt") }

// fixture is a server with alice's INBOX holding msgs, and a session on
// it after SELECT.
func fixture(t *testing.T, extra map[string]string, msgs ...string) (*testEnv, *testConn) {
	t.Helper()
	e := newTestEnv(t, extra)
	e.create("user.alice")
	date := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, m := range msgs {
		e.deliver("user.alice", m, date)
	}
	c := e.dial()
	c.mustOK("L", "LOGIN alice secret")
	c.mustOK("S", "SELECT INBOX")
	return e, c
}

func mustMessage(t *testing.T, name string) string {
	t.Helper()
	m, err := readMessage(name)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// literal reads the literal whose header ends line: its bytes and the
// rest of the line after it.
func (c *testConn) literal(line string) (data []byte, rest string) {
	c.t.Helper()
	open := strings.LastIndexAny(line, "{")
	var n int
	if _, err := fmt.Sscanf(line[open:], "{%d}", &n); err != nil {
		c.t.Fatalf("no literal in %q", line)
	}
	data = make([]byte, n)
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c.br, data); err != nil {
		c.t.Fatalf("literal: %v", err)
	}
	return data, c.line()
}

// RFC 3516 4.2: decoded content holding NUL goes out as a literal8.
func TestFetchBinaryLiteral8(t *testing.T) {
	t.Parallel()
	_, c := fixture(t, nil, mustMessage(t, "multipart.eml"))
	c.send("b1 FETCH 1 BINARY.PEEK[2]")
	l := c.line()
	if !strings.HasSuffix(l, "BINARY[2] ~{8}") {
		t.Fatalf("got %q", l)
	}
	data, rest := c.literal(l)
	if string(data) != "\x00\x01\x02\x03\x04\x05\x06\x07" || rest != ")" {
		t.Fatalf("got %q %q", data, rest)
	}
	if l := c.line(); l != "b1 OK Completed" {
		t.Fatalf("got %q", l)
	}
	// A CTE the server cannot undo fails the command (4.2).
	_, c = fixture(t, nil, "Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n")
	out := c.cmd("b2", "FETCH 1 BINARY.PEEK[1]")
	if got := out[len(out)-1]; got != "b2 NO [UNKNOWN-CTE] Can not decode message part" {
		t.Fatalf("got %q", out)
	}
}

// A large body is streamed from the file, partial fetches included.
func TestFetchLargeBody(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	msg := "Subject: big\r\n\r\n" + body
	_, c := fixture(t, nil, msg)
	c.send("l1 FETCH 1 (BODY.PEEK[TEXT] BODY.PEEK[]<1048570.100>)")
	l := c.line()
	data, rest := c.literal(l)
	if string(data) != body {
		t.Fatalf("body of %d bytes differs", len(data))
	}
	tail, rest2 := c.literal(rest)
	if want := msg[1048570:]; string(tail) != want || rest2 != ")" {
		t.Fatalf("partial %q %q, want %q", tail, rest2, want)
	}
	if l := c.line(); l != "l1 OK Completed" {
		t.Fatalf("got %q", l)
	}
}

// With expunge_mode immediate the file of a message expunged by another
// session is gone: the message is left out of the FETCH (RFC 2180 4.1)
// while what the record answers still goes out.
func TestFetchExpungedByOther(t *testing.T) {
	t.Parallel()
	e, a := fixture(t, map[string]string{"expunge_mode": "immediate"},
		mustMessage(t, "simple.eml"), mustMessage(t, "encoded.eml"))
	b := e.dial()
	b.mustOK("L", "LOGIN alice secret")
	b.mustOK("S", "SELECT INBOX")
	b.mustOK("D", "STORE 1 +FLAGS.SILENT (\\Deleted)")
	b.mustOK("X", "EXPUNGE")

	out := a.mustOK("f1", "FETCH 1:2 (UID BODY.PEEK[TEXT])")
	if len(out) < 2 || !strings.HasPrefix(out[0], "* 2 FETCH (UID 2 BODY[TEXT]") {
		t.Fatalf("got %q", out)
	}
	out = a.mustOK("f2", "FETCH 1 (UID FLAGS)")
	if out[0] != `* 1 FETCH (FLAGS (\Recent \Deleted) UID 1)` {
		t.Fatalf("got %q", out)
	}
	out = a.mustOK("n", "NOOP")
	if out[0] != "* 1 EXPUNGE" {
		t.Fatalf("got %q", out)
	}
}

// FETCH of every message's flags reads records, not message files.
func TestFetchFlagsMany(t *testing.T) {
	t.Parallel()
	const n = 100
	e := newTestEnv(t, nil)
	e.create("user.alice")
	m, err := e.store.OpenForDelivery("user.alice")
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		flags := []string{}
		if i%3 == 0 {
			flags = append(flags, `\Seen`, fmt.Sprintf("kw%d", i%7))
		}
		if _, err := m.AppendReader(strings.NewReader(fmt.Sprintf("Subject: %d\r\n\r\nx\r\n", i)), flags, time.Time{}, 0); err != nil {
			t.Fatal(err)
		}
	}
	m.Close()
	c := e.dial()
	c.mustOK("L", "LOGIN alice secret")
	c.mustOK("S", "EXAMINE INBOX")
	out := c.mustOK("f", "FETCH 1:* (FLAGS UID)")
	if len(out) != n+1 {
		t.Fatalf("%d lines", len(out))
	}
	if want := `* 1 FETCH (FLAGS (\Seen kw0) UID 1)`; out[0] != want {
		t.Errorf("got %q want %q", out[0], want)
	}
	if want := `* 4 FETCH (FLAGS (\Seen kw3) UID 4)`; out[3] != want {
		t.Errorf("got %q want %q", out[3], want)
	}
}

// A non-PEEK FETCH of many messages sets \Seen on all of them, chunk by
// chunk, and reports each message's new FLAGS.
func TestFetchSetsSeenInChunks(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.create("user.alice")
	const n = fetchChunk + 10
	for i := range n {
		e.deliver("user.alice", fmt.Sprintf("Subject: %d\r\n\r\nbody\r\n", i), time.Time{})
	}
	c := e.dial()
	c.mustOK("L", "LOGIN alice secret")
	c.mustOK("S", "SELECT INBOX")
	c.send("f FETCH 1:* BODY[TEXT]")
	for i := 1; i <= n; i++ {
		l := c.line()
		want := fmt.Sprintf(`* %d FETCH (FLAGS (\Recent \Seen) BODY[TEXT] {6}`, i)
		if l != want {
			t.Fatalf("got %q want %q", l, want)
		}
		c.line() // "body"
		c.line() // ")"
	}
	if l := c.line(); l != "f OK Completed" {
		t.Fatalf("got %q", l)
	}
	out := c.mustOK("s", "SEARCH UNSEEN")
	if out[0] != "* SEARCH" {
		t.Fatalf("got %q", out)
	}
}

// IDLE is woken by changes from other sessions and deliveries within a
// second (RFC 2177).
func TestIdleWokenByOtherSession(t *testing.T) {
	t.Parallel()
	e, a := fixture(t, nil, mustMessage(t, "simple.eml"))
	b := e.dial()
	b.mustOK("L", "LOGIN alice secret")
	b.mustOK("S", "SELECT INBOX")
	a.send("i IDLE")
	if l := a.line(); !strings.HasPrefix(l, "+ ") {
		t.Fatalf("got %q", l)
	}
	start := time.Now()
	b.mustOK("st", `STORE 1 +FLAGS (\Flagged)`)
	a.conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	if l := a.line(); l != `* 1 FETCH (FLAGS (\Recent \Flagged) UID 1)` {
		t.Fatalf("got %q", l)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("IDLE woken after %v", d)
	}
	e.deliver("user.alice", mustMessage(t, "encoded.eml"), time.Time{})
	if l := a.line(); l != "* 2 EXISTS" {
		t.Fatalf("got %q", l)
	}
	a.line() // RECENT
	a.send("DONE")
	if l := a.line(); l != "i OK Completed" {
		t.Fatalf("got %q", l)
	}
}

// BenchmarkFetchFlags measures FETCH 1:* (FLAGS UID) per message: records
// only, no message file or cache read.
func BenchmarkFetchFlags(b *testing.B) {
	const n = 300
	e := newTestEnv(b, nil)
	e.create("user.alice")
	m, err := e.store.OpenForDelivery("user.alice")
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if _, err := m.AppendReader(strings.NewReader(fmt.Sprintf("Subject: %d\r\n\r\nx\r\n", i)), []string{`\Seen`, "$Label"}, time.Time{}, 0); err != nil {
			b.Fatal(err)
		}
	}
	m.Close()
	c := e.dial()
	c.mustOK("L", "LOGIN alice secret")
	c.mustOK("S", "EXAMINE INBOX")
	b.ResetTimer()
	for b.Loop() {
		if out := c.cmd("f", "FETCH 1:* (FLAGS UID)"); len(out) != n+1 {
			b.Fatalf("%d lines", len(out))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/msg")
}
