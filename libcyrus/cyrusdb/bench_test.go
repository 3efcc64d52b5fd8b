package cyrusdb

import (
	"fmt"
	"path/filepath"
	"testing"
)

// The benchmarks print ns/op and ops/s for the same operations on the
// files directly (Level) and through master's socket (Client), with and
// without fsync, serial and from parallel goroutines (which share the
// client's pool, as the goroutines of an imapd with client_limit do).

func benchDBs(b *testing.B, sync bool) map[string]DB {
	var opts []Option
	if !sync {
		opts = append(opts, WithoutSync())
	}
	l, err := OpenLevel(filepath.Join(b.TempDir(), "db"), opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	ts := startServer(b, shortDir(b), opts...)
	c := dial(b, ts.srv.Path(), WithMaxIdle(64))
	return map[string]DB{"level": l, "client": c.DB(Mailboxes)}
}

func report(b *testing.B) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "ops/s")
	}
}

func BenchmarkGet(b *testing.B) {
	for name, db := range benchDBs(b, true) {
		for i := range 1000 {
			db.Put(fmt.Appendf(nil, "user.u%04d", i), make([]byte, 200))
		}
		b.Run(name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				if _, err := db.Get(fmt.Appendf(nil, "user.u%04d", i%1000)); err != nil {
					b.Fatal(err)
				}
				i++
			}
			report(b)
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if _, err := db.Get(fmt.Appendf(nil, "user.u%04d", i%1000)); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
			report(b)
		})
	}
}

func BenchmarkPut(b *testing.B) {
	for _, sync := range []bool{true, false} {
		mode := "fsync"
		if !sync {
			mode = "nosync"
		}
		for name, db := range benchDBs(b, sync) {
			val := make([]byte, 200)
			b.Run(name+"/"+mode, func(b *testing.B) {
				i := 0
				for b.Loop() {
					if err := db.Put(fmt.Appendf(nil, "k%08d", i), val); err != nil {
						b.Fatal(err)
					}
					i++
				}
				report(b)
			})
			b.Run(name+"/"+mode+"/parallel", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						if err := db.Put(fmt.Appendf(nil, "p%p%08d", pb, i), val); err != nil {
							b.Fatal(err)
						}
						i++
					}
				})
				report(b)
			})
		}
	}
}

func BenchmarkScan(b *testing.B) {
	for name, db := range benchDBs(b, false) {
		ops := make([]Op, 10000)
		for i := range ops {
			ops[i] = Op{Key: fmt.Appendf(nil, "user.u%05d", i), Value: make([]byte, 100)}
		}
		if err := db.Batch(ops); err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/10k", func(b *testing.B) {
			for b.Loop() {
				n := 0
				db.Scan([]byte("user."), func(_, _ []byte) error { n++; return nil })
				if n != len(ops) {
					b.Fatalf("scanned %d", n)
				}
			}
			if s := b.Elapsed().Seconds(); s > 0 {
				b.ReportMetric(float64(b.N*len(ops))/s, "keys/s")
			}
		})
	}
}
