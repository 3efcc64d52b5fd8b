package duplicate

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Process identifies a process across time: the boot it runs in, its pid
// and its start time (clock ticks since boot, /proc/<pid>/stat field 22),
// so a pid reused after the claimant died does not pass for it.
type Process struct {
	Boot  string
	PID   int
	Start uint64
}

const bootIDPath = "/proc/sys/kernel/random/boot_id"

// CurrentProcess returns this process. Without /proc (not Linux) Boot and
// Start are empty and liveness falls back to kill(pid, 0).
func CurrentProcess() Process {
	p := Process{PID: os.Getpid(), Boot: bootID()}
	if st, _, err := procStat(p.PID); err == nil {
		p.Start = st
	}
	return p
}

func bootID() string {
	b, err := os.ReadFile(bootIDPath)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// procStat returns the start time and state letter of pid.
func procStat(pid int) (start uint64, state byte, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The command name is in parentheses and may hold anything.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); the start time is field 22.
	if len(f) < 20 || len(f[0]) == 0 {
		return 0, 0, errors.New("malformed /proc stat")
	}
	start, err = strconv.ParseUint(f[19], 10, 64)
	return start, f[0][0], err
}

// Alive reports whether p still runs on this machine. A zombie (killed,
// not yet reaped) is dead: it will never finish a delivery.
func Alive(p Process) bool {
	if p.PID <= 0 {
		return false
	}
	if p.Boot != "" {
		if cur := bootID(); cur != "" && cur != p.Boot {
			return false
		}
	}
	start, state, err := procStat(p.PID)
	switch {
	case err == nil:
		if state == 'Z' || state == 'X' {
			return false
		}
		return p.Start == 0 || start == p.Start
	case errors.Is(err, os.ErrNotExist):
		if _, serr := os.Stat("/proc/self/stat"); serr == nil {
			return false // /proc works; the pid is gone
		}
	}
	// No /proc: ask the kernel. EPERM means it exists, as another user.
	return unix.Kill(p.PID, 0) != unix.ESRCH
}
