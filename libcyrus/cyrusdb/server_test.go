package cyrusdb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestManyConcurrentCAS: many goroutines on one Client increment one
// counter with CompareAndSwap; no increment is lost or doubled.
func TestManyConcurrentCAS(t *testing.T) {
	ts := startServer(t, shortDir(t))
	c := dial(t, ts.srv.Path())
	db := c.DB(Quota)
	const workers, each = 32, 50
	mustPut(t, db, "n", "0")
	var wg sync.WaitGroup
	var failed atomic.Value
	for range workers {
		wg.Go(func() {
			for range each {
				if err := increment(db, []byte("n")); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, db, "n"); got != strconv.Itoa(workers*each) {
		t.Fatalf("counter %s, want %d", got, workers*each)
	}
}

func TestUnknownDB(t *testing.T) {
	ts := startServer(t, shortDir(t))
	c := dial(t, ts.srv.Path())
	for _, name := range []string{"nosuch", strings.Repeat("x", MaxNameSize+1)} {
		db := c.DB(name)
		_, err := db.Get([]byte("k"))
		if !errors.Is(err, ErrUnknownDB) {
			t.Fatalf("Get on %.10q: %v", name, err)
		}
		if err := db.Scan(nil, func(_, _ []byte) error { return nil }); !errors.Is(err, ErrUnknownDB) {
			t.Fatalf("Scan on %.10q: %v", name, err)
		}
		if _, err := db.CompareAndSwap([]byte("k"), nil, nil); !errors.Is(err, ErrUnknownDB) {
			t.Fatalf("CAS on %.10q: %v", name, err)
		}
	}
	// The connection that got UNKNOWNDB is still good.
	mustPut(t, c.DB(Mailboxes), "k", "v")
}

// TestNestedScanNoPool: a scan callback that calls the client works even
// with no idle pool, because each call dials its own connection.
func TestNestedScanNoPool(t *testing.T) {
	ts := startServer(t, shortDir(t))
	c := dial(t, ts.srv.Path(), WithMaxIdle(0))
	db := c.DB(Annotations)
	for i := range 5 {
		mustPut(t, db, fmt.Sprintf("a%d", i), "v")
	}
	n := 0
	err := db.Scan([]byte("a"), func(k, _ []byte) error {
		return db.Scan(k, func(k2, _ []byte) error {
			n++
			return db.Put(append([]byte("b"), k2...), nil)
		})
	})
	if err != nil || n != 5 {
		t.Fatalf("nested scan: n=%d err=%v", n, err)
	}
}

// TestServerRestart: master restarts under a client; the client's next
// operations reconnect, including a conditional write on a connection
// that died while idle (the send fails, so it is safely resent).
func TestServerRestart(t *testing.T) {
	dir := shortDir(t)
	ts := startServer(t, dir)
	var clog logBuffer
	c := dial(t, ts.srv.Path(), WithClientLogger(clog.logger()))
	db := c.DB(Mailboxes)
	mustPut(t, db, "before", "1")

	ts.stop()
	type result struct {
		store *Store
		srv   *Server
		err   error
	}
	restarted := make(chan result, 1)
	go func() {
		// As master does after a restart: the files, then the socket.
		time.Sleep(300 * time.Millisecond)
		st, err := OpenStore(dir)
		if err != nil {
			restarted <- result{err: err}
			return
		}
		srv, err := Serve(context.Background(), st, SocketPath(dir), nil)
		restarted <- result{st, srv, err}
	}()
	start := time.Now()
	err := db.Put([]byte("during"), []byte("2")) // waits for the restart
	r := <-restarted
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.store.Close()
	defer r.srv.Close()
	if err != nil {
		t.Fatalf("Put across the restart: %v", err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("put returned after %v, before the server was back", d)
	}
	if got := mustGet(t, db, "before"); got != "1" {
		t.Fatalf("before = %q", got)
	}
	if got := mustGet(t, db, "during"); got != "2" {
		t.Fatalf("during = %q", got)
	}
	if !strings.Contains(clog.String(), "reconnected") {
		t.Errorf("reconnection not logged:\n%s", clog.String())
	}
}

func TestCASOnStalePool(t *testing.T) {
	dir := shortDir(t)
	ts := startServer(t, dir)
	c := dial(t, ts.srv.Path())
	db := c.DB(Mailboxes)
	var wg sync.WaitGroup
	for range 4 { // several pooled connections
		wg.Go(func() { db.Get([]byte("x")) })
	}
	wg.Wait()
	ts.stop()
	startServer(t, dir)
	ok, err := db.CompareAndSwap([]byte("k"), nil, []byte("v"))
	if err != nil || !ok {
		t.Fatalf("CAS after restart: %v, %v", ok, err)
	}
	ok, err = db.PutIfAbsent([]byte("k"), []byte("w"))
	if err != nil || ok {
		t.Fatalf("PutIfAbsent after restart: %v, %v", ok, err)
	}
}

func TestRetryTimeout(t *testing.T) {
	ts := startServer(t, shortDir(t))
	c := dial(t, ts.srv.Path(), WithRetryTimeout(300*time.Millisecond))
	db := c.DB(Mailboxes)
	ts.stop()
	start := time.Now()
	err := db.Put([]byte("k"), []byte("v"))
	d := time.Since(start)
	if err == nil {
		t.Fatal("Put with no server succeeded")
	}
	if d < 250*time.Millisecond || d > 3*time.Second {
		t.Fatalf("gave up after %v, want about 300ms", d)
	}
	if !strings.Contains(err.Error(), "no answer from") {
		t.Fatalf("error %q", err)
	}
	c.Close()
	if _, err := db.Get([]byte("k")); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// proxy stands between client and server and can swallow the next request
// frame and hang up, as a master that dies after reading a request would.
type proxy struct {
	ln       net.Listener
	target   string
	dropNext atomic.Bool
}

func startProxy(t *testing.T, path, target string) *proxy {
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *proxy) serve(c net.Conn) {
	defer c.Close()
	up, err := net.Dial("unix", p.target)
	if err != nil {
		return
	}
	defer up.Close()
	go io.Copy(c, up)
	for {
		body, err := readFrame(c, nil)
		if err != nil {
			return
		}
		if p.dropNext.CompareAndSwap(true, false) {
			return // read, never forwarded, no reply
		}
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], uint32(len(body)))
		if _, err := up.Write(append(hdr[:], body...)); err != nil {
			return
		}
	}
}

// TestAmbiguousWrites: a request that reached the server but got no
// reply is resent when idempotent, and reported as ErrAmbiguous when
// conditional.
func TestAmbiguousWrites(t *testing.T) {
	dir := shortDir(t)
	ts := startServer(t, dir)
	p := startProxy(t, filepath.Join(dir, "proxy"), ts.srv.Path())
	c := dial(t, filepath.Join(dir, "proxy"))
	db := c.DB(Deliver)

	p.dropNext.Store(true)
	mustPut(t, db, "k", "1") // dropped once, resent
	if got := mustGet(t, db, "k"); got != "1" {
		t.Fatalf("k = %q", got)
	}

	p.dropNext.Store(true)
	ok, err := db.CompareAndSwap([]byte("k"), []byte("1"), []byte("2"))
	if !errors.Is(err, ErrAmbiguous) || ok {
		t.Fatalf("CAS with lost reply: %v, %v; want ErrAmbiguous", ok, err)
	}
	mustGet(t, db, "k") // a pooled connection, so the drop hits the write, not a dial's ping
	p.dropNext.Store(true)
	if _, err := db.PutIfAbsent([]byte("new"), []byte("x")); !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("PutIfAbsent with lost reply: %v; want ErrAmbiguous", err)
	}
	// The client goes on working.
	if ok, err := db.CompareAndSwap([]byte("k"), []byte("1"), []byte("2")); !ok || err != nil {
		t.Fatalf("CAS afterwards: %v %v", ok, err)
	}

	// A scan whose request is lost is resent too.
	mustGet(t, db, "k")
	p.dropNext.Store(true)
	if got := dump(t, db, ""); len(got) != 1 {
		t.Fatalf("scan after drop: %q", got)
	}
}

// TestScanResumes: the server restarts in the middle of a scan; the scan
// resumes after the last key delivered, without repeats or gaps.
func TestScanResumes(t *testing.T) {
	dir := shortDir(t)
	ts := startServer(t, dir)
	c := dial(t, ts.srv.Path())
	db := c.DB(Subscriptions)
	const n = 3 * scanWindowItems
	ops := make([]Op, n)
	for i := range ops {
		ops[i] = Op{Key: fmt.Appendf(nil, "s%05d", i), Value: []byte("v")}
	}
	if err := db.Batch(ops); err != nil {
		t.Fatal(err)
	}
	seen := 0
	err := db.Scan([]byte("s"), func(k, _ []byte) error {
		if want := fmt.Sprintf("s%05d", seen); string(k) != want {
			return fmt.Errorf("got %q, want %q", k, want)
		}
		seen++
		if seen == scanWindowItems+10 {
			// Mid-window: the rest of this window is already on its way.
			ts.stop()
			ts = startServer(t, dir)
		}
		return nil
	})
	if err != nil || seen != n {
		t.Fatalf("resumed scan: seen %d of %d, %v", seen, n, err)
	}
}

// rawExchange sends data on a new connection and returns what the server
// sent before closing it; it fails the test if the server keeps it open.
func rawExchange(t *testing.T, path string, data []byte, closeWrite bool) (reply []byte) {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(data); err != nil {
		t.Fatal(err)
	}
	if closeWrite {
		c.(*net.UnixConn).CloseWrite()
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	reply, err = io.ReadAll(c)
	if err != nil {
		t.Fatalf("server did not close the connection: %v", err)
	}
	return reply
}

func rawFrame(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// TestBadFrames: garbage, truncated and oversized frames close that
// connection with a logged error; the server keeps serving the others.
func TestBadFrames(t *testing.T) {
	ts := startServer(t, shortDir(t))
	c := dial(t, ts.srv.Path())
	db := c.DB(Mailboxes)
	mustPut(t, db, "k", "v")

	name := func(n string) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(n))), n...) }
	field := func(p string) []byte { return append(binary.BigEndian.AppendUint32(nil, uint32(len(p))), p...) }
	cat := func(ps ...[]byte) []byte {
		var b []byte
		for _, p := range ps {
			b = append(b, p...)
		}
		return b
	}
	cases := []struct {
		name       string
		data       []byte
		closeWrite bool
		log        string
	}{
		{"http garbage", []byte("GET / HTTP/1.0\r\n\r\n"), false, "over the limit"},
		{"empty frame", []byte{0, 0, 0, 0}, false, "empty frame"},
		{"oversized", binary.BigEndian.AppendUint32(nil, maxFrameSize+1), false, "over the limit"},
		{"max length", binary.BigEndian.AppendUint32(nil, 0xFFFFFFFF), false, "over the limit"},
		{"truncated header", []byte{0, 0}, true, "truncated frame"},
		{"truncated body", []byte{0, 0, 0, 50, opGet, 0}, true, "truncated frame"},
		{"big claim, little data", append(binary.BigEndian.AppendUint32(nil, 100<<20), "abc"...), true, "truncated frame"},
		{"unknown op", rawFrame(cat([]byte{99}, name(""))), false, "unknown op 99"},
		{"name too long", rawFrame(cat([]byte{opGet}, binary.BigEndian.AppendUint16(nil, MaxNameSize+1))), false, "database name of"},
		{"key too long", rawFrame(cat([]byte{opGet}, name(Mailboxes), binary.BigEndian.AppendUint32(nil, MaxKeySize+1))), false, "key of"},
		{"field past end", rawFrame(cat([]byte{opGet}, name(Mailboxes), binary.BigEndian.AppendUint32(nil, 10), []byte("ab"))), false, "body too short"},
		{"trailing bytes", rawFrame(cat([]byte{opGet}, name(Mailboxes), field("k"), []byte("junk"))), false, "trailing bytes"},
		{"nil key", rawFrame(cat([]byte{opGet}, name(Mailboxes), binary.BigEndian.AppendUint32(nil, nilLen))), false, "nil where a value"},
		{"batch count lie", rawFrame(cat([]byte{opBatch}, name(Mailboxes), binary.BigEndian.AppendUint32(nil, 1<<30))), false, "larger than the frame"},
		{"continue outside scan", rawFrame(cat([]byte{opContinue}, name(""))), false, "continue outside a scan"},
		{"ping with name", rawFrame(cat([]byte{opPing}, name("x"))), false, "ping with a database name"},
		{"good then bad", append(rawFrame(cat([]byte{opPing}, name(""))), 0, 0, 0, 0), false, "empty frame"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reply := rawExchange(t, ts.srv.Path(), tc.data, tc.closeWrite)
			if tc.name == "good then bad" && len(reply) != 6 {
				t.Fatalf("reply to the good frame: %x", reply)
			} else if tc.name != "good then bad" && len(reply) != 0 {
				t.Fatalf("reply %x to a bad frame", reply)
			}
			ts.log.waitLog(t, tc.log)
			// The established client and new ones still work.
			if got := mustGet(t, db, "k"); got != "v" {
				t.Fatalf("k = %q", got)
			}
			dial(t, ts.srv.Path()).DB(Mailboxes).Get([]byte("k"))
		})
	}
	if !strings.Contains(ts.log.String(), "DBERROR") {
		t.Fatalf("no DBERROR logged:\n%s", ts.log.String())
	}
}

