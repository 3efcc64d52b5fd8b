package lmtpserver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/duplicate"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/tlsconf"
)

// deliverOne runs a whole transaction on a new connection and returns
// the replies after the message.
func (e *testEnv) deliverOne(srv *Server, rcpts []string, msg string) []string {
	e.t.Helper()
	c := e.dial(srv, false)
	defer c.close()
	c.expect("220 <<*>>")
	c.send("MAIL FROM:<sender@example.com>")
	c.expect("250 2.1.0 ok")
	for _, r := range rcpts {
		c.send("RCPT TO:<" + r + ">")
		c.expect("250 2.1.5 ok")
	}
	c.send("DATA")
	c.expect("354 go ahead")
	c.write(msg + ".\r\n")
	var out []string
	for range rcpts {
		out = append(out, c.line())
	}
	c.send("QUIT")
	c.expect("221 2.0.0 bye")
	return out
}

func testMessage(id string) string {
	return "From: sender@example.com\r\nSubject: test\r\nMessage-ID: " + id + "\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\n\r\nbody\r\n"
}

// messageFiles returns the paths of the message files of a mailbox.
func (e *testEnv) messageFiles(name string) []string {
	e.t.Helper()
	ent, err := e.store.Lookup(name)
	if err != nil {
		e.t.Fatal(err)
	}
	data, _, err := e.store.Dirs(ent)
	if err != nil {
		e.t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(data, "*."))
	return files
}

func nlink(t testing.TB, path string) uint64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return uint64(fi.Sys().(*syscall.Stat_t).Nlink)
}

// TestSingleInstance: a message for several mailboxes of one partition
// is one file, hard-linked (singleinstancestore); with the option off
// each mailbox gets its own copy; a mailbox on another partition gets a
// copy staged there.
func TestSingleInstance(t *testing.T) {
	e := newTestEnv(t, map[string]string{"partition-other": "@DIR@/other"})
	if _, err := e.store.Create(testAdmin, "user.dave", mailboxCreateOn("other")); err != nil {
		t.Fatal(err)
	}
	got := e.deliverOne(e.server(), []string{"alice", "bob", "dave"}, testMessage("<sis@x>"))
	for _, r := range got {
		if !match("250 2.1.5 Success SESSIONID=<*>", r) {
			t.Fatalf("replies %q", got)
		}
	}
	a, b, d := e.messageFiles("user.alice"), e.messageFiles("user.bob"), e.messageFiles("user.dave")
	if len(a) != 1 || len(b) != 1 || len(d) != 1 {
		t.Fatalf("files: %v %v %v", a, b, d)
	}
	if n := nlink(t, a[0]); n != 2 {
		t.Errorf("alice's file has %d links, want 2 (shared with bob)", n)
	}
	if n := nlink(t, d[0]); n != 1 {
		t.Errorf("dave's file (other partition) has %d links, want 1", n)
	}
	if !strings.HasPrefix(d[0], filepath.Join(e.dir, "other")) {
		t.Errorf("dave's message is at %s", d[0])
	}

	e2 := newTestEnv(t, map[string]string{"singleinstancestore": "no"})
	e2.deliverOne(e2.server(), []string{"alice", "bob"}, testMessage("<nosis@x>"))
	if n := nlink(t, e2.messageFiles("user.alice")[0]); n != 1 {
		t.Errorf("singleinstancestore: no, %d links", n)
	}
	if e2.count("user.bob") != 1 {
		t.Error("bob got nothing")
	}
	// Nothing is left in the stage directories.
	for _, dir := range []string{filepath.Join(e.dir, "spool", "stage."), filepath.Join(e.dir, "other", "stage."), filepath.Join(e2.dir, "spool", "stage.")} {
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("%s holds %d files", dir, len(ents))
		}
	}
}

