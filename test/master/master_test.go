// End-to-end tests of master with the lemming test service: real
// processes, real sockets on loopback.
package master_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/test/harness"
)

const wait = 15 * time.Second

// lemmingConf returns a cyrus.conf with the given SERVICES lines; each
// "%s" in them becomes the lemming command with its -C.
func servicesConf(lines ...string) string {
	var b strings.Builder
	b.WriteString("SERVICES {\n")
	for _, l := range lines {
		b.WriteString("  " + strings.ReplaceAll(l, "LEMMING", "lemming -C @ROOT@/imapd.conf") + "\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// session is a connection to a lemming.
type session struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	// greeting fields
	service string
	pid     int
	uid     int
}

func dialLemming(t *testing.T, network, addr string) *session {
	t.Helper()
	c := harness.Dial(t, network, addr)
	s := &session{t: t, conn: c, r: bufio.NewReader(c)}
	line := s.line()
	var name string
	if _, err := fmt.Sscanf(line, "%s %s %d %d", &name, &s.service, &s.pid, &s.uid); err != nil || name != "lemming" {
		t.Fatalf("bad greeting %q: %v", line, err)
	}
	return s
}

func (s *session) line() string {
	s.t.Helper()
	l, err := s.r.ReadString('\n')
	if err != nil {
		s.t.Fatalf("read: %v", err)
	}
	return strings.TrimRight(l, "\r\n")
}

func (s *session) cmd(c string) string {
	s.t.Helper()
	fmt.Fprintf(s.conn, "%s\r\n", c)
	return s.line()
}

func (s *session) send(c string) {
	fmt.Fprintf(s.conn, "%s\r\n", c)
}

func (s *session) quit() {
	s.t.Helper()
	if got := s.cmd("QUIT"); got != "bye" {
		s.t.Fatalf("QUIT: %q", got)
	}
	s.conn.Close()
}

func TestSpawnOnDemandAndPrefork(t *testing.T) {
	t.Parallel()
	p1, p2 := harness.FreePort(t), harness.FreePort(t)
	srv := harness.Start(t, harness.Config{CyrusConf: servicesConf(
		fmt.Sprintf(`ondemand cmd="LEMMING" listen="127.0.0.1:%d"`, p1),
		fmt.Sprintf(`pre cmd="LEMMING" listen="127.0.0.1:%d" prefork=2`, p2),
	)})
	srv.WaitFor(wait, "2 preforked children", func() bool { return len(srv.ServiceChildren("pre")) == 2 })
	if n := len(srv.ServiceChildren("ondemand")); n != 0 {
		t.Fatalf("ondemand has %d children before any connection", n)
	}
	s := dialLemming(t, "tcp", harness.Addr(p1))
	if s.service != "ondemand" {
		t.Fatalf("CYRUS_SERVICE = %q", s.service)
	}
	s.quit()
	s = dialLemming(t, "tcp", harness.Addr(p2))
	if s.service != "pre" {
		t.Fatalf("CYRUS_SERVICE = %q", s.service)
	}
	// While one preforked child is busy, master keeps two ready.
	srv.WaitFor(wait, "prefork refilled", func() bool { return len(srv.ServiceChildren("pre")) == 3 })
	s.quit()
}

func TestMaxChild(t *testing.T) {
	t.Parallel()
	p := harness.FreePort(t)
	srv := harness.Start(t, harness.Config{CyrusConf: servicesConf(
		fmt.Sprintf(`one cmd="LEMMING" listen="127.0.0.1:%d" maxchild=1`, p),
	)})
	first := dialLemming(t, "tcp", harness.Addr(p))
	// The second connection is queued in the backlog, not served.
	c := harness.Dial(t, "tcp", harness.Addr(p))
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(700 * time.Millisecond))
	if n, err := c.Read(make([]byte, 64)); err == nil {
		t.Fatalf("second connection served (%d bytes) while maxchild=1 is busy", n)
	}
	if n := len(srv.ServiceChildren("one")); n != 1 {
		t.Fatalf("%d children, want 1", n)
	}
	first.quit()
	c.SetReadDeadline(time.Now().Add(wait))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "lemming one") {
		t.Fatalf("queued connection: %q %v", line, err)
	}
}

