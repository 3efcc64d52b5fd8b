// Package harness is the one place end-to-end tests start cyrusgo: it
// builds the binaries once per test process, writes a cyrus.conf and
// imapd.conf into a temporary directory, starts the real master on
// loopback and stops it when the test ends. Tests then talk to it with
// clients of their own choosing.
package harness

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
)

// commands lists the main packages to build: every command of the
// repository (the test service included), not the generators.
func commands(root string) ([]string, error) {
	out, err := exec.Command("go", "-C", root, "list", "-f", "{{if eq .Name \"main\"}}{{.ImportPath}}{{end}}", "./...").Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w", err)
	}
	var cmds []string
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" && !strings.Contains(l, "/internal/") {
			cmds = append(cmds, l)
		}
	}
	return cmds, nil
}

type build struct {
	once sync.Once
	dir  string
	err  error
}

// built is shared by every test of one test binary, so the binaries are
// compiled once; it is written only inside once.Do.
var built build

// Root returns the repository root (the directory holding go.mod).
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// Bin builds every command (once per test process) and returns the
// directory that holds them.
func Bin(t testing.TB) string {
	t.Helper()
	root := Root(t)
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "cyrusgo-bin-")
		if err != nil {
			built.err = err
			return
		}
		cmds, err := commands(root)
		if err != nil {
			built.err = err
			return
		}
		args := []string{"build", "-o", dir + "/"}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, cmds...)
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		built.dir = dir
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.dir
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Config is what a test wants master to run with. In both files @ROOT@ is
// replaced by the server's directory and @BIN@ by the binaries' directory.
type Config struct {
	CyrusConf  string
	ImapdConf  string
	NoWait     bool          // don't wait for master_ready_file
	ExtraFlags []string      // more master flags
	Env        []string      // more environment for master
	Timeout    time.Duration // to become ready; default 20s
	// MasterPath runs another master binary (Cyrus's) instead of ours.
	MasterPath string
	// Setup runs after the directories exist and before master starts.
	Setup func(root string)
	// Owner, when set, owns the server directory (chown -R), for a
	// master that drops to that user.
	Owner string
}

// Server is a running master.
type Server struct {
	t       testing.TB
	Root    string
	Bin     string
	argv    []string // master's command line, for Restart
	env     []string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	exitErr error
	mu      sync.Mutex
}

// BaseImapdConf is the imapd.conf every test starts from: everything
// under the test's directory, and root allowed since tests run as root in CI.
const BaseImapdConf = `configdirectory: @ROOT@/conf
defaultpartition: default
partition-default: @ROOT@/spool
sievedir: @ROOT@/sieve
master_ready_file: @ROOT@/run/master.ready
cyrus_user: root
servername: localhost
`

