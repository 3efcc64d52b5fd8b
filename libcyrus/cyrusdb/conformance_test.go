package cyrusdb

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// TestConformance runs one suite of DB behaviour against Mem, Level and a
// Client talking to a Server, so the three stay interchangeable.
func TestConformance(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, db DB)
	}{
		{"GetMissing", func(t *testing.T, db DB) {
			absent(t, db, "nope")
		}},
		{"PutGet", func(t *testing.T, db DB) {
			for _, kv := range [][2]string{
				{"user.alice", "1"},
				{"", "empty key"},
				{"bin\x00\xff\x01", "v\x00\xff"},
				{"user.alice", "overwritten"},
			} {
				mustPut(t, db, kv[0], kv[1])
				if got := mustGet(t, db, kv[0]); got != kv[1] {
					t.Fatalf("Get(%q) = %q, want %q", kv[0], got, kv[1])
				}
			}
		}},
		{"EmptyValue", func(t *testing.T, db DB) {
			mustPut(t, db, "k", "")
			v, err := db.Get([]byte("k"))
			if err != nil || len(v) != 0 {
				t.Fatalf("Get = %q, %v; want empty value", v, err)
			}
		}},
		{"Delete", func(t *testing.T, db DB) {
			mustPut(t, db, "a", "1")
			for range 2 { // deleting a missing key is no error
				if err := db.Delete([]byte("a")); err != nil {
					t.Fatal(err)
				}
				absent(t, db, "a")
			}
		}},
		{"ScanPrefixOrder", func(t *testing.T, db DB) {
			for _, k := range []string{"user.bob", "user.alice.Sent", "user.alice", "shared", "user.", "user/x", "\xff\xff", "\xff"} {
				mustPut(t, db, k, "v"+k)
			}
			want := []string{"user.=vuser.", "user.alice=vuser.alice", "user.alice.Sent=vuser.alice.Sent", "user.bob=vuser.bob"}
			if got := dump(t, db, "user."); !slices.Equal(got, want) {
				t.Fatalf("Scan(user.) = %q, want %q", got, want)
			}
			if got := dump(t, db, ""); len(got) != 8 || got[0] != "shared=vshared" || got[7] != "\xff\xff=v\xff\xff" {
				t.Fatalf("Scan(\"\") = %q", got)
			}
			// A prefix ending in 0xff has no simple upper bound.
			if got := dump(t, db, "\xff"); !slices.Equal(got, []string{"\xff=v\xff", "\xff\xff=v\xff\xff"}) {
				t.Fatalf("Scan(ff) = %q", got)
			}
			if got := dump(t, db, "zzz"); len(got) != 0 {
				t.Fatalf("Scan(zzz) = %q", got)
			}
		}},
		{"ScanStop", func(t *testing.T, db DB) {
			for i := range 10 {
				mustPut(t, db, fmt.Sprintf("k%02d", i), "v")
			}
			n := 0
			err := db.Scan([]byte("k"), func(k, v []byte) error {
				n++
				if n == 3 {
					return ErrStop
				}
				return nil
			})
			if err != nil || n != 3 {
				t.Fatalf("Scan stopped: n=%d err=%v", n, err)
			}
			boom := errors.New("boom")
			err = db.Scan([]byte("k"), func(k, v []byte) error { return boom })
			if err != boom && !errors.Is(err, boom) {
				t.Fatalf("Scan error = %v, want boom", err)
			}
			// The database still answers after a stopped scan.
			mustGet(t, db, "k05")
		}},
		{"ScanLargeStopMidway", func(t *testing.T, db DB) {
			// More keys than one server window, so MORE/CONTINUE and
			// a STOP in the middle of a window are exercised.
			const n = 3*scanWindowItems + 17
			ops := make([]Op, n)
			for i := range ops {
				ops[i] = Op{Key: fmt.Appendf(nil, "m%06d", i), Value: []byte(strconv.Itoa(i))}
			}
			if err := db.Batch(ops); err != nil {
				t.Fatal(err)
			}
			if got := dump(t, db, "m"); len(got) != n || got[n-1] != fmt.Sprintf("m%06d=%d", n-1, n-1) {
				t.Fatalf("scan returned %d keys", len(got))
			}
			for _, stopAt := range []int{1, scanWindowItems - 1, scanWindowItems, scanWindowItems + 1, n - 1} {
				seen := 0
				err := db.Scan([]byte("m"), func(k, v []byte) error {
					if want := fmt.Sprintf("m%06d", seen); string(k) != want {
						return fmt.Errorf("key %q, want %q", k, want)
					}
					seen++
					if seen == stopAt {
						return ErrStop
					}
					return nil
				})
				if err != nil || seen != stopAt {
					t.Fatalf("stop at %d: seen %d, err %v", stopAt, seen, err)
				}
			}
			mustGet(t, db, "m000000")
		}},
		{"ScanCallbackUsesDB", func(t *testing.T, db DB) {
			for _, k := range []string{"a1", "a2", "a3"} {
				mustPut(t, db, k, "v")
			}
			var keys []string
			err := db.Scan([]byte("a"), func(k, v []byte) error {
				keys = append(keys, string(k))
				// Reads and writes from inside the callback: no deadlock,
				// and the scan itself sees its starting snapshot.
				if _, err := db.Get(k); err != nil {
					return err
				}
				if err := db.Put(append([]byte("b"), k...), v); err != nil {
					return err
				}
				if err := db.Put([]byte("a9"), []byte("late")); err != nil {
					return err
				}
				return db.Scan([]byte("a"), func(_, _ []byte) error { return ErrStop })
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(keys, []string{"a1", "a2", "a3"}) {
				t.Fatalf("scan saw %q", keys)
			}
			if got := dump(t, db, "b"); len(got) != 3 {
				t.Fatalf("callback writes: %q", got)
			}
		}},
		{"Batch", func(t *testing.T, db DB) {
			mustPut(t, db, "gone", "x")
			mustPut(t, db, "kept", "x")
			err := db.Batch([]Op{
				{Key: []byte("new"), Value: []byte("1")},
				{Key: []byte("gone"), Value: nil},
				{Key: []byte("empty"), Value: []byte{}},
				{Key: []byte("new"), Value: []byte("2")}, // later op wins
				{Key: []byte("never"), Value: nil},
			})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"empty=", "kept=x", "new=2"}
			if got := dump(t, db, ""); !slices.Equal(got, want) {
				t.Fatalf("after batch %q, want %q", got, want)
			}
			if err := db.Batch(nil); err != nil {
				t.Fatalf("empty batch: %v", err)
			}
		}},
		{"PutIfAbsent", func(t *testing.T, db DB) {
			for i, want := range []bool{true, false, false} {
				ok, err := db.PutIfAbsent([]byte("dup"), []byte(strconv.Itoa(i)))
				if err != nil || ok != want {
					t.Fatalf("try %d: PutIfAbsent = %v, %v; want %v", i, ok, err, want)
				}
			}
			if got := mustGet(t, db, "dup"); got != "0" {
				t.Fatalf("value %q, want the first", got)
			}
			mustPut(t, db, "emptyval", "")
			if ok, _ := db.PutIfAbsent([]byte("emptyval"), []byte("x")); ok {
				t.Fatal("PutIfAbsent replaced an empty value")
			}
		}},
		{"CompareAndSwap", func(t *testing.T, db DB) {
			b := func(s string) []byte { return []byte(s) }
			steps := []struct {
				old, new []byte
				want     bool
				after    string // "" for absent, else "=value"
			}{
				{b("x"), b("y"), false, ""},   // old given, key absent
				{[]byte{}, b("y"), false, ""}, // empty is not absent
				{nil, b("1"), true, "=1"},     // create
				{nil, b("2"), false, "=1"},    // exists
				{b("9"), b("2"), false, "=1"}, // mismatch
				{b("1"), b("2"), true, "=2"},  // swap
				{b("2"), []byte{}, true, "="}, // to empty
				{[]byte{}, b("3"), true, "=3"},
				{b("3"), nil, true, ""}, // delete
				{nil, nil, true, ""},    // absent stays absent
			}
			for i, s := range steps {
				ok, err := db.CompareAndSwap(b("c"), s.old, s.new)
				if err != nil || ok != s.want {
					t.Fatalf("step %d: CompareAndSwap(%q, %q) = %v, %v; want %v", i, s.old, s.new, ok, err, s.want)
				}
				v, err := db.Get(b("c"))
				got := ""
				if err == nil {
					got = "=" + string(v)
				} else if err != ErrNotFound {
					t.Fatal(err)
				}
				if got != s.after {
					t.Fatalf("step %d: value %q, want %q", i, got, s.after)
				}
			}
		}},
		{"LargeValue", func(t *testing.T, db DB) {
			v := bytes.Repeat([]byte("0123456789abcdef"), 1<<17) // 2 MiB: longer than any buffer
			if err := db.Put([]byte("big"), v); err != nil {
				t.Fatal(err)
			}
			got, err := db.Get([]byte("big"))
			if err != nil || !bytes.Equal(got, v) {
				t.Fatalf("Get big: %d bytes, %v", len(got), err)
			}
			n := 0
			if err := db.Scan([]byte("big"), func(k, val []byte) error { n += len(val); return nil }); err != nil || n != len(v) {
				t.Fatalf("Scan big: %d bytes, %v", n, err)
			}
		}},
		{"ConcurrentCAS", func(t *testing.T, db DB) {
			const workers, each = 8, 25
			if ok, err := db.PutIfAbsent([]byte("n"), []byte("0")); !ok || err != nil {
				t.Fatal(ok, err)
			}
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for range workers {
				wg.Go(func() {
					for range each {
						if err := increment(db, []byte("n")); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if got := mustGet(t, db, "n"); got != strconv.Itoa(workers*each) {
				t.Fatalf("counter %s, want %d", got, workers*each)
			}
		}},
	}
	for _, im := range impls() {
		t.Run(im.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					c.run(t, im.open(t))
				})
			}
		})
	}
}