func TestKilledChildIsReplaced(t *testing.T) {
	t.Parallel()
	p := harness.FreePort(t)
	srv := harness.Start(t, harness.Config{CyrusConf: servicesConf(
		fmt.Sprintf(`sit cmd="LEMMING" listen="127.0.0.1:%d" babysit=1`, p),
	)})
	var kids []harness.Proc
	srv.WaitFor(wait, "babysat child", func() bool { kids = srv.ServiceChildren("sit"); return len(kids) == 1 })
	syscall.Kill(kids[0].Pid, syscall.SIGKILL)
	srv.WaitLog(wait, fmt.Sprintf("pid:%d signaled to death by signal 9 (Killed)", kids[0].Pid), 1)
	srv.WaitFor(wait, "replacement child", func() bool {
		k := srv.ServiceChildren("sit")
		return len(k) == 1 && k[0].Pid != kids[0].Pid
	})
	// A busy child that dies mid-session is replaced on the next connection.
	s := dialLemming(t, "tcp", harness.Addr(p))
	s.send("EXIT 1")
	srv.WaitLog(wait, fmt.Sprintf("pid:%d exited, status 1", s.pid), 1)
	dialLemming(t, "tcp", harness.Addr(p)).quit()
}

func TestDisableAfterFailures(t *testing.T) {
	t.Parallel()
	p := harness.FreePort(t)
	srv := harness.Start(t, harness.Config{CyrusConf: servicesConf(
		fmt.Sprintf(`bad cmd="LEMMING -m die" listen="127.0.0.1:%d" prefork=1`, p),
	)})
	srv.WaitLog(wait, "too many failures for service bad/ipv4, disabling until next SIGHUP", 1)
	if n := strings.Count(srv.Log(), "in READY state: terminated abnormally"); n != 5 {
		t.Fatalf("%d abnormal terminations logged before disabling, want 5", n)
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(srv.ServiceChildren("bad")); n != 0 {
		t.Fatalf("%d children of a disabled service", n)
	}
	// The port is closed while disabled.
	if c, err := net.DialTimeout("tcp", harness.Addr(p), time.Second); err == nil {
		c.Close()
		t.Fatal("disabled service still listening")
	}
	// SIGHUP with a fixed command brings it back.
	srv.WriteFile("cyrus.conf", servicesConf(fmt.Sprintf(`bad cmd="LEMMING" listen="127.0.0.1:%d" prefork=1`, p)))
	srv.Signal(syscall.SIGHUP)
	s := dialLemming(t, "tcp", harness.Addr(p))
	s.quit()
}

func TestReload(t *testing.T) {
	t.Parallel()
	pa, pb, pc, pd := harness.FreePort(t), harness.FreePort(t), harness.FreePort(t), harness.FreePort(t)
	srv := harness.Start(t, harness.Config{CyrusConf: servicesConf(
		fmt.Sprintf(`keep cmd="LEMMING" listen="127.0.0.1:%d"`, pa),
		fmt.Sprintf(`gone cmd="LEMMING" listen="127.0.0.1:%d"`, pb),
		fmt.Sprintf(`move cmd="LEMMING" listen="127.0.0.1:%d"`, pc),
	)})
	busy := dialLemming(t, "tcp", harness.Addr(pb))

	srv.WriteFile("cyrus.conf", servicesConf(
		fmt.Sprintf(`keep cmd="LEMMING" listen="127.0.0.1:%d"`, pa),
		fmt.Sprintf(`move cmd="LEMMING" listen="127.0.0.1:%d"`, pd),
		fmt.Sprintf(`added cmd="LEMMING" listen="127.0.0.1:%d"`, pb),
	))
	srv.Signal(syscall.SIGHUP)
	srv.WaitLog(wait, "Services reconfigured", 1)

	// A busy child of a removed service finishes its session.
	if got := busy.cmd("PID"); got != strconv.Itoa(busy.pid) {
		t.Fatalf("busy session after reload: %q", got)
	}
	busy.quit()

	if s := dialLemming(t, "tcp", harness.Addr(pa)); s.service != "keep" {
		t.Fatalf("keep: %q", s.service)
	}
	if s := dialLemming(t, "tcp", harness.Addr(pd)); s.service != "move" {
		t.Fatalf("move on new port: %q", s.service)
	}
	if s := dialLemming(t, "tcp", harness.Addr(pb)); s.service != "added" {
		t.Fatalf("added on old port of removed service: %q", s.service)
	}
	if c, err := net.DialTimeout("tcp", harness.Addr(pc), time.Second); err == nil {
		c.Close()
		t.Fatal("old port of moved service still listening")
	}
}

func TestShutdownLeavesNoProcesses(t *testing.T) {
	t.Parallel()
	p := harness.FreePort(t)
	srv := harness.Start(t, harness.Config{CyrusConf: servicesConf(
		fmt.Sprintf(`svc cmd="LEMMING" listen="127.0.0.1:%d" prefork=2`, p),
	) + `DAEMON {
  d1 cmd="lemming daemon @ROOT@/daemon.log"
}
`})
	s := dialLemming(t, "tcp", harness.Addr(p))
	s.send("SLEEP 60")
	srv.WaitFor(wait, "daemon started", func() bool { return len(srv.Children()) >= 4 })
	if err := srv.Stop(30 * time.Second); err != nil {
		t.Fatalf("master exit: %v", err)
	}
	if d := harness.Descendants(srv.Pid()); len(d) != 0 {
		t.Fatalf("processes left: %+v", d)
	}
	for _, p := range srv.Children() {
		t.Fatalf("child %d still alive", p.Pid)
	}
	if !strings.Contains(srv.Log(), "All children have exited, closing down") {
		t.Fatal("no closing line in log")
	}
	if _, err := os.Stat(srv.Path("run/master.ready")); err == nil {
		t.Fatal("master_ready_file left behind")
	}
}

func TestStartRunsFirst(t *testing.T) {
	t.Parallel()
	p := harness.FreePort(t)
	srv := harness.Start(t, harness.Config{CyrusConf: `START {
  one cmd="lemming touch @ROOT@/start.log one"
  two cmd="lemming touch @ROOT@/start.log two"
  missing cmd="no-such-program-here"
}
` + servicesConf(fmt.Sprintf(`svc cmd="LEMMING" listen="127.0.0.1:%d"`, p))})
	b, err := os.ReadFile(srv.Path("start.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "one ") || !strings.HasPrefix(lines[1], "two ") {
		t.Fatalf("START ran %q", lines)
	}
	if !strings.Contains(srv.Log(), "cannot find executable for START entry 'missing'") {
		t.Fatal("missing START command not logged")
	}
	dialLemming(t, "tcp", harness.Addr(p)).quit()
}

func TestFailingStartStopsMaster(t *testing.T) {
	t.Parallel()
	srv := harness.Start(t, harness.Config{NoWait: true, CyrusConf: `START {
  bad cmd="lemming fail"
}
SERVICES {
}
`})
	srv.WaitFor(wait, "master exit", srv.Exited)
	if srv.ExitErr() == nil {
		t.Fatal("master exited 0 after a failing START")
	}
	if !strings.Contains(srv.Log(), "can't run startup bad") {
		t.Fatal("no startup failure in log")
	}
}

func TestEvents(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits for the wall clock")
	}
	// Build first: the at= minute must still lie ahead when master starts.
	harness.Bin(t)
	at := time.Now().Add(time.Minute)
	if at.Second() > 45 {
		at = at.Add(time.Minute)
	}
	srv := harness.Start(t, harness.Config{CyrusConf: fmt.Sprintf(`SERVICES {
}
EVENTS {
  once cmd="lemming touch @ROOT@/events.log once"
  every cmd="lemming touch @ROOT@/events.log every" period=1
  daily cmd="lemming touch @ROOT@/events.log daily" at=%02d%02d
}
`, at.Hour(), at.Minute())})
	count := func(tag string) int {
		b, _ := os.ReadFile(srv.Path("events.log"))
		return strings.Count(string(b), tag+" ")
	}
	srv.WaitFor(wait, "events at start", func() bool { return count("once") == 1 && count("every") == 1 })
	if n := count("daily"); n != 0 {
		t.Fatalf("at= event ran %d times at start", n)
	}
	srv.WaitFor(3*time.Minute+wait, "period=1 and at= events", func() bool { return count("every") >= 2 && count("daily") == 1 })
	if n := count("once"); n != 1 {
		t.Fatalf("one-shot event ran %d times", n)
	}
}

func TestDaemons(t *testing.T) {
	t.Parallel()
	p := harness.FreePort(t)
	srv := harness.Start(t, harness.Config{CyrusConf: `DAEMON {
  first cmd="lemming daemon @ROOT@/first.log -w" wait=y
  second cmd="lemming daemon @ROOT@/second.log -w" wait=y
  loose cmd="lemming daemon @ROOT@/loose.log"
}
` + servicesConf(fmt.Sprintf(`svc cmd="LEMMING" listen="127.0.0.1:%d"`, p))})
	read := func(name string) string {
		b, _ := os.ReadFile(srv.Path(name))
		return string(b)
	}
	for _, f := range []string{"first.log", "second.log"} {
		if !strings.Contains(read(f), "start ") {
			t.Fatalf("wait=y daemon %s not started before master was ready", f)
		}
	}
	srv.WaitFor(wait, "loose daemon", func() bool { return strings.Contains(read("loose.log"), "start ") })

	// A daemon that dies is restarted.
	var pid int
	fmt.Sscanf(read("loose.log"), "start %d", &pid)
	syscall.Kill(pid, syscall.SIGKILL)
	srv.WaitFor(wait, "daemon restart", func() bool { return strings.Count(read("loose.log"), "start ") == 2 })

	if err := srv.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	// wait=y daemons stop last, in reverse order.
	fi1, err1 := os.Stat(srv.Path("first.log"))
	fi2, err2 := os.Stat(srv.Path("second.log"))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if !strings.Contains(read("first.log"), "stop ") || !strings.Contains(read("second.log"), "stop ") {
		t.Fatal("wait=y daemons not stopped")
	}
	if fi1.ModTime().Before(fi2.ModTime()) {
		t.Fatalf("first daemon stopped before second: %v < %v", fi1.ModTime(), fi2.ModTime())
	}
}

func TestWaitDaemonNotReady(t *testing.T) {
	t.Parallel()
	srv := harness.Start(t, harness.Config{NoWait: true, CyrusConf: `DAEMON {
  mute cmd="lemming touch @ROOT@/mute.log" wait=y
}
`})
	srv.WaitFor(wait, "master exit", srv.Exited)
	if srv.ExitErr() == nil || !strings.Contains(srv.Log(), "daemon mute did not report readiness") {
		t.Fatalf("exit %v; log:\n%s", srv.ExitErr(), srv.Log())
	}
}

func TestUnixSocketAndIPv6(t *testing.T) {
	t.Parallel()
	p := harness.FreePort(t)
	lines := []string{`sock cmd="LEMMING" listen="@ROOT@/run/socket/lemming"`}
	v6 := false
	if ln, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		ln.Close()
		v6 = true
		lines = append(lines, fmt.Sprintf(`six cmd="LEMMING" listen="[::1]:%d"`, p))
	}
	srv := harness.Start(t, harness.Config{CyrusConf: servicesConf(lines...)})
	s := dialLemming(t, "unix", srv.Path("run/socket/lemming"))
	if s.service != "sock" {
		t.Fatalf("unix: %q", s.service)
	}
	s.quit()
	if !v6 {
		t.Skip("no IPv6 loopback on this machine")
	}
	s = dialLemming(t, "tcp6", fmt.Sprintf("[::1]:%d", p))
	s.quit()
}

