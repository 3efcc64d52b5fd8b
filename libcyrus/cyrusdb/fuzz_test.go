package cyrusdb

import (
	"bytes"
	"io"
	"net"
	"reflect"
	"testing"
	"time"
)

// seedFrames are valid request streams; testdata/fuzz/FuzzFrame holds
// them and some broken ones as the checked-in corpus.
func seedFrames() [][]byte {
	reqs := []request{
		{op: opPing},
		{op: opGet, name: Mailboxes, key: []byte("user.alice")},
		{op: opPut, name: Mailboxes, key: []byte("user.alice"), val: []byte("%(A %(alice lrswipkxtecdan))")},
		{op: opDelete, name: Seen, key: []byte{}},
		{op: opScan, name: Mailboxes, key: []byte("user."), old: nil},
		{op: opScan, name: Mailboxes, key: []byte{}, old: []byte("user.bob")},
		{op: opBatch, name: Quota, ops: []Op{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("b"), Value: nil}, {Key: []byte("c"), Value: []byte{}}}},
		{op: opPutIfAbsent, name: Deliver, key: []byte("<m@x>"), val: []byte("1")},
		{op: opCAS, name: Quota, key: []byte("n"), old: nil, val: []byte("1")},
		{op: opCAS, name: Quota, key: []byte("n"), old: []byte("1"), val: nil},
		{op: opContinue},
		{op: opStop},
	}
	var all []byte
	var seeds [][]byte
	for i := range reqs {
		f := appendRequest(nil, &reqs[i])
		seeds = append(seeds, f)
		all = append(all, f...)
	}
	return append(seeds, all)
}

// FuzzFrame feeds arbitrary bytes (a stream of request frames, valid or
// not) to the frame decoder and to a whole server session over Mem
// databases. Neither may panic or hang; whatever decodes must encode back
// to the same bytes and decode to the same request.
func FuzzFrame(f *testing.F) {
	for _, s := range seedFrames() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for {
			body, err := readFrame(r, make([]byte, 64))
			if err != nil {
				break
			}
			req, err := decodeRequest(body)
			if err != nil {
				// Response decoding must be as robust.
				decodeResponse(body)
				continue
			}
			enc := appendRequest(nil, &req)
			if !bytes.Equal(enc[4:], body) {
				t.Fatalf("re-encoding %x gave %x", body, enc[4:])
			}
			again, err := decodeRequest(enc[4:])
			if err != nil || !reflect.DeepEqual(again, req) {
				t.Fatalf("round trip: %+v, %v; want %+v", again, err, req)
			}
		}

		// The same bytes through a server session.
		dbs := mapSource{Mailboxes: NewMem(), Quota: NewMem(), Seen: NewMem(), Deliver: NewMem()}
		s := &Server{dbs: dbs, logger: discard(), conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
		client, server := net.Pipe()
		go io.Copy(io.Discard, client)
		go func() {
			client.Write(data)
			client.Close()
		}()
		finished := make(chan struct{})
		go func() {
			defer close(finished)
			s.handle(server) // no recover here: a panic must fail the fuzz
			server.Close()
		}()
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Fatal("server session did not end")
		}
	})
}

// TestFuzzSeeds keeps the seed streams meaningful: each decodes fully.
func TestFuzzSeeds(t *testing.T) {
	for _, s := range seedFrames() {
		r := bytes.NewReader(s)
		for r.Len() > 0 {
			body, err := readFrame(r, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := decodeRequest(body); err != nil {
				t.Fatalf("%x: %v", body, err)
			}
		}
	}
}