// TestBadFrameDuringScan: anything but CONTINUE or STOP after MORE closes
// the connection.
func TestBadFrameDuringScan(t *testing.T) {
	ts := startServer(t, shortDir(t))
	db := dial(t, ts.srv.Path()).DB(Mailboxes)
	ops := make([]Op, scanWindowItems+1)
	for i := range ops {
		ops[i] = Op{Key: fmt.Appendf(nil, "%05d", i), Value: []byte{}}
	}
	if err := db.Batch(ops); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("unix", ts.srv.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(appendRequest(nil, &request{op: opScan, name: Mailboxes, key: []byte{}}))
	for {
		body, err := readFrame(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp, _ := decodeResponse(body); resp.status == stMore {
			break
		}
	}
	c.Write(appendRequest(nil, &request{op: opGet, name: Mailboxes, key: []byte("x")}))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if rest, err := io.ReadAll(c); err != nil || len(rest) != 0 {
		t.Fatalf("after a GET mid-scan: %x, %v", rest, err)
	}
	ts.log.waitLog(t, "get during a scan")
}

// panicDB panics on Get, to show a panic stays inside its connection.
type panicDB struct{ DB }

func (panicDB) Get([]byte) ([]byte, error) { panic("boom") }

type mapSource map[string]DB

func (m mapSource) DB(name string) (DB, error) {
	if db, ok := m[name]; ok {
		return db, nil
	}
	return nil, ErrUnknownDB
}

func TestServerRecoversPanic(t *testing.T) {
	var log logBuffer
	path := filepath.Join(shortDir(t), "sock")
	srv, err := serve(context.Background(), mapSource{"bad": panicDB{NewMem()}, "good": NewMem()}, path, log.logger())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := dial(t, path, WithRetryTimeout(0))
	if _, err := c.DB("bad").Get([]byte("k")); err == nil {
		t.Fatal("Get on a panicking DB succeeded")
	}
	log.waitLog(t, "panic serving a connection")
	mustPut(t, c.DB("good"), "k", "v")
}

func TestServeStaleSocket(t *testing.T) {
	dir := shortDir(t)
	path := SocketPath(dir)
	ts := startServer(t, dir)
	// A second server on the same path is refused while the first answers.
	if _, err := serve(context.Background(), mapSource{}, path, nil); err == nil || !strings.Contains(err.Error(), "another server answers") {
		t.Fatalf("second Serve: %v", err)
	}
	ts.stop()
	// A socket file left by a crashed master is replaced.
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	srv, err := serve(context.Background(), mapSource{}, path, nil)
	if err != nil {
		t.Fatalf("Serve over a stale socket: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, %v", fi.Mode(), err)
	}
	srv.Close()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket left after Close: %v", err)
	}
	// A regular file is not ours to remove.
	os.WriteFile(path, nil, 0o600)
	if _, err := serve(context.Background(), mapSource{}, path, nil); err == nil {
		t.Fatal("Serve replaced a regular file")
	}
}

func TestServeContextCancel(t *testing.T) {
	dir := shortDir(t)
	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := Serve(ctx, st, SocketPath(dir), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, srv.Path(), WithRetryTimeout(0))
	mustPut(t, c.DB(Mailboxes), "k", "v")
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(srv.Path()); errors.Is(err, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("socket still there after cancel")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := c.DB(Mailboxes).Get([]byte("k")); err == nil {
		t.Fatal("Get after the server stopped succeeded")
	}
}