func TestMissingExecutableIsNotFatal(t *testing.T) {
	t.Parallel()
	p1, p2 := harness.FreePort(t), harness.FreePort(t)
	srv := harness.Start(t, harness.Config{CyrusConf: servicesConf(
		fmt.Sprintf(`nothere cmd="imapd-that-does-not-exist" listen="127.0.0.1:%d"`, p1),
		fmt.Sprintf(`here cmd="LEMMING" listen="127.0.0.1:%d"`, p2),
	)})
	if !strings.Contains(srv.Log(), "cannot find executable for service 'nothere'") {
		t.Fatal("missing executable not logged")
	}
	dialLemming(t, "tcp", harness.Addr(p2)).quit()
}

func TestClientLimitAndUses(t *testing.T) {
	t.Parallel()
	p1, p2 := harness.FreePort(t), harness.FreePort(t)
	srv := harness.Start(t, harness.Config{
		ImapdConf: harness.BaseImapdConf + "multi_client_limit: 3\n",
		CyrusConf: servicesConf(
			fmt.Sprintf(`multi cmd="LEMMING" listen="127.0.0.1:%d"`, p1),
			fmt.Sprintf(`uses cmd="LEMMING -U 2" listen="127.0.0.1:%d"`, p2),
		)})
	// Three concurrent sessions share one process.
	var ss []*session
	for i := 0; i < 3; i++ {
		ss = append(ss, dialLemming(t, "tcp", harness.Addr(p1)))
	}
	for _, s := range ss[1:] {
		if s.pid != ss[0].pid {
			t.Fatalf("client_limit 3: sessions in pids %d and %d", ss[0].pid, s.pid)
		}
	}
	// The fourth goes to a new process: the first is at its limit.
	s4 := dialLemming(t, "tcp", harness.Addr(p1))
	if s4.pid == ss[0].pid {
		t.Fatal("fourth session in a process at its client_limit")
	}
	for _, s := range append(ss, s4) {
		s.quit()
	}

	// -U 2: the process exits after two sessions; the third is another's.
	a := dialLemming(t, "tcp", harness.Addr(p2))
	a.quit()
	b := dialLemming(t, "tcp", harness.Addr(p2))
	b.quit()
	if a.pid != b.pid {
		t.Fatalf("-U 2: first two sessions in %d and %d", a.pid, b.pid)
	}
	srv.WaitFor(wait, "used-up process to exit", func() bool { return syscall.Kill(a.pid, 0) != nil })
	c := dialLemming(t, "tcp", harness.Addr(p2))
	if c.pid == a.pid {
		t.Fatal("-U 2: third session in the same process")
	}
	c.quit()
}