// Start writes the configuration and starts master with -D. It returns
// once master_ready_file exists (unless cfg.NoWait).
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	s := &Server{t: t, Root: t.TempDir(), Bin: Bin(t), done: make(chan struct{})}
	for _, d := range []string{"conf", "spool", "sieve", "run"} {
		if err := os.MkdirAll(filepath.Join(s.Root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if cfg.ImapdConf == "" {
		cfg.ImapdConf = BaseImapdConf
	}
	s.WriteFile("imapd.conf", cfg.ImapdConf)
	s.WriteFile("cyrus.conf", cfg.CyrusConf)
	if cfg.Setup != nil {
		cfg.Setup(s.Root)
	}
	if cfg.Owner != "" {
		chownTree(t, s.Root, cfg.Owner)
		// The user must reach the directory and the binaries.
		os.Chmod(filepath.Dir(s.Root), 0o755)
		os.Chmod(s.Root, 0o755)
		os.Chmod(s.Bin, 0o755)
	}
	s.logPath = filepath.Join(s.Root, "master.log")
	// O_APPEND: processes of a killed master write on beside a new one.
	logf, err := os.OpenFile(s.logPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	args := []string{"-D",
		"-C", s.Path("imapd.conf"),
		"-M", s.Path("cyrus.conf"),
		"-p", s.Path("run/master.pid")}
	for _, f := range cfg.ExtraFlags {
		args = append(args, strings.ReplaceAll(f, "@ROOT@", s.Root))
	}
	master := filepath.Join(s.Bin, "master")
	if cfg.MasterPath != "" {
		master = cfg.MasterPath
	}
	s.argv = append([]string{master}, args...)
	s.env = append(os.Environ(), cfg.Env...)
	s.launch(logf)
	t.Cleanup(s.cleanup)
	if !cfg.NoWait {
		s.waitReady(cfg.Timeout)
	}
	return s
}

// launch starts master with the saved command line, its output going to
// logf.
func (s *Server) launch(logf *os.File) {
	s.t.Helper()
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.Env = s.env
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	done := make(chan struct{})
	s.cmd, s.done = cmd, done
	go func() {
		err := cmd.Wait()
		s.mu.Lock()
		s.exitErr = err
		s.mu.Unlock()
		close(done)
	}()
}

func (s *Server) waitReady(timeout time.Duration) {
	s.t.Helper()
	if timeout == 0 {
		timeout = 20 * time.Second
	}
	s.WaitFor(timeout, "master_ready_file", func() bool {
		_, err := os.Stat(s.Path("run/master.ready"))
		return err == nil
	})
}

// Kill sends SIGKILL to master, as a crash would, and waits until it is
// reaped. Its children are left alone: what they do then is for the test
// to look at (Orphans).
func (s *Server) Kill() {
	s.t.Helper()
	if s.Exited() {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
}

// Restart starts master again on the same files and command line, after
// it has exited (Kill, Stop), and waits for master_ready_file as Start
// does. The log goes on in the same file.
func (s *Server) Restart(timeout time.Duration) {
	s.t.Helper()
	if !s.Exited() {
		s.t.Fatal("Restart: master is still running")
	}
	os.Remove(s.Path("run/master.ready"))
	logf, err := os.OpenFile(s.logPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		s.t.Fatal(err)
	}
	defer logf.Close()
	s.mu.Lock()
	s.exitErr = nil
	s.mu.Unlock()
	s.launch(logf)
	s.waitReady(timeout)
}

// Tool runs one of the built tools (reconstruct, quota...) with -C on the
// server's imapd.conf and its log lines on stderr, and returns its exit
// status, stdout and stderr.
func (s *Server) Tool(name string, args ...string) (int, string, string) {
	s.t.Helper()
	cmd := exec.Command(filepath.Join(s.Bin, name), append([]string{"-C", s.Path("imapd.conf")}, args...)...)
	cmd.Env = append(os.Environ(), logging.EnvStderr+"=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			s.t.Fatalf("%s: %v", name, err)
		}
		return ee.ExitCode(), out.String(), errb.String()
	}
	return 0, out.String(), errb.String()
}

func chownTree(t testing.TB, root, owner string) {
	t.Helper()
	out, err := exec.Command("chown", "-R", owner, root).CombinedOutput()
	if err != nil {
		t.Fatalf("chown %s %s: %v %s", owner, root, err, out)
	}
}

// Path returns a path under the server's directory.
func (s *Server) Path(rel string) string { return filepath.Join(s.Root, rel) }

// WriteFile writes a file under the server's directory, expanding @ROOT@
// and @BIN@.
func (s *Server) WriteFile(rel, content string) {
	s.t.Helper()
	content = strings.ReplaceAll(content, "@ROOT@", s.Root)
	content = strings.ReplaceAll(content, "@BIN@", s.Bin)
	if err := os.WriteFile(s.Path(rel), []byte(content), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// Pid is master's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Signal sends sig to master.
func (s *Server) Signal(sig syscall.Signal) {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signal master: %v", err)
	}
}

// Log returns everything master and its children wrote so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

// WaitLog waits until the log contains substr n times in all.
func (s *Server) WaitLog(timeout time.Duration, substr string, n int) {
	s.t.Helper()
	s.WaitFor(timeout, fmt.Sprintf("%d× %q in the log", n, substr), func() bool {
		return strings.Count(s.Log(), substr) >= n
	})
}

// WaitFor polls cond until it holds or timeout passes.
func (s *Server) WaitFor(timeout time.Duration, what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out after %v waiting for %s; log:\n%s", timeout, what, s.Log())
		}
		select {
		case <-s.done:
			if !cond() {
				s.t.Fatalf("master exited (%v) while waiting for %s; log:\n%s", s.ExitErr(), what, s.Log())
			}
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Exited reports whether master has exited.
func (s *Server) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// ExitErr is master's exit error once it has exited.
func (s *Server) ExitErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exitErr
}

// Stop sends SIGTERM and waits for master to exit; it returns the exit
// error (nil for status 0).
func (s *Server) Stop(timeout time.Duration) error {
	s.t.Helper()
	if s.Exited() {
		return s.ExitErr()
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return s.ExitErr()
	case <-time.After(timeout):
		s.cmd.Process.Kill()
		<-s.done
		s.t.Fatalf("master did not stop within %v; log:\n%s", timeout, s.Log())
		return nil
	}
}

func (s *Server) cleanup() {
	if !s.Exited() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
		}
	}
	// No child may outlive master, nor any left by a master killed before.
	for _, p := range append(Descendants(s.Pid()), s.Orphans()...) {
		syscall.Kill(p.Pid, syscall.SIGKILL)
	}
	if s.t.Failed() {
		s.t.Logf("master log:\n%s", s.Log())
	}
}

// Proc is a process seen in /proc.
type Proc struct {
	Pid     int
	PPid    int
	Service string // CYRUS_SERVICE from its environment
	Cmdline []string
	UID     int
}

// Children lists master's direct children.
func (s *Server) Children() []Proc {
	var out []Proc
	for _, p := range allProcs() {
		if p.PPid == s.Pid() {
			out = append(out, p)
		}
	}
	return out
}

// ServiceChildren lists master's children whose CYRUS_SERVICE is name.
func (s *Server) ServiceChildren(name string) []Proc {
	var out []Proc
	for _, p := range s.Children() {
		if p.Service == name {
			out = append(out, p)
		}
	}
	return out
}

// Orphans lists service processes of this server (CYRUS_SERVICE set, and
// this server's imapd.conf on their command line) that are not children
// of the running master: those a killed master left behind.
func (s *Server) Orphans() []Proc {
	conf := s.Path("imapd.conf")
	running := -1
	if !s.Exited() {
		running = s.Pid()
	}
	var out []Proc
	for _, p := range allProcs() {
		if p.Service == "" || p.PPid == running || !slices.Contains(p.Cmdline, conf) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// Descendants lists every live process below pid, for leak checks
// (Orphans finds those re-parented after their master died).
func Descendants(pid int) []Proc {
	procs := allProcs()
	kids := map[int][]Proc{}
	for _, p := range procs {
		kids[p.PPid] = append(kids[p.PPid], p)
	}
	var out []Proc
	var walk func(int)
	walk = func(p int) {
		for _, k := range kids[p] {
			out = append(out, k)
			walk(k.Pid)
		}
	}
	walk(pid)
	return out
}

func allProcs() []Proc {
	ents, _ := os.ReadDir("/proc")
	var out []Proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		p, ok := readProc(pid)
		if ok {
			out = append(out, p)
		}
	}
	return out
}

func readProc(pid int) (Proc, bool) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Proc{}, false
	}
	// The command name is in parentheses and may contain spaces.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return Proc{}, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 2 || f[0] == "Z" {
		return Proc{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	p := Proc{Pid: pid, PPid: ppid}
	if env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid)); err == nil {
		for _, kv := range bytes.Split(env, []byte{0}) {
			if v, ok := bytes.CutPrefix(kv, []byte("CYRUS_SERVICE=")); ok {
				p.Service = string(v)
			}
		}
	}
	if cl, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
		for _, a := range bytes.Split(bytes.TrimRight(cl, "\x00"), []byte{0}) {
			p.Cmdline = append(p.Cmdline, string(a))
		}
	}
	if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, l := range strings.Split(string(st), "\n") {
			if rest, ok := strings.CutPrefix(l, "Uid:"); ok {
				if f := strings.Fields(rest); len(f) > 0 {
					p.UID, _ = strconv.Atoi(f[0])
				}
			}
		}
	}
	return p, true
}

// Dial connects to a loopback TCP port, retrying briefly.
func Dial(t testing.TB, network, addr string) net.Conn {
	t.Helper()
	var err error
	for i := 0; i < 50; i++ {
		var c net.Conn
		c, err = net.DialTimeout(network, addr, 2*time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(30 * time.Second))
			return c
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("dial %s %s: %v", network, addr, err)
	return nil
}

// Addr formats a loopback address for port.
func Addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// TCPConns counts the TCP connections (sockets not listening) process pid
// holds: for a service process, the client sessions it is serving, so a
// leak check can tell an idle process from one stuck in a session.
func TCPConns(pid int) int {
	held := map[string]bool{}
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if ino, ok := strings.CutPrefix(l, "socket:["); ok && err == nil {
			held[strings.TrimSuffix(ino, "]")] = true
		}
	}
	n := 0
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, _ := os.ReadFile(table)
		for _, l := range strings.Split(string(b), "\n")[1:] {
			// sl local rem st tx:rx tr:when retrnsmt uid timeout inode
			f := strings.Fields(l)
			if len(f) >= 10 && f[3] != "0A" && held[f[9]] {
				n++
			}
		}
	}
	return n
}
