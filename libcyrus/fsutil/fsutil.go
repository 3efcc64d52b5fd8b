// Package fsutil is the durability recipe every cyrusgo write goes through,
// in one place so it is called rather than re-typed (STYLE.md): data is
// written to a temporary file, fsynced, then linked or renamed into place,
// and the directory is fsynced so the new name survives a crash.
package fsutil

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"
)

// SyncDir fsyncs a directory, making the creation, rename or removal of
// names in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return nil
}

// tempSeq makes temporary names unique within a process; the pid and time
// make them unique across processes.
var tempSeq atomic.Uint64

// TempName returns a name for a temporary file in dir that no other
// process or goroutine will pick.
func TempName(dir, prefix string) string {
	n := tempSeq.Add(1)
	return filepath.Join(dir, prefix+strconv.Itoa(os.Getpid())+"."+strconv.FormatInt(time.Now().UnixNano(), 36)+"."+strconv.FormatUint(n, 36)+".tmp")
}

// WriteFile replaces path with data atomically and durably: write a
// temporary file, fsync it, rename it over path, fsync the directory.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp := TempName(dir, "."+filepath.Base(path)+".")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("fsync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rename %s: %w", path, err)
	}
	return SyncDir(dir)
}

// Stage is a file being written before it gets its final name. Write to
// it, then Commit links it (hard link, so an existing name is never
// clobbered) to one or more final names.
type Stage struct {
	f    *os.File
	path string
	size int64
}

// NewStage creates a staging file in dir (which must be on the same
// filesystem as the final names).
func NewStage(dir string) (*Stage, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("stage dir %s: %w", dir, err)
	}
	p := TempName(dir, stagePrefix)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create stage file: %w", err)
	}
	return &Stage{f: f, path: p}, nil
}

// Write appends to the staged file.
func (s *Stage) Write(b []byte) (int, error) {
	n, err := s.f.Write(b)
	s.size += int64(n)
	return n, err
}

// ReadFrom copies r into the staged file.
func (s *Stage) ReadFrom(r io.Reader) (int64, error) {
	n, err := io.Copy(s.f, r)
	s.size += n
	return n, err
}

// Size is the number of bytes written so far.
func (s *Stage) Size() int64 { return s.size }

// File is the staged file, open for reading and writing.
func (s *Stage) File() *os.File { return s.f }

// Path is where the staged file is.
func (s *Stage) Path() string { return s.path }

// Sync fsyncs the staged data.
func (s *Stage) Sync() error {
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", s.path, err)
	}
	return nil
}

// Link gives the staged (and synced) file another name and makes that
// name durable. It fails if the name exists.
func (s *Stage) Link(final string) error {
	return LinkDurable(s.path, final)
}

// Discard removes the staged file. It is safe to call after Link: the
// final names keep the data.
func (s *Stage) Discard() {
	s.f.Close()
	os.Remove(s.path)
}

// LinkDurable hard-links old to new and fsyncs new's directory. Where the
// filesystem cannot link (EXDEV, EPERM), it copies and syncs instead.
func LinkDurable(old, new string) error {
	err := os.Link(old, new)
	if err != nil {
		var le *os.LinkError
		if errors.As(err, &le) && !errors.Is(err, os.ErrExist) {
			if cerr := CopyFile(old, new); cerr != nil {
				return fmt.Errorf("link %s: %w (copy: %v)", new, err, cerr)
			}
		} else {
			return fmt.Errorf("link %s: %w", new, err)
		}
	}
	return SyncDir(filepath.Dir(new))
}

// CopyFile copies old to a new file new (which must not exist) and syncs it.
func CopyFile(old, new string) error {
	in, err := os.Open(old)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(new, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(new)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(new)
		return err
	}
	return out.Close()
}

// AdoptStage wraps an already written and durable file at path as a Stage,
// so it can be linked like a fresh one (a COPY links the source message).
func AdoptStage(f *os.File, path string) *Stage {
	fi, err := f.Stat()
	var size int64
	if err == nil {
		size = fi.Size()
	}
	return &Stage{f: f, path: path, size: size}
}