func TestPanicEndsOnlyThatSession(t *testing.T) {
	t.Parallel()
	p := harness.FreePort(t)
	srv := harness.Start(t, harness.Config{
		ImapdConf: harness.BaseImapdConf + "client_limit: 2\n",
		CyrusConf: servicesConf(fmt.Sprintf(`svc cmd="LEMMING" listen="127.0.0.1:%d"`, p)),
	})
	a := dialLemming(t, "tcp", harness.Addr(p))
	b := dialLemming(t, "tcp", harness.Addr(p))
	if a.pid != b.pid {
		t.Fatalf("sessions in %d and %d", a.pid, b.pid)
	}
	a.send("PANIC")
	if _, err := a.r.ReadString('\n'); err == nil {
		t.Fatal("panicking session not closed")
	}
	if got := b.cmd("PID"); got != strconv.Itoa(b.pid) {
		t.Fatalf("other session after panic: %q", got)
	}
	b.quit()
	srv.WaitLog(wait, "panic serving", 1)
}

func TestServiceWithoutMaster(t *testing.T) {
	t.Parallel()
	bin := harness.Bin(t)
	cmd := exec.Command(filepath.Join(bin, "lemming"))
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("lemming without CYRUS_SERVICE exited 0")
	}
	if !strings.Contains(string(out), "could not getenv(CYRUS_SERVICE); exiting") {
		t.Fatalf("output: %s", out)
	}
}

