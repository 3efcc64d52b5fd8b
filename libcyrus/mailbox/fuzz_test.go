package mailbox

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/message"
)

// fuzzMessage is the one message file every fuzzed mailbox holds (1.), so
// records that name it have something to match or contradict.
var fuzzMessage = msg(1, "")

// fuzzSeeds builds index and cache files: a healthy mailbox of three
// messages and damaged variants of it.
func fuzzSeeds(t testing.TB) [][2][]byte {
	t.Helper()
	s := testStore(t, nil)
	mustCreate(t, s, "user.f")
	m, err := s.Open(user("f"), "user.f", OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, m, 3, `\Seen`, "$Label")
	m.Sync(true)
	m.StoreFlags([]uint32{2}, FlagsAdd, []string{`\Deleted`}, 0)
	m.Expunge(nil)
	_, meta, _ := s.Dirs(m.Entry())
	m.Close()
	idx, _ := os.ReadFile(filepath.Join(meta, indexFileName))
	cache, _ := os.ReadFile(filepath.Join(meta, cacheFileName))
	tornHeader := bytes.Clone(idx)
	copy(tornHeader[slotSize:], make([]byte, 40))
	tornBoth := bytes.Clone(tornHeader)
	tornBoth[3] ^= 1
	badRecord := bytes.Clone(idx)
	badRecord[recordOffset(1)+20] ^= 0x80
	badCache := bytes.Clone(cache)
	badCache[cacheHeaderLen+2] ^= 0xFF // an entry length
	return [][2][]byte{
		{idx, cache},
		{tornHeader, cache},
		{tornBoth, cache},
		{badRecord, cache},
		{idx, badCache},
		{idx[:headerSize+RecordSize+7], cache[:cacheHeaderLen+5]},
		{idx[:slotSize], nil},
		{nil, nil},
	}
}

// FuzzIndex feeds corrupt index and cache files to everything that reads
// them: the header and record decoders, the cache reader, opening a
// mailbox (which repairs counters) and reconstruct. Each must fail with
// an error, never panic; and after reconstruct the mailbox must open and
// be consistent.
func FuzzIndex(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s[0], s[1], false)
		f.Add(s[0], s[1], true)
	}
	f.Fuzz(func(t *testing.T, idx, cache []byte, fixCRC bool) {
		if fixCRC {
			// Past the checksums: fields that are wrong but well formed.
			idx = bytes.Clone(idx)
			fixChecksums(idx)
		}
		s := testStore(t, nil)
		e, err := s.Create(admin, "user.f", CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		data, meta, _ := s.Dirs(e)
		os.WriteFile(filepath.Join(meta, indexFileName), idx, 0o600)
		os.WriteFile(filepath.Join(meta, cacheFileName), cache, 0o600)
		os.WriteFile(filepath.Join(data, "1."), []byte(fuzzMessage), 0o600)
		// The index's UIDVALIDITY may be anything: make the list agree
		// with it sometimes, so opening gets past that check.
		if len(idx) >= 36 {
			e.UIDValidity = uint32(idx[32]) | uint32(idx[33])<<8 | uint32(idx[34])<<16 | uint32(idx[35])<<24
			s.PutEntry(e)
		}

		// The decoders and the cache reader directly.
		fs, err := openFiles(data, meta)
		if err != nil {
			t.Fatal(err)
		}
		if h, err := fs.idx.readHeader(); err == nil {
			fs.idx.scanRecords(0, min(h.NumRecords, 1024), func(i uint32, r *Record) error {
				fs.cache.read(r.CacheOffset, r.CacheLen)
				return nil
			})
			for i := uint32(0); i < min(h.NumRecords, 8); i++ {
				fs.idx.readRecord(i)
			}
		}
		fs.close()

		// As a session would: open, sync, read every record and summary.
		if m, err := s.Open(user("f"), "user.f", OpenOptions{ClaimRecent: true}); err == nil {
			readAll(m)
			m.Sync(true)
			m.Status()
			m.Close()
		}

		if _, err := s.Reconstruct("user.f", ReconstructOptions{DryRun: true}); err != nil {
			t.Fatalf("reconstruct -n: %v", err)
		}
		if _, err := s.Reconstruct("user.f", ReconstructOptions{}); err != nil {
			t.Fatalf("reconstruct: %v", err)
		}
		m, err := s.Open(user("f"), "user.f", OpenOptions{ClaimRecent: true})
		if err != nil {
			t.Fatalf("open after reconstruct: %v", err)
		}
		if err := readAll(m); err != nil {
			t.Fatalf("after reconstruct: %v", err)
		}
		m.Close()
		rep, err := s.Reconstruct("user.f", ReconstructOptions{DryRun: true})
		if err != nil || !rep.Consistent() {
			t.Fatalf("not consistent after reconstruct: %v %v", rep.Fixes, err)
		}
	})
}

// fixChecksums recomputes the CRC of both header slots and of every whole
// record of an index file.
func fixChecksums(idx []byte) {
	put := func(b []byte) {
		binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(b[:len(b)-4]))
	}
	for off := 0; off+slotSize <= min(len(idx), headerSize); off += slotSize {
		put(idx[off : off+slotSize])
	}
	for off := headerSize; off+RecordSize <= len(idx); off += RecordSize {
		put(idx[off : off+RecordSize])
	}
}

// readAll reads every record of the view, its flags and its cached
// summary, and returns the first error.
func readAll(m *Mailbox) error {
	var first error
	for seq := uint32(1); seq <= uint32(m.Count()); seq++ {
		r, err := m.Record(seq)
		if err != nil {
			first = cmpErr(first, err)
			continue
		}
		m.Flags(&r)
		c, err := m.CacheData(&r)
		if err != nil {
			first = cmpErr(first, err)
			continue
		}
		if _, err := message.Unmarshal(c); err != nil {
			first = cmpErr(first, err)
		}
	}
	return first
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// TestWriteFuzzSeeds regenerates testdata/fuzz/FuzzIndex from fuzzSeeds
// when CYRUSGO_WRITE_FUZZ_SEEDS is set (after a change of the formats).
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("CYRUSGO_WRITE_FUZZ_SEEDS") == "" {
		t.Skip("set CYRUSGO_WRITE_FUZZ_SEEDS=1 to rewrite the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzIndex")
	os.MkdirAll(dir, 0o755)
	names := []string{"healthy", "torn-header-slot", "torn-both-slots", "corrupt-record", "corrupt-cache-entry", "truncated", "header-slot-only", "empty"}
	for i, s := range fuzzSeeds(t) {
		for _, fix := range []bool{false, true} {
			var b strings.Builder
			b.WriteString("go test fuzz v1\n")
			fmt.Fprintf(&b, "[]byte(%q)\n[]byte(%q)\nbool(%v)\n", s[0], s[1], fix)
			name := names[i]
			if fix {
				name += "-crc-fixed"
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
