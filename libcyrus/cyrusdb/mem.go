package cyrusdb

import (
	"bytes"
	"sort"
	"sync"
)

// Mem is an in-memory DB for unit tests of the packages built on cyrusdb.
// It keeps nothing on disk.
type Mem struct {
	mu sync.Mutex
	m  map[string][]byte
}

// NewMem returns an empty in-memory database.
func NewMem() *Mem { return &Mem{m: map[string][]byte{}} }

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// Get implements DB.
func (d *Mem) Get(key []byte) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.m[string(key)]
	if !ok {
		return nil, ErrNotFound
	}
	return clone(v), nil
}

// Put implements DB.
func (d *Mem) Put(key, value []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.m[string(key)] = clone(value)
	return nil
}

// Delete implements DB.
func (d *Mem) Delete(key []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.m, string(key))
	return nil
}

// Scan implements DB. It iterates over a snapshot, so fn may write.
func (d *Mem) Scan(prefix []byte, fn func(key, value []byte) error) error {
	d.mu.Lock()
	var keys []string
	for k := range d.m {
		if bytes.HasPrefix([]byte(k), prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	vals := make([][]byte, len(keys))
	for i, k := range keys {
		vals[i] = clone(d.m[k])
	}
	d.mu.Unlock()
	for i, k := range keys {
		if err := fn([]byte(k), vals[i]); err != nil {
			if err == ErrStop {
				return nil
			}
			return err
		}
	}
	return nil
}

// Batch implements DB.
func (d *Mem) Batch(ops []Op) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, op := range ops {
		if op.Value == nil {
			delete(d.m, string(op.Key))
		} else {
			d.m[string(op.Key)] = clone(op.Value)
		}
	}
	return nil
}

// PutIfAbsent implements DB.
func (d *Mem) PutIfAbsent(key, value []byte) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.m[string(key)]; ok {
		return false, nil
	}
	d.m[string(key)] = clone(value)
	return true, nil
}

// CompareAndSwap implements DB.
func (d *Mem) CompareAndSwap(key, old, new []byte) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cur, ok := d.m[string(key)]
	if old == nil && ok || old != nil && (!ok || !bytes.Equal(cur, old)) {
		return false, nil
	}
	if new == nil {
		delete(d.m, string(key))
	} else {
		d.m[string(key)] = clone(new)
	}
	return true, nil
}

// MemSet serves an in-memory database per name, made on first use: the
// databases of a mail store in tests, with no master to serve them.
type MemSet struct {
	mu  sync.Mutex
	dbs map[string]*Mem
}

// NewMemSet returns an empty set.
func NewMemSet() *MemSet { return &MemSet{dbs: map[string]*Mem{}} }

// DB returns the database called name.
func (s *MemSet) DB(name string) (DB, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dbs[name] == nil {
		s.dbs[name] = NewMem()
	}
	return s.dbs[name], nil
}
