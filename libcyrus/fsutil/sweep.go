package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// stagePrefix starts the name of every staging file NewStage makes:
// stage.<pid>.<time>.<seq>.tmp. The mailbox store's COPY links messages
// in as copy.<pid>.<time>.<seq>.tmp.
const stagePrefix = "stage."

// SweepStages removes the staging files in dir whose process is gone: a
// process killed between staging a message and discarding the stage
// leaves its file behind, and nothing else would ever remove it. A file
// whose pid is in use (by its process or, after pid reuse, another) is
// left alone. It returns how many files it removed.
func SweepStages(dir string) (int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, nil
		}
		return 0, err
	}
	n := 0
	for _, e := range ents {
		pid, ok := stagePID(e.Name())
		if !ok || processAlive(pid) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err == nil {
			n++
		}
	}
	return n, nil
}

// stagePID reads the pid out of a staging file's name.
func stagePID(name string) (int, bool) {
	var rest string
	ok := false
	for _, p := range []string{stagePrefix, "copy."} {
		if rest, ok = strings.CutPrefix(name, p); ok {
			break
		}
	}
	if !ok || !strings.HasSuffix(rest, ".tmp") {
		return 0, false
	}
	p, _, _ := strings.Cut(rest, ".")
	pid, err := strconv.Atoi(p)
	return pid, err == nil && pid > 0
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
