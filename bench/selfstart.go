package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	osuser "os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// selfServer is a cyrusgo master this program started in a temporary
// directory, with the sample configuration's choices (conf/imapd.conf:
// hashed spool, duplicate suppression, 50 IMAP sessions per imapd) on
// loopback ports.
type selfServer struct {
	dir              string
	bin              string
	conf             string
	imap, pop3, lmtp int
	cmd              *exec.Cmd
	done             chan struct{}
}

// selfImapdConf follows conf/imapd.conf, with paths under @ROOT@,
// plaintext logins allowed on loopback, and @USER@ as cyrus_user.
const selfImapdConf = `configdirectory: @ROOT@/conf
defaultpartition: default
partition-default: @ROOT@/spool
sievedir: @ROOT@/sieve
lmtpsocket: @ROOT@/run/socket/lmtp
master_ready_file: @ROOT@/run/master.ready
servername: localhost
cyrus_user: @USER@
altnamespace: no
unixhierarchysep: no
hashimapspool: true
lmtp_downcase_rcpt: yes
duplicatesuppression: yes
admins: cyrus
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_mech_list: PLAIN LOGIN
imap_client_limit: 50
autocreate_quota: 0
`

// selfCyrusConf follows conf/cyrus.conf: the services on loopback ports,
// lmtp pre-authorized (-a) as a TCP LMTP service of an MTA would be.
const selfCyrusConf = `START {
  recover  cmd="ctl_cyrusdb -C @ROOT@/imapd.conf -r"
}
SERVICES {
  imap     cmd="imapd -C @ROOT@/imapd.conf" listen="127.0.0.1:@IMAP@" prefork=1 maxchild=100
  pop3     cmd="pop3d -C @ROOT@/imapd.conf" listen="127.0.0.1:@POP3@" maxchild=50
  lmtp     cmd="lmtpd -a -C @ROOT@/imapd.conf" listen="127.0.0.1:@LMTP@" maxchild=20
}
`

// binaries are the commands a self-started server needs.
var binaries = []string{"master", "imapd", "pop3d", "lmtpd", "ctl_cyrusdb", "cyrpasswd"}

// findBin returns a directory holding the server's binaries: dir when
// given, else the directory of this program (bin/ after make build),
// else a fresh build into tmp from the module that holds the working
// directory.
func findBin(dir, tmp string) (string, error) {
	if dir != "" {
		return dir, haveBinaries(dir)
	}
	if exe, err := os.Executable(); err == nil {
		if d := filepath.Dir(exe); haveBinaries(d) == nil {
			return d, nil
		}
	}
	root, err := moduleRoot()
	if err != nil {
		return "", fmt.Errorf("no --bin given, no server binaries beside this program, and %w", err)
	}
	out := filepath.Join(tmp, "bin")
	args := []string{"build", "-o", out + "/"}
	for _, b := range binaries {
		args = append(args, "./"+b)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build in %s: %v\n%s", root, err, msg)
	}
	return out, nil
}

func haveBinaries(dir string) error {
	for _, b := range binaries {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return fmt.Errorf("server binaries in %s: %w", dir, err)
		}
	}
	return nil
}

// moduleRoot is the directory above the working directory holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory to build from")
		}
		dir = parent
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// prepareSelf writes the configuration of a server in dir and creates the
// user; master is not started yet, so the store can be filled directly.
func prepareSelf(dir, bin, userName, pass string) (*selfServer, error) {
	s := &selfServer{dir: dir, bin: bin, conf: filepath.Join(dir, "imapd.conf"), done: make(chan struct{})}
	for _, d := range []string{"conf", "spool", "sieve", "run/socket"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("server directory: %w", err)
		}
	}
	var err error
	for _, p := range []*int{&s.imap, &s.pop3, &s.lmtp} {
		if *p, err = freePort(); err != nil {
			return nil, err
		}
	}
	runAs := "root"
	if os.Geteuid() != 0 {
		u, err := osuser.Current()
		if err != nil {
			return nil, fmt.Errorf("current user: %w", err)
		}
		runAs = u.Username
	}
	r := strings.NewReplacer("@ROOT@", dir, "@USER@", runAs,
		"@IMAP@", strconv.Itoa(s.imap), "@POP3@", strconv.Itoa(s.pop3), "@LMTP@", strconv.Itoa(s.lmtp))
	if err := os.WriteFile(s.conf, []byte(r.Replace(selfImapdConf)), 0o644); err != nil {
		return nil, fmt.Errorf("write imapd.conf: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cyrus.conf"), []byte(r.Replace(selfCyrusConf)), 0o644); err != nil {
		return nil, fmt.Errorf("write cyrus.conf: %w", err)
	}
	cmd := exec.Command(filepath.Join(bin, "cyrpasswd"), "-C", s.conf, "add", userName)
	cmd.Stdin = strings.NewReader(pass + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("cyrpasswd add %s: %v %s", userName, err, out)
	}
	return s, nil
}

// start runs master and waits for its master_ready_file.
func (s *selfServer) start() error {
	logf, err := os.Create(filepath.Join(s.dir, "master.log"))
	if err != nil {
		return fmt.Errorf("master log: %w", err)
	}
	defer logf.Close()
	s.cmd = exec.Command(filepath.Join(s.bin, "master"), "-D",
		"-C", s.conf, "-M", filepath.Join(s.dir, "cyrus.conf"), "-p", filepath.Join(s.dir, "run/master.pid"))
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start master: %w", err)
	}
	go func() {
		s.cmd.Wait()
		close(s.done)
	}()
	ready := filepath.Join(s.dir, "run/master.ready")
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("master exited before it was ready; log:\n%s", s.log())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("master not ready after 60s; log:\n%s", s.log())
		}
	}
}

func (s *selfServer) log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "master.log"))
	return string(b)
}

// pids are master and every process below it.
func (s *selfServer) pids(p procFS) []int {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	return p.tree([]int{s.cmd.Process.Pid})
}

// stop ends master (SIGTERM, then SIGKILL after 15s) and any child that
// outlived it.
func (s *selfServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	kids := s.pids(procFS{root: "/proc"})
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	for _, pid := range kids {
		if pid != s.cmd.Process.Pid {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