// increment adds one to the decimal counter at key with a CAS loop.
func increment(db DB, key []byte) error {
	for {
		cur, err := db.Get(key)
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(string(cur))
		if err != nil {
			return err
		}
		ok, err := db.CompareAndSwap(key, cur, []byte(strconv.Itoa(n+1)))
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
}

// TestSizeLimits: Level and Client refuse the same oversized writes, so a
// write that works on the files also works through the socket.
func TestSizeLimits(t *testing.T) {
	bigKey := make([]byte, MaxKeySize+1)
	bigVal := make([]byte, MaxValueSize+1)
	for _, im := range impls() {
		if im.name == "mem" {
			continue
		}
		t.Run(im.name, func(t *testing.T) {
			db := im.open(t)
			checks := map[string]error{
				"put key":    db.Put(bigKey, nil),
				"put value":  db.Put([]byte("k"), bigVal),
				"delete key": db.Delete(bigKey),
				"batch":      db.Batch([]Op{{Key: []byte("a"), Value: bigVal}}),
				"batch sum": db.Batch([]Op{
					{Key: []byte("a"), Value: bigVal[:MaxValueSize]},
					{Key: []byte("b"), Value: bigVal[:MaxValueSize]},
				}),
			}
			_, checks["cas"] = db.CompareAndSwap([]byte("k"), nil, bigVal)
			_, checks["put-if-absent"] = db.PutIfAbsent(bigKey, nil)
			for name, err := range checks {
				if !errors.Is(err, ErrTooLarge) {
					t.Errorf("%s: %v, want ErrTooLarge", name, err)
				}
			}
			if im.name != "client" || raceEnabled {
				return
			}
			// At the limits it works, through the socket too.
			if err := db.Put(bigKey[:MaxKeySize], bigVal[:MaxValueSize]); err != nil {
				t.Fatal(err)
			}
			if v, err := db.Get(bigKey[:MaxKeySize]); err != nil || len(v) != MaxValueSize {
				t.Fatalf("Get at limits: %d bytes, %v", len(v), err)
			}
		})
	}
}

// TestMaxFrames: the largest requests the limits allow fit in a frame and
// decode.
func TestMaxFrames(t *testing.T) {
	if raceEnabled {
		t.Skip("128 MiB frames are too slow under the race detector")
	}
	name := string(make([]byte, MaxNameSize))
	key := make([]byte, MaxKeySize)
	val := make([]byte, MaxValueSize)
	half := MaxBatchSize/2 - 8 - 1 // two ops of key "a" fill MaxBatchSize exactly
	reqs := map[string]*request{
		"cas":   {op: opCAS, name: name, key: key, old: val, val: val},
		"put":   {op: opPut, name: name, key: key, val: val},
		"batch": {op: opBatch, name: name, ops: []Op{{Key: []byte("a"), Value: val[:half]}, {Key: []byte("a"), Value: val[:half]}}},
	}
	if err := checkBatch(reqs["batch"].ops); err != nil {
		t.Fatalf("batch at the limit refused: %v", err)
	}
	for n, req := range reqs {
		f := appendRequest(nil, req)
		body, err := readFrame(bytes.NewReader(f), nil)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if _, err := decodeRequest(body); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
	}
	// One byte more is refused by the decoder, whatever a client sends.
	over := &request{op: opBatch, ops: []Op{{Key: []byte("a"), Value: val[:half]}, {Key: []byte("a"), Value: val[:half+1]}}}
	if _, err := decodeRequest(appendRequest(nil, over)[4:]); !errors.Is(err, errBadFrame) {
		t.Fatalf("batch over the limit: %v", err)
	}
}
