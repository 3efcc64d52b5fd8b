// Package cyrusdb is the one key-value interface every cyrusgo database goes
// through: the mailbox list, subscriptions, non-owner seen state, quota,
// annotations, duplicate deliveries and the native user store.
//
// goleveldb lets one process open a database, so master owns the files
// (DESIGN.md 4) and serves them to its children over a Unix socket under
// <configdirectory>/socket/; children and tools use the client. A tool run
// while master is down opens the files directly. Both implement DB.
//
// Keys and values are opaque bytes. Every write is synced to disk before it
// returns unless the database was opened for data that may be lost.
package cyrusdb

import "errors"

// Names of the databases, as files under <configdirectory>/db/.
const (
	Mailboxes     = "mailboxes"
	Subscriptions = "subs"
	Seen          = "seen"
	Quota         = "quota"
	Annotations   = "annotations"
	Deliver       = "deliver"
	Users         = "users"
)

// Names lists every database master opens.
func Names() []string {
	return []string{Mailboxes, Subscriptions, Seen, Quota, Annotations, Deliver, Users}
}

// ErrNotFound is returned by Get for a missing key.
var ErrNotFound = errors.New("cyrusdb: not found")

// ErrStop, returned from a Scan callback, ends the scan without error.
var ErrStop = errors.New("cyrusdb: stop scan")

// Op is one write of an atomic batch: Value nil deletes Key.
type Op struct {
	Key   []byte
	Value []byte
}

// DB is one database.
type DB interface {
	// Get returns the value of key, or ErrNotFound.
	Get(key []byte) ([]byte, error)
	// Put stores value under key.
	Put(key, value []byte) error
	// Delete removes key; a missing key is not an error.
	Delete(key []byte) error
	// Scan calls fn for every key with the prefix, in key order, streaming:
	// the whole result is never held in memory. fn must not keep key or
	// value after it returns. Returning ErrStop ends the scan cleanly; any
	// other error ends it and is returned.
	Scan(prefix []byte, fn func(key, value []byte) error) error
	// Batch applies every op atomically: all or none.
	Batch(ops []Op) error
	// PutIfAbsent stores value only if key does not exist, and reports
	// whether it did.
	PutIfAbsent(key, value []byte) (bool, error)
	// CompareAndSwap replaces old with new atomically, and reports whether
	// it did. old nil means "key absent"; new nil deletes the key.
	CompareAndSwap(key, old, new []byte) (bool, error)
}
