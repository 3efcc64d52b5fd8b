package mailbox

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
)

// The cache file, cyrusgo.cache, holds each message's parsed summary
// (envelope, body structure, header fields: package message), so FETCH and
// SEARCH never re-parse a message. It is append-only:
//
//	[0,16)   magic and version
//	entries: u32 length, u32 CRC-32 of the data, data
//
// The index header records the committed length; bytes past it belong to
// an interrupted append and are overwritten.
const (
	cacheMagic     = "CYGOCACHE\x00\x00\x00"
	cacheVersion   = 1
	cacheHeaderLen = 16
	// maxCacheEntry bounds what a corrupt length can make us allocate.
	maxCacheEntry = 64 << 20
)

type cacheFile struct {
	f *os.File
}

func initCache(f *os.File) error {
	var b [cacheHeaderLen]byte
	copy(b[:], cacheMagic)
	binary.LittleEndian.PutUint32(b[12:], cacheVersion)
	if _, err := f.WriteAt(b[:], 0); err != nil {
		return fmt.Errorf("write cache header %s: %w", f.Name(), err)
	}
	return nil
}

// append writes an entry at off and returns the offset after it.
func (c *cacheFile) append(off uint64, data []byte) (uint64, error) {
	if off < cacheHeaderLen {
		off = cacheHeaderLen
	}
	b := make([]byte, 8+len(data))
	binary.LittleEndian.PutUint32(b[0:], uint32(len(data)))
	binary.LittleEndian.PutUint32(b[4:], crc32.ChecksumIEEE(data))
	copy(b[8:], data)
	if _, err := c.f.WriteAt(b, int64(off)); err != nil {
		return 0, fmt.Errorf("write cache %s: %w", c.f.Name(), err)
	}
	return off + uint64(len(b)), nil
}

// read returns the entry at off, which the index says is n data bytes.
func (c *cacheFile) read(off uint64, n uint32) ([]byte, error) {
	if n > maxCacheEntry {
		return nil, fmt.Errorf("cache entry of %d bytes at %d: %w", n, off, ErrCorrupt)
	}
	if n > 64<<10 {
		// Summaries are small: before allocating for a large one, check
		// that the entry there says so, so a damaged record cannot make
		// every read allocate tens of megabytes.
		var h [8]byte
		if _, err := c.f.ReadAt(h[:], int64(off)); err != nil {
			return nil, fmt.Errorf("read cache %s at %d: %w", c.f.Name(), off, err)
		}
		if binary.LittleEndian.Uint32(h[0:]) != n {
			return nil, fmt.Errorf("cache entry at %d of %s: %w", off, c.f.Name(), ErrCorrupt)
		}
	}
	b := make([]byte, 8+int(n))
	if _, err := c.f.ReadAt(b, int64(off)); err != nil {
		return nil, fmt.Errorf("read cache %s at %d: %w", c.f.Name(), off, err)
	}
	if binary.LittleEndian.Uint32(b[0:]) != n || binary.LittleEndian.Uint32(b[4:]) != crc32.ChecksumIEEE(b[8:]) {
		return nil, fmt.Errorf("cache entry at %d of %s: %w", off, c.f.Name(), ErrCorrupt)
	}
	return b[8:], nil
}

func (c *cacheFile) sync() error {
	if err := c.f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", c.f.Name(), err)
	}
	return nil
}
