package cyrusdb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Store is every database of one configuration directory, opened
// directly: master holds one and serves it (Serve); a tool holds one when
// master is down (Open).
type Store struct {
	configDir string
	dbs       map[string]*Level
}

// DBDir returns the directory that holds the databases of configDir, one
// goleveldb directory per name: <configdirectory>/db/<name>/.
func DBDir(configDir string) string { return filepath.Join(configDir, "db") }

// OpenStore opens every database of Names() under DBDir(configDir),
// creating what is missing. If any is held by another process the error
// wraps ErrLocked and nothing stays open.
func OpenStore(configDir string, opts ...Option) (*Store, error) {
	dir := DBDir(configDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("open databases: %w", err)
	}
	s := &Store{configDir: configDir, dbs: make(map[string]*Level, len(Names()))}
	for _, name := range Names() {
		l, err := OpenLevel(filepath.Join(dir, name), opts...)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("open database %s: %w", name, err)
		}
		s.dbs[name] = l
	}
	return s, nil
}

// ConfigDir returns the configuration directory the store was opened for.
func (s *Store) ConfigDir() string { return s.configDir }

// DB returns the database called name, one of Names().
func (s *Store) DB(name string) (DB, error) {
	l, ok := s.dbs[name]
	if !ok {
		return nil, fmt.Errorf("database %q: %w", name, ErrUnknownDB)
	}
	return l, nil
}

// Close closes every database. The store must not be used afterwards.
func (s *Store) Close() error {
	var errs []error
	for _, l := range s.dbs {
		if err := l.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