func TestStdioMode(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	conf := filepath.Join(root, "imapd.conf")
	os.WriteFile(conf, []byte(strings.ReplaceAll(harness.BaseImapdConf, "@ROOT@", root)), 0o644)
	cmd := exec.Command(filepath.Join(harness.Bin(t), "lemming"), "-C", conf, "-X")
	cmd.Env = append(os.Environ(), "CYRUS_SERVICE=stdio")
	cmd.Stdin = strings.NewReader("PID\r\nQUIT\r\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "lemming stdio ") || !strings.Contains(string(out), "bye") {
		t.Fatalf("stdio session: %q", out)
	}
}

func TestDropsToCyrusUser(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to test dropping privileges")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	p := harness.FreePort(t)
	// The configuration directory belongs to cyrus_user, as it must in a
	// real installation: master creates its databases there after the drop.
	harness.Start(t, harness.Config{
		Owner:     "nobody",
		ImapdConf: strings.Replace(harness.BaseImapdConf, "cyrus_user: root", "cyrus_user: nobody", 1),
		CyrusConf: servicesConf(fmt.Sprintf(`svc cmd="LEMMING" listen="127.0.0.1:%d"`, p)),
	})
	s := dialLemming(t, "tcp", harness.Addr(p))
	if strconv.Itoa(s.uid) != nobody.Uid {
		t.Fatalf("service runs as uid %d, want %s", s.uid, nobody.Uid)
	}
	s.quit()
}

