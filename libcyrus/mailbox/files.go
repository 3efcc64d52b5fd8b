package mailbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/fsutil"
	"github.com/cyrusgo/cyrusgo/libcyrus/lock"
)

// files is the on-disk side of one mailbox: its data directory (message
// files <uid>.) and meta directory (cyrusgo.header, .index, .cache, .lock),
// which differ when metapartition_files moves metadata to faster storage.
type files struct {
	dataDir string
	metaDir string
	idx     indexFile
	cache   cacheFile
	hdr     *mailboxHeader
}

// messagePath is where message uid lives: "<uid>." as in Cyrus, so an
// existing spool can be adopted (DESIGN.md 1).
func (fs *files) messagePath(uid uint32) string {
	return filepath.Join(fs.dataDir, fmt.Sprintf("%d.", uid))
}

func (fs *files) lockPath() string { return filepath.Join(fs.metaDir, lockFileName) }

// lock takes the mailbox lock. Lock order (DESIGN.md 3): mailbox list
// entry, then this, then the quota root. Holding it, the index and cache
// are reopened if reconstruct or a repack renamed new ones into place.
func (fs *files) lock(exclusive bool) (*lock.File, error) {
	l, err := lock.Lock(fs.lockPath(), exclusive)
	if err != nil {
		return nil, err
	}
	if err := fs.refresh(); err != nil {
		l.Unlock()
		return nil, err
	}
	return l, nil
}

// replaced reports whether the index file at its path is no longer the
// one held open: reconstruct and cyr_expire write a new index (and, when
// they must, a new cache, renamed first) and rename it over the old one. A
// process that kept the old descriptors would read a dead file and, worse,
// append to it.
func (fs *files) replaced() bool {
	return !sameFile(fs.idx.f, filepath.Join(fs.metaDir, indexFileName))
}

func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	if err != nil {
		// Missing: keep what is open rather than fail every command; the
		// mailbox needs reconstruct either way.
		return true
	}
	return os.SameFile(a, b)
}

// refresh reopens the index and cache when they were replaced (caller
// holds the lock, so both are the pair reconstruct installed). The caller
// must also remap its view: a replacement always bumps the generation.
func (fs *files) refresh() error {
	if !fs.replaced() {
		return nil
	}
	xf, err := os.OpenFile(filepath.Join(fs.metaDir, indexFileName), os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("reopen index: %w", err)
	}
	cf, err := os.OpenFile(filepath.Join(fs.metaDir, cacheFileName), os.O_RDWR, 0)
	if err != nil {
		xf.Close()
		return fmt.Errorf("reopen cache: %w", err)
	}
	h, err := readMailboxHeader(fs.metaDir)
	if err != nil {
		xf.Close()
		cf.Close()
		return err
	}
	fs.idx.f.Close()
	fs.cache.f.Close()
	fs.idx.f, fs.cache.f, fs.hdr = xf, cf, h
	return nil
}

// createFiles makes a new, empty mailbox on disk. It fails if one exists.
func createFiles(dataDir, metaDir string, h *mailboxHeader, createdModseq uint64) error {
	for _, d := range uniqueDirs(dataDir, metaDir) {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return fmt.Errorf("create mailbox directory %s: %w", d, err)
		}
	}
	idxPath := filepath.Join(metaDir, indexFileName)
	if _, err := os.Stat(idxPath); err == nil {
		return fmt.Errorf("mailbox files already exist in %s: %w", metaDir, os.ErrExist)
	}
	if err := writeMailboxHeader(metaDir, h); err != nil {
		return err
	}
	cf, err := os.OpenFile(filepath.Join(metaDir, cacheFileName), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("create cache: %w", err)
	}
	err = initCache(cf)
	if err == nil {
		err = cf.Sync()
	}
	cf.Close()
	if err != nil {
		return fmt.Errorf("init cache: %w", err)
	}
	// The index is written under a temporary name and renamed: its
	// presence is what makes the mailbox exist on disk.
	tmp := fsutil.TempName(metaDir, ".index.")
	xf, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create index: %w", err)
	}
	x := indexFile{f: xf}
	hdr := Header{UIDValidity: h.UIDValidity, HighestModseq: createdModseq, CreatedModseq: createdModseq, CacheSize: cacheHeaderLen}
	// Both slots get a valid header, so either may be overwritten first.
	err = x.writeHeader(&hdr)
	if err == nil {
		err = x.writeHeader(&hdr)
	}
	if err == nil {
		err = x.sync()
	}
	xf.Close()
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, idxPath); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("install index: %w", err)
	}
	for _, d := range uniqueDirs(dataDir, metaDir) {
		if err := fsutil.SyncDir(d); err != nil {
			return err
		}
		if err := fsutil.SyncDir(filepath.Dir(d)); err != nil {
			return err
		}
	}
	return nil
}

func uniqueDirs(a, b string) []string {
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}

// openFiles opens an existing mailbox's metadata.
func openFiles(dataDir, metaDir string) (*files, error) {
	h, err := readMailboxHeader(metaDir)
	if err != nil {
		return nil, err
	}
	xf, err := os.OpenFile(filepath.Join(metaDir, indexFileName), os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	cf, err := os.OpenFile(filepath.Join(metaDir, cacheFileName), os.O_RDWR, 0)
	if err != nil {
		xf.Close()
		return nil, fmt.Errorf("open cache: %w", err)
	}
	return &files{dataDir: dataDir, metaDir: metaDir, idx: indexFile{f: xf}, cache: cacheFile{f: cf}, hdr: h}, nil
}

func (fs *files) close() {
	if fs == nil {
		return
	}
	fs.idx.f.Close()
	fs.cache.f.Close()
}

// reloadHeader re-reads cyrusgo.header (keywords another process added).
func (fs *files) reloadHeader() error {
	h, err := readMailboxHeader(fs.metaDir)
	if err != nil {
		return err
	}
	fs.hdr = h
	return nil
}

// keywordBits maps keyword names to bit numbers, adding new names to the
// header (caller holds the exclusive lock). System flags are not keywords.
func (fs *files) keywordBits(names []string, create bool) ([2]uint64, error) {
	var bits [2]uint64
	added := false
	for _, n := range names {
		if strings.HasPrefix(n, `\`) {
			continue
		}
		i := fs.hdr.flagIndex(n)
		if i < 0 {
			if !create {
				continue
			}
			if len(fs.hdr.UserFlags) >= MaxUserFlags {
				return bits, ErrTooManyKeywords
			}
			fs.hdr.UserFlags = append(fs.hdr.UserFlags, n)
			i = len(fs.hdr.UserFlags) - 1
			added = true
		}
		bits[i/64] |= 1 << (i % 64)
	}
	if added {
		if err := writeMailboxHeader(fs.metaDir, fs.hdr); err != nil {
			return bits, err
		}
	}
	return bits, nil
}

// ErrTooManyKeywords: the mailbox has no room for another keyword.
var ErrTooManyKeywords = errors.New("too many user flags in mailbox")