// TestDuplicateOrphan: a process died while delivering a message. If it
// had stored it, the next delivery finds it and stores nothing; if not,
// the next delivery stores it.
func TestDuplicateOrphan(t *testing.T) {
	e := newTestEnv(t, nil)
	srv := e.server()
	db, _ := e.dbs.DB(cyrusdb.Deliver)
	inbox, _ := e.store.Lookup("user.alice")
	date := "Mon, 01 Jan 2024 00:00:00 +0000"
	dead := duplicate.New(db, duplicate.Options{Self: duplicate.Process{Boot: "another-boot", PID: 1}})

	// Stored, not marked: the record left is the dead process's claim.
	e.deliverOne(srv, []string{"alice"}, testMessage("<stored@x>"))
	m, _ := e.store.OpenForDelivery("user.alice")
	r, _ := m.Record(1)
	m.Close()
	key := duplicate.Key{ID: "<stored@x>", To: inbox.UniqueID, Date: date}
	db.Delete(key.Bytes())
	if _, err := dead.Claim(context.Background(), key, r.GUID); err != nil {
		t.Fatal(err)
	}
	got := e.deliverOne(srv, []string{"alice"}, testMessage("<stored@x>"))
	if !match("250 2.1.5 Success SESSIONID=<*>", got[0]) || e.count("user.alice") != 1 {
		t.Fatalf("redelivery after a death past the commit: %q, %d messages", got, e.count("user.alice"))
	}
	if !strings.Contains(e.log.String(), "by process 1 before it died") {
		t.Errorf("log:\n%s", e.log.String())
	}
	if dup, _ := srv.opts.Dupes.Check(key); !dup {
		t.Error("not marked after the recovery")
	}

	// Claimed, not stored.
	key2 := duplicate.Key{ID: "<lost@x>", To: inbox.UniqueID, Date: date}
	if _, err := dead.Claim(context.Background(), key2, [20]byte{1}); err != nil {
		t.Fatal(err)
	}
	e.deliverOne(srv, []string{"alice"}, testMessage("<lost@x>"))
	if n := e.count("user.alice"); n != 2 {
		t.Fatalf("redelivery after a death before the commit: %d messages, want 2", n)
	}
}

// TestDuplicateRace: two servers (as two lmtpd processes) receive the same
// message for the same mailbox at once; it is stored once and both say
// 250.
func TestDuplicateRace(t *testing.T) {
	e := newTestEnv(t, nil)
	db, _ := e.dbs.DB(cyrusdb.Deliver)
	mk := func(pid int) *Server {
		return e.server(func(o *Options) {
			o.Dupes = duplicate.New(db, duplicate.Options{Logger: o.Logger, Self: duplicate.Process{PID: pid}, Alive: func(duplicate.Process) bool { return true }})
		})
	}
	servers := []*Server{mk(101), mk(202)}
	for round := 0; round < 5; round++ {
		id := fmt.Sprintf("<race-%d@x>", round)
		var wg sync.WaitGroup
		replies := make([][]string, len(servers))
		for i, srv := range servers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				replies[i] = e.deliverOne(srv, []string{"alice", "bob"}, testMessage(id))
			}()
		}
		wg.Wait()
		for _, r := range replies {
			for _, l := range r {
				if !match("250 2.1.5 Success SESSIONID=<*>", l) {
					t.Fatalf("round %d: replies %q", round, replies)
				}
			}
		}
		if a, b := e.count("user.alice"), e.count("user.bob"); a != round+1 || b != round+1 {
			t.Fatalf("round %d: alice %d, bob %d messages", round, a, b)
		}
	}
	if !strings.Contains(e.log.String(), "dupelim: eliminated duplicate message to ") {
		t.Errorf("no dupelim line:\n%s", e.log.String())
	}
}

// TestDuplicateSuppressionOff: duplicatesuppression: no stores every
// copy.
func TestDuplicateSuppressionOff(t *testing.T) {
	e := newTestEnv(t, map[string]string{"duplicatesuppression": "no"})
	srv := e.server()
	e.deliverOne(srv, []string{"alice"}, testMessage("<same@x>"))
	e.deliverOne(srv, []string{"alice"}, testMessage("<same@x>"))
	if n := e.count("user.alice"); n != 2 {
		t.Fatalf("%d messages, want 2", n)
	}
}

// TestLogLines: the lines Cyrus admins grep for.
func TestLogLines(t *testing.T) {
	e := newTestEnv(t, nil)
	srv := e.server()
	e.deliverOne(srv, []string{"alice"}, testMessage("<t1@example.com>"))
	e.deliverOne(srv, []string{"alice"}, testMessage("<t1@example.com>"))
	inbox, _ := e.store.Lookup("user.alice")
	for _, want := range []string{
		"info: Delivered: <t1@example.com> to mailbox: user.alice",
		"info: dupelim: eliminated duplicate message to " + inbox.UniqueID + " id <t1@example.com> date Mon, 01 Jan 2024 00:00:00 +0000 (delivery)",
	} {
		if !strings.Contains(e.log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, e.log.String())
		}
	}
}

