package lmtpserver

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/auth"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/duplicate"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
)

// BenchmarkDeliver measures deliveries per second through whole LMTP
// transactions (MAIL, RCPT, DATA, the reply) into a store on disk, with
// every fsync of a real delivery: the message file and its directory, the
// index, and the synced writes of goleveldb databases (mailbox list,
// quota, the duplicate records). One recipient per message, spread over
// eight users; 1 and 8 concurrent sessions; 4 KB, 20 KB and 1 MB
// messages. Run with e.g. -benchtime 200x; the figures are
// deliveries/s and MB/s.
func BenchmarkDeliver(b *testing.B) {
	for _, size := range []int{4 << 10, 20 << 10, 1 << 20} {
		for _, conns := range []int{1, 8} {
			b.Run(fmt.Sprintf("size=%dKB/conns=%d", size>>10, conns), func(b *testing.B) {
				benchDeliver(b, size, conns)
			})
		}
	}
}

func benchDeliver(b *testing.B, size, conns int) {
	dir := b.TempDir()
	cfg, err := config.FromMap(map[string]string{
		"configdirectory":   dir + "/conf",
		"partition-default": dir + "/spool",
		"admins":            "cyrus",
		"servername":        "bench.example",
	}, "lmtp")
	if err != nil {
		b.Fatal(err)
	}
	dbs, err := cyrusdb.OpenStore(dir + "/conf")
	if err != nil {
		b.Fatal(err)
	}
	defer dbs.Close()
	log := logging.Discard()
	store, err := mailbox.New(cfg, dbs, log)
	if err != nil {
		b.Fatal(err)
	}
	const users = 8
	for i := 0; i < users; i++ {
		if _, err := store.Create(testAdmin, fmt.Sprintf("user.u%d", i), mailbox.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	deliverDB, _ := dbs.DB(cyrusdb.Deliver)
	srv := New(Options{Config: cfg, Store: store, Logger: log,
		Auth:  auth.NewAuthenticator(cfg, auth.NewChecker(cfg, nil, log), log, "lmtp"),
		Dupes: duplicate.New(deliverDB, duplicate.Options{Logger: log})})

	line := "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!?\r\n"
	body := strings.Repeat(line, size/len(line))
	var next atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	b.SetBytes(int64(size))
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for c := 0; c < conns; c++ {
		client, server := socketPair(b)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer client.Close()
			go func() {
				defer server.Close()
				srv.ServeConn(ctx, server)
			}()
			tc := &testConn{t: b, conn: client, br: bufio.NewReaderSize(client, 64<<10)}
			if _, err := tc.readLine(); err != nil {
				errs <- err
				return
			}
			for {
				n := next.Add(1)
				if n > int64(b.N) {
					return
				}
				msg := fmt.Sprintf("MAIL FROM:<bench@example.com>\r\nRCPT TO:<u%d>\r\nDATA\r\n"+
					"From: bench@example.com\r\nSubject: bench %d\r\nMessage-ID: <bench-%d@example.com>\r\n"+
					"Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n\r\n%s.\r\n", n%users, n, n, body)
				client.SetWriteDeadline(time.Now().Add(time.Minute))
				if _, err := client.Write([]byte(msg)); err != nil {
					errs <- err
					return
				}
				for _, want := range []string{"250 2.1.0", "250 2.1.5", "354", "250 2.1.5 Success"} {
					got, err := tc.readLine()
					if err != nil || !strings.HasPrefix(got, want) {
						errs <- fmt.Errorf("got %q (%v), want %s", got, err, want)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
}
