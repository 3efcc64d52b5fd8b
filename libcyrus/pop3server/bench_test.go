package pop3server

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
)

// benchMessage is message i of the benchmark mailbox: 1 to 8 KiB of text
// lines, some starting with ".", so stuffing is exercised.
func benchMessage(rng *rand.Rand, i int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: sender@example.com\r\nTo: bench\r\nSubject: message %d\r\nMessage-ID: <%d@bench.example>\r\n\r\n", i, i)
	size := 1024 + rng.IntN(7*1024)
	for b.Len() < size {
		if rng.IntN(20) == 0 {
			b.WriteString(".")
		}
		b.WriteString(strings.Repeat("abcdefghij", 1+rng.IntN(7)))
		b.WriteString("\r\n")
	}
	return b.String()
}

// fillMailbox appends n messages to name through the store, in batches
// of one transaction each, and returns their total size.
func fillMailbox(b *testing.B, e *testEnv, name string, n int) int64 {
	m, err := e.store.OpenForDelivery(name)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	var total int64
	const batch = 500
	for i := 0; i < n; i += batch {
		var items []mailbox.AppendItem
		for j := i; j < min(n, i+batch); j++ {
			msg := benchMessage(rng, j)
			sm, err := e.store.Stage("", strings.NewReader(msg), 0)
			if err != nil {
				b.Fatal(err)
			}
			total += sm.Size()
			items = append(items, mailbox.AppendItem{Staged: sm})
		}
		if _, err := m.Append(items); err != nil {
			b.Fatal(err)
		}
		for _, it := range items {
			it.Staged.Close()
		}
	}
	return total
}

// BenchmarkRETR retrieves a whole mailbox over loopback TCP in one
// session with pipelined RETRs, as a client downloading everything does,
// and reports the throughput (MB/s of message data). The 10,000-message
// mailbox is skipped under -short.
func BenchmarkRETR(b *testing.B) {
	parent := b // the mailbox outlives each run of the sub-benchmark
	for _, n := range []int{100, 10000} {
		var e *testEnv
		var total int64
		b.Run(fmt.Sprintf("messages=%d", n), func(b *testing.B) {
			if n > 100 && testing.Short() {
				b.Skip("10,000-message mailbox skipped under -short")
			}
			if e == nil {
				e = newEnv(parent, map[string]string{"sasl_pwcheck_method": "alwaystrue"})
				e.create(parent, "user.bench")
				start := time.Now()
				total = fillMailbox(parent, e, "user.bench", n)
				b.Logf("built %d messages (%.1f MB) in %v", n, float64(total)/1e6, time.Since(start).Round(time.Millisecond))
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() {
						defer c.Close()
						e.srv.ServeConn(ctx, c)
					}()
				}
			}()
			b.SetBytes(total)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				retrieveAll(b, ln.Addr().String(), n)
			}
		})
	}
}

func retrieveAll(b *testing.B, addr string, n int) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReaderSize(conn, 64<<10)
	go func() {
		w := bufio.NewWriter(conn)
		w.WriteString("USER bench\r\nPASS x\r\n")
		for i := 1; i <= n; i++ {
			fmt.Fprintf(w, "RETR %d\r\n", i)
		}
		w.WriteString("QUIT\r\n")
		w.Flush()
	}()
	ends := 0
	for ends < n {
		l, err := r.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull {
			b.Fatalf("after %d messages: %v", ends, err)
		}
		if len(l) == 3 && l[0] == '.' {
			ends++
		} else if strings.HasPrefix(string(l), "-ERR") {
			b.Fatalf("%s", l)
		}
	}
}
