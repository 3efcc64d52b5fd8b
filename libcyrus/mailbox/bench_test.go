package mailbox

// Benchmarks of the store: they print figures (ns/op and the metrics
// reported below) and never assert on time.
//
//	go test -run '^$' -bench . ./libcyrus/mailbox/

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// BenchmarkAppend appends one ~2 KB message per op with every fsync of
// the durability recipe (stage, link, directory, cache, index, header).
func BenchmarkAppend(b *testing.B) {
	s := testStore(b, nil)
	mustCreate(b, s, "user.bench")
	m, err := s.Open(user("bench"), "user.bench", OpenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	body := msg(1, strings.Repeat("0123456789abcdef", 120))
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.AppendReader(strings.NewReader(body), []string{`\Seen`}, time.Time{}, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// buildMailbox writes an index of n records straight to disk (one cache
// entry shared by all; no message files: opening never reads them),
// which is what n appends would leave, minus hours of fsyncs.
func buildMailbox(tb testing.TB, s *Store, name string, n int) {
	tb.Helper()
	e, err := s.Create(admin, name, CreateOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	_, meta, _ := s.Dirs(e)
	sum, err := summarize(strings.NewReader(msg(1, "")))
	if err != nil {
		tb.Fatal(err)
	}
	cf, err := os.OpenFile(filepath.Join(meta, cacheFileName), os.O_RDWR, 0)
	if err != nil {
		tb.Fatal(err)
	}
	end, err := (&cacheFile{f: cf}).append(cacheHeaderLen, sum)
	cf.Close()
	if err != nil {
		tb.Fatal(err)
	}
	xf, err := os.OpenFile(filepath.Join(meta, indexFileName), os.O_RDWR, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer xf.Close()
	w := bufio.NewWriterSize(io.NewOffsetWriter(xf, headerSize), 1<<20)
	var buf [RecordSize]byte
	date := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	size := uint64(len(msg(1, "")))
	for i := 0; i < n; i++ {
		r := Record{
			UID: uint32(i + 1), Flags: uint16(i % 32 &^ int(FlagExpunged)), InternalDate: date,
			Size: size, Modseq: uint64(i + 1), CacheOffset: cacheHeaderLen, CacheLen: uint32(len(sum)),
			SaveDate: date,
		}
		if i%7 == 0 {
			r.SetUserFlag(i%3, true)
		}
		r.marshal(buf[:])
		w.Write(buf[:])
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	x := indexFile{f: xf}
	h, err := x.readHeader()
	if err != nil {
		tb.Fatal(err)
	}
	h.NumRecords, h.Exists, h.LastUID, h.RecentUID = uint32(n), uint32(n), uint32(n), uint32(n)
	h.HighestModseq, h.QuotaUsed, h.CacheSize = uint64(n), size*uint64(n), end
	if err := x.writeHeader(&h); err != nil {
		tb.Fatal(err)
	}
	hdr, _ := readMailboxHeader(meta)
	hdr.UserFlags = []string{"$Label1", "$Label2", "$Label3"}
	if err := writeMailboxHeader(meta, hdr); err != nil {
		tb.Fatal(err)
	}
}

var benchSizes = []struct {
	name  string
	n     int
	short bool // run under -short too
}{
	{"100k", 100_000, true},
	{"1M", 1_000_000, false},
}

// BenchmarkOpenSnapshot opens a big mailbox and syncs its view, as
// SELECT does, and reports the memory the open view holds per message.
func BenchmarkOpenSnapshot(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			if testing.Short() && !sz.short {
				b.Skip("1M messages: skipped under -short")
			}
			s := testStore(b, nil)
			buildMailbox(b, s, "user.big", sz.n)
			perMsg := viewBytesPerMessage(b, s, sz.n)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m, err := s.Open(user("big"), "user.big", OpenOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := m.Sync(false); err != nil {
					b.Fatal(err)
				}
				if m.Count() != sz.n {
					b.Fatalf("%d messages", m.Count())
				}
				m.Close()
			}
			b.ReportMetric(perMsg, "B/msg")
		})
	}
}

// viewBytesPerMessage measures the heap an open, synced view keeps.
func viewBytesPerMessage(b *testing.B, s *Store, n int) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m, err := s.Open(user("big"), "user.big", OpenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	m.Sync(false)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(m)
	m.Close()
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
}

// BenchmarkFetchFlagsAll is FETCH 1:* (FLAGS) on an open 100k mailbox: a
// record and its flags for every sequence number.
func BenchmarkFetchFlagsAll(b *testing.B) {
	const n = 100_000
	s := testStore(b, nil)
	buildMailbox(b, s, "user.big", n)
	m, err := s.Open(user("big"), "user.big", OpenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	b.ResetTimer()
	flags := 0
	seqs := make([]uint32, n)
	for i := range seqs {
		seqs[i] = uint32(i + 1)
	}
	for i := 0; i < b.N; i++ {
		err := m.Records(seqs, func(seq uint32, r *Record) { flags += len(m.Flags(r)) })
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/msg")
	if flags == 0 {
		b.Fatal(fmt.Sprint("no flags seen"))
	}
}