func TestServiceRefusesRoot(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("only meaningful as root")
	}
	p := harness.FreePort(t)
	srv := harness.Start(t, harness.Config{
		// master may stay root (explicit), but this service reads a
		// config without cyrus_user and must refuse.
		CyrusConf: servicesConf(fmt.Sprintf(`svc cmd="lemming -C @ROOT@/norootconf" listen="127.0.0.1:%d"`, p)),
	})
	srv.WriteFile("norootconf", strings.Replace(harness.BaseImapdConf, "cyrus_user: root\n", "", 1))
	c := harness.Dial(t, "tcp", harness.Addr(p))
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if n, _ := c.Read(make([]byte, 10)); n > 0 {
		t.Fatal("service running as root served a connection")
	}
	srv.WaitLog(wait, "must not run as root", 1)
}

// Master serves the databases to START, EVENTS and services over its
// socket; ctl_cyrusdb -r and -c run through it.
func TestDatabasesServed(t *testing.T) {
	t.Parallel()
	srv := harness.Start(t, harness.Config{CyrusConf: `START {
  recover cmd="ctl_cyrusdb -C @ROOT@/imapd.conf -r"
}
SERVICES {
}
EVENTS {
  checkpoint cmd="ctl_cyrusdb -C @ROOT@/imapd.conf -c" period=30
}
`})
	srv.WaitLog(wait, "done recovering cyrus databases", 1)
	srv.WaitLog(wait, "done checkpointing cyrus databases", 1)
	if _, err := os.Stat(srv.Path("conf/socket/cyrusdb")); err != nil {
		t.Fatalf("database socket: %v", err)
	}
}
