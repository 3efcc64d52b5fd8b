package cyrusdb

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"syscall"

	"github.com/syndtr/goleveldb/leveldb"
	lerrors "github.com/syndtr/goleveldb/leveldb/errors"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/storage"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// Option tunes OpenLevel and OpenStore.
type Option func(*levelOptions)

type levelOptions struct {
	logger *slog.Logger
	noSync bool
}

// WithLogger sends the warnings of opening (a corrupted database that was
// recovered) to l.
func WithLogger(l *slog.Logger) Option {
	return func(o *levelOptions) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithoutSync stops fsyncing each write. A crash of the machine then loses
// the last writes; it is meant for tests and benchmarks, never for master.
func WithoutSync() Option {
	return func(o *levelOptions) { o.noSync = true }
}

func buildLevelOptions(opts []Option) levelOptions {
	o := levelOptions{logger: slog.New(slog.DiscardHandler)}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Level is one goleveldb database, the server-side implementation of DB.
//
// Locking: goleveldb orders writes itself and lets reads run beside them,
// but PutIfAbsent and CompareAndSwap read then write, and no other write
// may land between the two. mu is therefore taken exclusively by those two
// and shared by Put, Delete and Batch, which still group-commit with each
// other inside goleveldb (one fsync for many concurrent writers). Reads and
// Scan take no lock: they see a consistent goleveldb snapshot.
type Level struct {
	path string
	db   *leveldb.DB
	wo   *opt.WriteOptions
	mu   sync.RWMutex
}

// OpenLevel opens (creating if needed) the goleveldb database in directory
// dir. goleveldb holds an exclusive flock on dir/LOCK while it is open; if
// another process (or another OpenLevel in this one) holds it, the error
// wraps ErrLocked. A database whose files are corrupted (a torn manifest
// after a crash) is rebuilt from its tables and journals with goleveldb's
// recovery, and that is logged, because an unopenable mailbox list would
// stop every service.
func OpenLevel(dir string, opts ...Option) (*Level, error) {
	o := buildLevelOptions(opts)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	lo := &opt.Options{
		// Seven databases in one process: keep the per-database caches
		// and open tables modest so master stays well under its fd limit.
		OpenFilesCacheCapacity: 64,
		BlockCacheCapacity:     4 << 20,
		NoSync:                 o.noSync,
	}
	db, err := leveldb.OpenFile(dir, lo)
	if lerrors.IsCorrupted(err) {
		o.logger.Error("DBERROR: database corrupted, recovering", "db", dir, "err", err)
		db, err = leveldb.RecoverFile(dir, lo)
		if err == nil {
			o.logger.Warn("recovered corrupted database", "db", dir)
		}
	}
	if err != nil {
		if isLockErr(err) {
			return nil, fmt.Errorf("open %s: %w: %w", dir, ErrLocked, err)
		}
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	return &Level{path: dir, db: db, wo: &opt.WriteOptions{Sync: !o.noSync}}, nil
}

// isLockErr recognises goleveldb's failure to take its file lock: the raw
// flock(LOCK_EX|LOCK_NB) errno from another open file description, or its
// own ErrLocked.
func isLockErr(err error) bool {
	return errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, syscall.EAGAIN) || errors.Is(err, storage.ErrLocked)
}

// Path returns the directory of the database.
func (l *Level) Path() string { return l.path }

// Close closes the database and releases its lock.
func (l *Level) Close() error {
	if err := l.db.Close(); err != nil && !errors.Is(err, leveldb.ErrClosed) {
		return fmt.Errorf("close %s: %w", l.path, err)
	}
	return nil
}

func (l *Level) wrap(what string, err error) error {
	if errors.Is(err, leveldb.ErrClosed) {
		err = ErrClosed
	}
	return fmt.Errorf("%s in %s: %w", what, l.path, err)
}

// Get implements DB.
func (l *Level) Get(key []byte) ([]byte, error) {
	v, err := l.db.Get(key, nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, l.wrap("get", err)
	}
	return v, nil
}

// Put implements DB.
func (l *Level) Put(key, value []byte) error {
	if err := checkKV(key, value); err != nil {
		return l.wrap("put", err)
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if err := l.db.Put(key, value, l.wo); err != nil {
		return l.wrap("put", err)
	}
	return nil
}

// Delete implements DB.
func (l *Level) Delete(key []byte) error {
	if err := checkKV(key, nil); err != nil {
		return l.wrap("delete", err)
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if err := l.db.Delete(key, l.wo); err != nil {
		return l.wrap("delete", err)
	}
	return nil
}

// Scan implements DB. The iterator reads a snapshot taken when the scan
// starts, so fn may write to the database; keys and values it receives are
// only valid until it returns.
func (l *Level) Scan(prefix []byte, fn func(key, value []byte) error) error {
	return l.scanFrom(prefix, nil, fn)
}

// scanFrom is Scan restricted to keys after after (nil: from the start);
// the server uses it to resume a scan whose connection broke.
func (l *Level) scanFrom(prefix, after []byte, fn func(key, value []byte) error) error {
	r := util.BytesPrefix(prefix)
	if after != nil && bytes.Compare(after, r.Start) > 0 {
		r.Start = after
	}
	it := l.db.NewIterator(r, nil)
	defer it.Release()
	for it.Next() {
		k := it.Key()
		if after != nil && bytes.Equal(k, after) {
			continue
		}
		if err := fn(k, it.Value()); err != nil {
			if err == ErrStop { // as Mem: the sentinel itself, not a wrapped one
				return nil
			}
			return err
		}
	}
	if err := it.Error(); err != nil {
		return l.wrap("scan", err)
	}
	return nil
}

// Batch implements DB with one goleveldb batch: one journal record, so all
// or none of it survives a crash.
func (l *Level) Batch(ops []Op) error {
	if len(ops) == 0 {
		return nil
	}
	if err := checkBatch(ops); err != nil {
		return l.wrap("batch", err)
	}
	b := new(leveldb.Batch)
	for _, op := range ops {
		if op.Value == nil {
			b.Delete(op.Key)
		} else {
			b.Put(op.Key, op.Value)
		}
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if err := l.db.Write(b, l.wo); err != nil {
		return l.wrap("batch", err)
	}
	return nil
}

// PutIfAbsent implements DB.
func (l *Level) PutIfAbsent(key, value []byte) (bool, error) {
	if err := checkKV(key, value); err != nil {
		return false, l.wrap("put-if-absent", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	ok, err := l.db.Has(key, nil)
	if err != nil {
		return false, l.wrap("put-if-absent", err)
	}
	if ok {
		return false, nil
	}
	if err := l.db.Put(key, value, l.wo); err != nil {
		return false, l.wrap("put-if-absent", err)
	}
	return true, nil
}

// CompareAndSwap implements DB.
func (l *Level) CompareAndSwap(key, old, new []byte) (bool, error) {
	if err := checkKV(key, old); err != nil {
		return false, l.wrap("compare-and-swap", err)
	}
	if err := checkKV(key, new); err != nil {
		return false, l.wrap("compare-and-swap", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	cur, err := l.db.Get(key, nil)
	found := err == nil
	if err != nil && !errors.Is(err, leveldb.ErrNotFound) {
		return false, l.wrap("compare-and-swap", err)
	}
	if old == nil && found || old != nil && (!found || !bytes.Equal(cur, old)) {
		return false, nil
	}
	if new == nil {
		err = l.db.Delete(key, l.wo)
	} else {
		err = l.db.Put(key, new, l.wo)
	}
	if err != nil {
		return false, l.wrap("compare-and-swap", err)
	}
	return true, nil
}