// TestSieveHook: the hook runs for user recipients before the keep.
func TestSieveHook(t *testing.T) {
	e := newTestEnv(t, nil)
	e.create("user.alice.Filed")
	var seen []string
	var mu sync.Mutex
	srv := e.server(func(o *Options) {
		o.Sieve = func(ctx context.Context, rc *Recipient, msg *Message, deliver DeliverFunc) (bool, error) {
			mu.Lock()
			seen = append(seen, rc.UserID)
			mu.Unlock()
			switch rc.UserID {
			case "alice":
				return true, deliver(nil, "user.alice.Filed", []string{`\Flagged`})
			case "bob":
				return false, errors.New("script error")
			}
			return false, nil
		}
	})
	e.deliverOne(srv, []string{"alice", "bob", "carol"}, testMessage("<sieve@x>"))
	if e.count("user.alice.Filed") != 1 || e.count("user.alice") != 0 || e.count("user.bob") != 1 || e.count("user.carol") != 1 {
		t.Fatalf("counts: Filed %d, alice %d, bob %d, carol %d", e.count("user.alice.Filed"), e.count("user.alice"), e.count("user.bob"), e.count("user.carol"))
	}
	if strings.Join(seen, ",") != "alice,bob,carol" {
		t.Errorf("hook ran for %v", seen)
	}
}

// TestShutdownAndTimeout: an idle session is told goodbye when the
// process stops, and when the client says nothing for too long.
func TestShutdownAndTimeout(t *testing.T) {
	e := newTestEnv(t, nil)
	c := e.dial(e.server(), false)
	c.expect("220 <<*>>")
	e.stop()
	c.expect("421 4.3.2 Server shutting down")

	e2 := newTestEnv(t, nil)
	c2 := e2.dial(e2.server(func(o *Options) { o.Timeout = 100 * time.Millisecond }), false)
	c2.expect("220 <<*>>")
	c2.expect("421 4.4.1 bye idle for too long")
}

// TestStartTLS: STARTTLS on TCP, then AUTH; the Received field says so.
func TestStartTLS(t *testing.T) {
	e := newTestEnv(t, nil)
	cert, key := filepath.Join(e.dir, "c.pem"), filepath.Join(e.dir, "c.key")
	if err := tlsconf.SelfSigned(cert, key, []string{"test.example"}); err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	srv := e.server(func(o *Options) { o.TLS = &tls.Config{Certificates: []tls.Certificate{pair}} })
	c := e.dial(srv, true)
	c.expect("220 <<*>>")
	c.send("LHLO tls.example")
	c.expect("250-test.example", "250-8BITMIME", "250-ENHANCEDSTATUSCODES", "250-PIPELINING", "250-SIZE",
		"250-STARTTLS", "250-AUTH PLAIN LOGIN", "250-CHUNKING", "250-IGNOREQUOTA", "250 Ok SESSIONID=<*>")
	c.send("STARTTLS")
	c.expect("220 2.0.0 Begin TLS negotiation now")
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true, ServerName: "test.example"})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.conn = tc
	c.br.Reset(tc)
	c.send("LHLO tls.example")
	c.expect("250-test.example", "250-8BITMIME", "250-ENHANCEDSTATUSCODES", "250-PIPELINING", "250-SIZE",
		"250-AUTH PLAIN LOGIN", "250-CHUNKING", "250-IGNOREQUOTA", "250 Ok SESSIONID=<*>")
	c.send("STARTTLS")
	c.expect("454 4.3.3 Already successfully executed STARTTLS")
	c.send("AUTH PLAIN AGN5cnVzAHg=")
	c.expect("235 Authenticated!")
	c.send("MAIL FROM:<s@example.com>")
	c.expect("250 2.1.0 ok")
	c.send("RCPT TO:<alice>")
	c.expect("250 2.1.5 ok")
	c.send("DATA")
	c.expect("354 go ahead")
	c.write(testMessage("<tls@x>") + ".\r\n")
	c.expect("250 2.1.5 Success SESSIONID=<*>")
	c.send("QUIT")
	c.expect("221 2.0.0 bye")
	c.close()
	msg := e.newest("user.alice")
	if !strings.Contains(msg, " with LMTPSA\r\n\t (version=TLS") || !strings.Contains(msg, "verify=NO);\r\n\t ") {
		t.Errorf("Received field:\n%s", msg)
	}
}

