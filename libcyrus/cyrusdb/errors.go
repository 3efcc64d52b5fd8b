package cyrusdb

import (
	"errors"
	"fmt"
)

// Size limits. They are the same for every implementation except Mem, so
// that a write that works against the files directly also works through
// the socket; they also bound what the server allocates for one frame.
const (
	// MaxNameSize bounds a database name on the wire.
	MaxNameSize = 1 << 10
	// MaxKeySize bounds a key. Cyrus keys (mailbox names, annotation
	// entries, message-ids) are far shorter.
	MaxKeySize = 64 << 10
	// MaxValueSize bounds a value.
	MaxValueSize = 64 << 20
	// MaxBatchSize bounds a batch: the sum over its ops of len(Key) +
	// len(Value) + 8.
	MaxBatchSize = 2 * MaxValueSize
)

// ErrLocked means another process holds the database files: master is
// running (or another tool has them open). It is returned wrapped; test
// with errors.Is.
var ErrLocked = errors.New("cyrusdb: database is locked by another process")

// ErrAmbiguous means a conditional write (PutIfAbsent, CompareAndSwap) was
// sent to the server but the connection broke before the reply arrived: it
// may or may not have been applied. It is never retried blindly, because a
// second attempt could report "not swapped" for a swap the first attempt
// made. The caller re-reads and decides.
var ErrAmbiguous = errors.New("cyrusdb: connection lost before the reply; the write may or may not have been applied")

// ErrUnknownDB names a database that is not in Names().
var ErrUnknownDB = errors.New("cyrusdb: unknown database")

// ErrTooLarge is returned for a key, value or batch over the size limits.
var ErrTooLarge = errors.New("cyrusdb: key, value or batch too large")

// ErrClosed is returned by a Client or Level used after Close.
var ErrClosed = errors.New("cyrusdb: closed")

// checkKV enforces MaxKeySize and MaxValueSize.
func checkKV(key, value []byte) error {
	if len(key) > MaxKeySize {
		return fmt.Errorf("key of %d bytes (limit %d): %w", len(key), MaxKeySize, ErrTooLarge)
	}
	if len(value) > MaxValueSize {
		return fmt.Errorf("value of %d bytes (limit %d): %w", len(value), MaxValueSize, ErrTooLarge)
	}
	return nil
}

// checkBatch enforces the per-op limits and MaxBatchSize.
func checkBatch(ops []Op) error {
	total := 0
	for _, op := range ops {
		if err := checkKV(op.Key, op.Value); err != nil {
			return err
		}
		total += len(op.Key) + len(op.Value) + 8
		if total > MaxBatchSize {
			return fmt.Errorf("batch over %d bytes: %w", MaxBatchSize, ErrTooLarge)
		}
	}
	return nil
}

// knownName reports whether name is one of Names().
func knownName(name string) bool {
	for _, n := range Names() {
		if n == name {
			return true
		}
	}
	return false
}
