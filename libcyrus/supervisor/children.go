package supervisor

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode"

	"golang.org/x/sys/unix"
)

// kind is what a child process was started for; the names are the ones
// Cyrus's master prints in its "process type:..." lines.
type kind int

const (
	kindService kind = iota
	kindEvent
	kindDaemon
	kindStart
)

func (k kind) String() string {
	return [...]string{"SERVICE", "EVENT", "DAEMON", "START"}[k]
}

// state follows Cyrus's master: a service child is READY from the moment it
// is forked until it says UNAVAILABLE, BUSY until it says AVAILABLE again.
type state int

const (
	stateReady state = iota
	stateBusy
	stateDead
)

func (s state) String() string {
	return [...]string{"READY", "BUSY", "DEAD"}[s]
}

// child is one process master started.
type child struct {
	pid     int
	kind    kind
	name    string
	path    string
	started time.Time
	state   state
	inst    *instance // service children only
	daemon  *daemon   // daemon children only
	hupped  bool      // sent SIGHUP: its exit is expected, not a failure
	termed  bool      // sent SIGTERM during shutdown
}

// exitEvent reports a reaped child.
type exitEvent struct {
	pid   int
	state *os.ProcessState
}

// resolve finds the executable for a cmd= word: absolute paths as given,
// bare names first beside the master binary, then on PATH.
func (m *Master) resolve(name string) (string, error) {
	if name == "" {
		return "", errors.New("empty command")
	}
	if strings.Contains(name, "/") {
		p, err := filepath.Abs(name)
		if err != nil {
			return "", err
		}
		if err := isExecutable(p); err != nil {
			return "", err
		}
		return p, nil
	}
	if m.execDir != "" {
		p := filepath.Join(m.execDir, name)
		if isExecutable(p) == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("cannot find executable %q beside master (%s) or on PATH", name, m.execDir)
	}
	return filepath.Abs(p)
}

func isExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", p)
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not executable", p)
	}
	return nil
}

// spawn starts argv (argv[0] already resolved to path). extra become fds 3
// and up. The child gets master's stdout and stderr, like Cyrus's.
func (m *Master) spawn(k kind, name, path string, argv []string, extra []*os.File, env []string, maxfds int) (*child, error) {
	// argv[0] is the absolute path, so a Cyrus service's own check of its
	// binary (service.c stats argv[0]) finds the file we ran.
	args := append([]string{path}, argv[1:]...)
	cmd := &exec.Cmd{
		Path:       path,
		Args:       args,
		Env:        append(os.Environ(), env...),
		ExtraFiles: extra,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("can't exec %s for %s %s: %w", path, strings.ToLower(k.String()), name, err)
	}
	pid := cmd.Process.Pid
	if maxfds > 0 {
		lim := unix.Rlimit{Cur: uint64(maxfds), Max: uint64(maxfds)}
		if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, &lim, nil); err != nil {
			m.log.Error(fmt.Sprintf("setrlimit: Unable to set file descriptors limit to %d: %v", maxfds, err))
		}
	}
	c := &child{pid: pid, kind: k, name: name, path: path, started: time.Now()}
	m.children[pid] = c
	go func() {
		cmd.Wait()
		m.post(exitEvent{pid: pid, state: cmd.ProcessState})
	}()
	return c, nil
}

// describeExit returns Cyrus's wording for how a process ended, and
// whether that counts as a failure.
func describeExit(ps *os.ProcessState) (string, bool) {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok {
		return fmt.Sprintf("exited, status %d", ps.ExitCode()), ps.ExitCode() != 0
	}
	switch {
	case ws.Exited() && ws.ExitStatus() == 0:
		return "exited normally", false
	case ws.Exited():
		return fmt.Sprintf("exited, status %d", ws.ExitStatus()), true
	case ws.Signaled():
		s := fmt.Sprintf("signaled to death by signal %d (%s)", int(ws.Signal()), signalText(ws.Signal()))
		if ws.CoreDump() {
			s += " (core dumped)"
		}
		return s, true
	}
	return "exited", true
}

// signalText is strsignal(3)'s text: "Segmentation fault", "Hangup".
func signalText(s syscall.Signal) string {
	t := s.String()
	if t == "" {
		return t
	}
	r := []rune(t)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func (m *Master) logExit(c *child, ps *os.ProcessState) bool {
	how, failed := describeExit(ps)
	age := time.Since(c.started).Seconds()
	msg := fmt.Sprintf("process type:%s name:%s path:%s age:%.3fs pid:%d %s", c.kind, c.name, c.path, age, c.pid, how)
	if failed && !c.termed {
		m.log.Error(msg)
	} else {
		m.log.Debug(msg)
	}
	return failed
}

func (m *Master) signal(c *child, sig syscall.Signal) {
	if err := syscall.Kill(c.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		m.log.Error(fmt.Sprintf("kill(%d, %s): %v", c.pid, sig, err))
	}
}