// TestNormalizer: CRLF line ends, whatever came, in any read sizes.
func TestNormalizer(t *testing.T) {
	cases := []struct{ in, out string }{
		{"a\r\nb\r\n", "a\r\nb\r\n"},
		{"a\nb\n", "a\r\nb\r\n"},
		{"a\rb\r\n", "ab\r\n"},
		{"a\r\r\n", "a\r\n"},
		{"end\r", "end"},
		{"", ""},
	}
	for _, c := range cases {
		for _, one := range []bool{false, true} {
			var src io.Reader = strings.NewReader(c.in)
			if one {
				src = iotest.OneByteReader(src)
			}
			got, err := io.ReadAll(newNormalizer(src))
			if err != nil || string(got) != c.out {
				t.Errorf("normalize %q (one byte reads %v) = %q, %v; want %q", c.in, one, got, err, c.out)
			}
		}
	}
	if _, err := io.ReadAll(newNormalizer(strings.NewReader("a\x00b"))); !errors.Is(err, errNUL) {
		t.Errorf("NUL: %v", err)
	}
}

// TestDotReader: transparency and the end of data, in any read sizes.
func TestDotReader(t *testing.T) {
	cases := []struct{ in, out, rest string }{
		{"a\r\n.\r\nNEXT", "a\r\n", "NEXT"},
		{".\r\n", "", ""},
		{"..x\r\n.\n", ".x\r\n", ""},
		{"x.\r\n.y\r\n.\r\n", "x.\r\ny\r\n", ""},
		{".\rx\r\n.\r\n", "\rx\r\n", ""},
	}
	for _, c := range cases {
		for _, one := range []bool{false, true} {
			var src io.Reader = strings.NewReader(c.in)
			if one {
				src = iotest.OneByteReader(src)
			}
			br := bufioReader(src)
			d := newDotReader(br)
			got, err := io.ReadAll(d)
			rest, _ := io.ReadAll(br)
			if err != nil || string(got) != c.out || string(rest) != c.rest {
				t.Errorf("dot %q (one byte %v) = %q rest %q, %v", c.in, one, got, rest, err)
			}
		}
	}
	d := newDotReader(bufioReader(strings.NewReader("no end\r\n")))
	if _, err := io.ReadAll(d); !errors.Is(err, io.ErrUnexpectedEOF) || d.err == nil {
		t.Errorf("unterminated: %v", err)
	}
}

// TestLongLines: a command line over the limit is refused and skipped; a
// header line longer than the read buffer is stored whole.
func TestLongLines(t *testing.T) {
	e := newTestEnv(t, nil)
	c := e.dial(e.server(), false)
	c.expect("220 <<*>>")
	c.send("NOOP " + strings.Repeat("x", 100000))
	c.expect("500 5.5.2 Line too long")
	c.send("NOOP")
	c.expect("250 2.0.0 ok")
	c.send("MAIL FROM:<s@x>")
	c.expect("250 2.1.0 ok")
	c.send("RCPT TO:<alice>")
	c.expect("250 2.1.5 ok")
	c.send("DATA")
	c.expect("354 go ahead")
	long := "X-Long: " + strings.Repeat("é", 100000)
	c.write(long + "\r\nMessage-ID: <long@x>\r\n\r\nbody\r\n.\r\n")
	c.expect("250 2.1.5 Success SESSIONID=<*>")
	c.close()
	msg := e.newest("user.alice")
	if !strings.Contains(msg, "\r\nX-Long: "+strings.Repeat("X", 200000)+"\r\nMessage-ID: <long@x>\r\n") {
		t.Errorf("long header not stored munged in full (%d bytes)", len(msg))
	}
	if bytes.Contains([]byte(msg), []byte("é")) {
		t.Error("8-bit bytes left in a header")
	}
}

// TestConfigDefaults: the options a default imapd.conf gives.
func TestConfigDefaults(t *testing.T) {
	e := newTestEnv(t, nil)
	s := e.server()
	if !s.downcase || s.fuzzy || s.overQuotaPerm || s.strictQuota || s.reject8bit || !s.munge8bit || !s.softNoAuth || !s.singleInstance || s.autocreate || s.opts.Dupes == nil {
		t.Errorf("defaults: %+v", s)
	}
	if e.cfg.Size(config.MaxMessageSize) != 0 || s.maxSizeShown() != 1<<31-1 {
		t.Error("maxmessagesize default")
	}
}

func mailboxCreateOn(partition string) mailbox.CreateOptions {
	return mailbox.CreateOptions{Partition: partition}
}

// bufioReader is a small buffer, so the dot reader's look-ahead crosses
// refills.
func bufioReader(r io.Reader) *bufio.Reader { return bufio.NewReaderSize(r, 16) }
