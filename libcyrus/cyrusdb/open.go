package cyrusdb

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
)

// SocketPath returns where master serves the databases of configDir:
// <configdirectory>/socket/cyrusdb.
func SocketPath(configDir string) string {
	return filepath.Join(configDir, "socket", "cyrusdb")
}

// Handle is how a tool or child reaches the databases: through master's
// socket, or, when master is down, by holding the files itself.
type Handle struct {
	client *Client
	store  *Store
}

// Open reaches the databases of configDir: through master's socket when a
// server answers there, otherwise by opening the files directly (which
// takes their locks: master cannot start until the handle is closed). If
// the files are locked although nothing answers on the socket, the error
// wraps ErrLocked and says so.
func Open(configDir string, logger *slog.Logger) (*Handle, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sock := SocketPath(configDir)
	c, dialErr := Dial(sock, WithClientLogger(logger))
	if dialErr == nil {
		logger.Debug("cyrusdb: using the database server", "socket", sock)
		return &Handle{client: c}, nil
	}
	st, err := OpenStore(configDir, WithLogger(logger))
	if err != nil {
		if errors.Is(err, ErrLocked) {
			return nil, fmt.Errorf("databases in %s are held by another process (is master running?) but no server answers on %s (%v): %w",
				DBDir(configDir), sock, dialErr, err)
		}
		return nil, fmt.Errorf("no database server (%v), and %w", dialErr, err)
	}
	logger.Debug("cyrusdb: no database server, opened the files directly", "dir", DBDir(configDir), "dial", dialErr)
	return &Handle{store: st}, nil
}

// Direct reports whether the handle holds the files itself (no master).
func (h *Handle) Direct() bool { return h.store != nil }

// DB returns the database called name, one of Names().
func (h *Handle) DB(name string) (DB, error) {
	if h.store != nil {
		return h.store.DB(name)
	}
	if !knownName(name) {
		return nil, fmt.Errorf("database %q: %w", name, ErrUnknownDB)
	}
	return h.client.DB(name), nil
}

// Close releases the connections or the files.
func (h *Handle) Close() error {
	if h.store != nil {
		return h.store.Close()
	}
	return h.client.Close()
}

// Check reads every record of every database, which proves each can be
// opened and iterated end to end (goleveldb verifies block checksums as
// it reads), and returns the record counts by name. Opening the files
// directly has already run goleveldb's recovery where a crash left it
// needed; this is ctl_cyrusdb -r.
func (h *Handle) Check() (map[string]int, error) {
	counts := make(map[string]int, len(Names()))
	for _, name := range Names() {
		db, err := h.DB(name)
		if err != nil {
			return counts, err
		}
		n := 0
		if err := db.Scan(nil, func(_, _ []byte) error { n++; return nil }); err != nil {
			return counts, fmt.Errorf("check %s: %w", name, err)
		}
		counts[name] = n
	}
	return counts, nil
}

// Checkpoint is ctl_cyrusdb -c. Cyrus's checkpoint flushes its
// transaction logs into the database files; goleveldb needs no such step
// because every acknowledged write is already in a synced journal, and
// its own background compaction folds the journal into tables. So a
// checkpoint only proves each database answers a read.
func (h *Handle) Checkpoint() error {
	for _, name := range Names() {
		db, err := h.DB(name)
		if err != nil {
			return err
		}
		if _, err := db.Get(nil); err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("checkpoint %s: %w", name, err)
		}
	}
	return nil
}
