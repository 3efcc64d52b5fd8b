// Package lock is the one way cyrusgo locks files between processes and
// goroutines: flock(2), which belongs to the open file description, so two
// opens in one process exclude each other too and closing an unrelated
// descriptor never drops a lock (as POSIX fcntl locks would, DESIGN.md 3).
package lock

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ErrWouldBlock is returned by TryLock when another holder has the lock.
var ErrWouldBlock = errors.New("lock: held by another")

// File is a held lock on a file.
type File struct {
	f         *os.File
	exclusive bool
}

// Lock opens (creating if needed) and locks path, shared or exclusive,
// waiting until it can.
func Lock(path string, exclusive bool) (*File, error) {
	return lockPath(path, exclusive, false)
}

// TryLock is Lock without waiting: an error wrapping ErrWouldBlock if
// held.
func TryLock(path string, exclusive bool) (*File, error) {
	return lockPath(path, exclusive, true)
}

func lockPath(path string, exclusive, try bool) (*File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	l := &File{f: f}
	if err := l.set(exclusive, try); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return l, nil
}

func (l *File) set(exclusive, try bool) error {
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	if try {
		how |= unix.LOCK_NB
	}
	for {
		err := unix.Flock(int(l.f.Fd()), how)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EWOULDBLOCK {
			return ErrWouldBlock
		}
		if err != nil {
			return err
		}
		l.exclusive = exclusive
		return nil
	}
}

// Upgrade turns a shared lock into an exclusive one. flock does this by
// releasing and re-acquiring, so callers must re-check what they read.
func (l *File) Upgrade() error { return l.set(true, false) }

// Downgrade turns an exclusive lock into a shared one.
func (l *File) Downgrade() error { return l.set(false, false) }

// Exclusive reports whether the lock is held exclusively.
func (l *File) Exclusive() bool { return l.exclusive }

// Unlock releases the lock and closes the file.
func (l *File) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the description drops the flock
	l.f = nil
	return err
}
