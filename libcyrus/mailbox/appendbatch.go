package mailbox

import (
	"bytes"
	"crypto/sha1"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
)

// BatchMessage is one message of AppendBatch, held in memory.
type BatchMessage struct {
	Data         []byte
	Flags        []string
	InternalDate time.Time // zero: now
}

// AppendBatch adds many in-memory messages in one transaction, for bulk
// loads by admin tools (a benchmark's million-message mailbox) where an
// fsync per message, as Append does through Stage and Link, would take
// hours. The on-disk result is exactly Append's: message files "<uid>.",
// cache entries, index records, then the header.
//
// Durability: the message files are written straight to their final
// names without a sync each, then one syncfs(2) makes all of them and
// their directory entries durable; then the cache and the records are
// synced and the header is committed, as in Append. The header stays the
// commit point: after a crash before it, the files past LastUID are
// leftovers of an uncommitted append that the next append removes. Where
// syncfs is missing, each file and the directory are fsynced instead.
//
// Rights, flags and quota are checked as in Append.
func (m *Mailbox) AppendBatch(msgs []BatchMessage) ([]uint32, error) {
	if m.rights&(acl.Insert|acl.Post) == 0 {
		return nil, ErrNoPerm
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	var total int64
	for _, msg := range msgs {
		total += int64(len(msg.Data))
	}
	if err := m.checkQuota(total, int64(len(msgs))); err != nil {
		return nil, err
	}
	h, release, err := m.beginAppend()
	if err != nil {
		return nil, err
	}
	defer release()
	fail := func(err error, written []string) error {
		for _, p := range written {
			os.Remove(p)
		}
		return &Error{Code: CodeTemporary, Msg: "Cannot store message", Err: err}
	}
	// The files first, so one sync covers them all. Parsing is most of
	// the work: the messages are parsed and written on every CPU.
	written := make([]string, len(msgs))
	caches := make([][]byte, len(msgs))
	for i := range msgs {
		written[i] = m.fs.messagePath(h.LastUID + 1 + uint32(i))
	}
	workers := min(runtime.GOMAXPROCS(0), len(msgs))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(msgs); i += workers {
				c, err := summarize(bytes.NewReader(msgs[i].Data))
				if err == nil {
					os.Remove(written[i]) // a leftover of an append that never committed
					err = writeNoSync(written[i], msgs[i].Data)
				}
				if err != nil {
					errs[w] = err
					return
				}
				caches[i] = c
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fail(err, written)
	}
	if err := syncMessageFiles(m.fs.dataDir, written); err != nil {
		return nil, fail(err, written)
	}
	now := m.s.now()
	uids := make([]uint32, 0, len(msgs))
	cacheEnd := h.CacheSize
	slot := h.NumRecords
	for i, msg := range msgs {
		cache := caches[i]
		flags := m.allowedFlags(msg.Flags)
		kw, err := m.fs.keywordBits(flags, true)
		if err != nil {
			for _, p := range written {
				os.Remove(p)
			}
			return nil, &Error{Code: CodeLimit, Msg: err.Error()}
		}
		h.LastUID++
		h.HighestModseq++
		off := max(cacheEnd, cacheHeaderLen)
		if cacheEnd, err = m.fs.cache.append(off, cache); err != nil {
			return nil, fail(err, written)
		}
		date := msg.InternalDate
		if date.IsZero() {
			date = now
		}
		r := Record{
			UID:          h.LastUID,
			Flags:        systemBits(flags),
			InternalDate: date,
			Size:         uint64(len(msg.Data)),
			GUID:         sha1.Sum(msg.Data),
			UserFlags:    kw,
			Modseq:       h.HighestModseq,
			CacheOffset:  off,
			CacheLen:     uint32(len(cache)),
			SaveDate:     now,
		}
		if err := m.fs.idx.writeRecord(slot, &r); err != nil {
			return nil, fail(err, written)
		}
		slot++
		h.NumRecords = slot
		h.Exists++
		h.QuotaUsed += r.Size
		uids = append(uids, r.UID)
	}
	h.CacheSize = cacheEnd
	h.Dirty |= dirtyQuota
	if err := m.fs.cache.sync(); err != nil {
		return nil, fail(err, written)
	}
	if err := m.fs.idx.sync(); err != nil {
		return nil, fail(err, written)
	}
	if err := m.commitHeader(&h); err != nil {
		return nil, fail(err, written)
	}
	m.settleUsage(&h)
	return uids, nil
}

// writeNoSync creates path (which must not exist) holding data.
func writeNoSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}

// syncMessageFiles makes the files and their names in dir durable: one
// syncfs of dir's filesystem, or, where the kernel lacks it, an fsync of
// each file and of dir.
func syncMessageFiles(dir string, paths []string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir %s: %w", dir, err)
	}
	defer d.Close()
	err = unix.Syncfs(int(d.Fd()))
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.ENOSYS) {
		return fmt.Errorf("syncfs %s: %w", dir, err)
	}
	for _, p := range paths {
		f, err := os.OpenFile(p, os.O_RDONLY, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", p, err)
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return fmt.Errorf("fsync %s: %w", p, err)
		}
	}
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return nil
}
