package cyrusdb

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/syndtr/goleveldb/leveldb"
	lerrors "github.com/syndtr/goleveldb/leveldb/errors"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/storage"
	"github.com/syndtr/goleveldb/leveldb/util"
	"golang.org/x/sys/unix"
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
// Scan take no lock of mu: they see a consistent goleveldb snapshot.
//
// gate is held shared by every use of db, and exclusively only to replace
// it (reopen), which never waits for it (TryLock): a Scan whose callback
// writes holds gate twice, and must not deadlock.
type Level struct {
	path   string
	lo     *opt.Options
	logger *slog.Logger
	wo     *opt.WriteOptions
	mu     sync.RWMutex
	gate   sync.RWMutex
	db     *leveldb.DB // guarded by gate
	// broken is set when a write failed: goleveldb keeps a journal write
	// error (ENOSPC on a full disk) and fails every later write with it
	// until the database is reopened.
	broken atomic.Bool
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
	db, err := openLevelDB(dir, lo, o.logger)
	if err != nil {
		return nil, err
	}
	return &Level{path: dir, lo: lo, logger: o.logger, db: db, wo: &opt.WriteOptions{Sync: !o.noSync}}, nil
}

func openLevelDB(dir string, lo *opt.Options, logger *slog.Logger) (*leveldb.DB, error) {
	db, err := leveldb.OpenFile(dir, lo)
	if lerrors.IsCorrupted(err) {
		logger.Error("DBERROR: database corrupted, recovering", "db", dir, "err", err)
		db, err = leveldb.RecoverFile(dir, lo)
		if err == nil {
			logger.Warn("recovered corrupted database", "db", dir)
		}
	}
	if err != nil {
		if isLockErr(err) {
			return nil, fmt.Errorf("open %s: %w: %w", dir, ErrLocked, err)
		}
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	return db, nil
}

// use runs f on the current goleveldb handle, reopening a broken one
// first if it can.
func (l *Level) use(f func(db *leveldb.DB) error) error {
	if l.broken.Load() {
		l.reopen()
	}
	l.gate.RLock()
	defer l.gate.RUnlock()
	return f(l.db)
}

// write runs a goleveldb write. One that fails marks the database for
// reopening, so a write error that has gone away (space freed on a full
// disk) does not stick.
func (l *Level) write(f func(db *leveldb.DB) error) error {
	err := l.use(f)
	if err != nil && !errors.Is(err, leveldb.ErrClosed) {
		l.broken.Store(true)
	}
	return err
}

// reopenMinFree is the free space below which a broken database is not
// reopened: opening writes a new journal and manifest, and a failed open
// would leave the database closed to reads too, where the broken handle
// still serves them.
const reopenMinFree = 256 << 10

// reopen closes and reopens a broken database, unless another operation
// is using it or the disk is still (nearly) full: then a later operation
// tries again.
func (l *Level) reopen() {
	if !l.gate.TryLock() {
		return
	}
	defer l.gate.Unlock()
	if !l.broken.Load() {
		return
	}
	var st unix.Statfs_t
	if err := unix.Statfs(l.path, &st); err == nil && st.Bavail*uint64(st.Bsize) < reopenMinFree {
		return
	}
	if err := l.db.Close(); err != nil && !errors.Is(err, leveldb.ErrClosed) {
		l.logger.Warn("closing database after a write error", "db", l.path, "err", err)
	}
	db, err := openLevelDB(l.path, l.lo, l.logger)
	if err != nil {
		// l.db stays closed: every operation fails with ErrClosed until
		// a later operation reopens it.
		l.logger.Error("DBERROR: reopening database after a write error", "db", l.path, "err", err)
		return
	}
	l.db = db
	l.broken.Store(false)
	l.logger.Info("reopened database after a write error", "db", l.path)
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
	l.gate.Lock()
	defer l.gate.Unlock()
	l.broken.Store(false) // no reopening after Close
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
	var v []byte
	err := l.use(func(db *leveldb.DB) (err error) {
		v, err = db.Get(key, nil)
		return err
	})
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
	if err := l.write(func(db *leveldb.DB) error { return db.Put(key, value, l.wo) }); err != nil {
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
	if err := l.write(func(db *leveldb.DB) error { return db.Delete(key, l.wo) }); err != nil {
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
	if l.broken.Load() {
		l.reopen()
	}
	l.gate.RLock()
	defer l.gate.RUnlock()
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
	if err := l.write(func(db *leveldb.DB) error { return db.Write(b, l.wo) }); err != nil {
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
	var ok bool
	err := l.use(func(db *leveldb.DB) (err error) {
		ok, err = db.Has(key, nil)
		return err
	})
	if err != nil {
		return false, l.wrap("put-if-absent", err)
	}
	if ok {
		return false, nil
	}
	if err := l.write(func(db *leveldb.DB) error { return db.Put(key, value, l.wo) }); err != nil {
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
	var cur []byte
	err := l.use(func(db *leveldb.DB) (err error) {
		cur, err = db.Get(key, nil)
		return err
	})
	found := err == nil
	if err != nil && !errors.Is(err, leveldb.ErrNotFound) {
		return false, l.wrap("compare-and-swap", err)
	}
	if old == nil && found || old != nil && (!found || !bytes.Equal(cur, old)) {
		return false, nil
	}
	err = l.write(func(db *leveldb.DB) error {
		if new == nil {
			return db.Delete(key, l.wo)
		}
		return db.Put(key, new, l.wo)
	})
	if err != nil {
		return false, l.wrap("compare-and-swap", err)
	}
	return true, nil
}
