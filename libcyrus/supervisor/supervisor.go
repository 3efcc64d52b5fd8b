// Package supervisor is the engine of master(8): it reads cyrus.conf, binds
// every listener, runs START to completion, starts DAEMONs, forks SERVICES
// on demand and by prefork, runs EVENTS on schedule, and restarts what
// dies, speaking Cyrus's fd 3/fd 4 protocol (package masterproto).
//
// Everything runs in one goroutine around poll(2), as Cyrus's master does:
// the status pipes, the listeners of services that have no ready child, and
// a wake pipe that other goroutines (signal delivery, child reaping) write
// to after queueing an event. Master never accepts a connection itself.
package supervisor

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/masterconf"
)

// DefaultBacklog is Cyrus's listen queue length (master -l).
const DefaultBacklog = 32

// shutdownWait bounds how long master waits for children at shutdown
// before it kills them.
const shutdownWait = 10 * time.Second

// Options configures a Master.
type Options struct {
	ConfigPath     string // imapd.conf (-C)
	MasterConfPath string // cyrus.conf (-M)
	Backlog        int    // listen queue (-l)
	Logger         *slog.Logger
	// Config is imapd.conf as already loaded by the caller; nil loads it.
	Config *config.Config
	// AfterDrop runs once privileges are dropped, before START: master
	// opens its databases there, so their files belong to cyrus_user.
	AfterDrop func(cfg *config.Config) error
	// ExecDir is where bare cmd= names are looked up first; normally the
	// directory of the master binary.
	ExecDir string
}

// Master is a running supervisor.
type Master struct {
	opts     Options
	log      *slog.Logger
	cfg      *config.Config
	mc       *masterconf.Config
	execDir  string
	services []*service
	retired  []*instance // sockets closed, children still running
	events   []*scheduled
	daemons  []*daemon
	children map[int]*child

	wakeR, wakeW int
	queue        chan any

	shuttingDown bool
	deadline     time.Time
	readyFile    string
	bindUntil    time.Time // while binding at start-up: retry addresses in use till then
}

// startupBindWait is how long master waits at start for its TCP
// addresses to be released, e.g. by processes of a master that was
// killed and that have not yet noticed.
const startupBindWait = 15 * time.Second

// New reads both configuration files and binds every service's sockets.
// Nothing runs yet; call Run.
func New(o Options) (*Master, error) {
	if o.Backlog <= 0 {
		o.Backlog = DefaultBacklog
	}
	m := &Master{
		opts:     o,
		log:      o.Logger,
		execDir:  o.ExecDir,
		children: map[int]*child{},
		queue:    make(chan any, 1024),
		wakeR:    -1,
		wakeW:    -1,
	}
	cfg := o.Config
	var err error
	if cfg == nil {
		if cfg, err = config.Load(o.ConfigPath, "master", m.log); err != nil {
			return nil, err
		}
	}
	mc, err := masterconf.Load(o.MasterConfPath, m.log)
	if err != nil {
		return nil, err
	}
	m.cfg, m.mc = cfg, mc
	m.readyFile = cfg.String(config.MasterReadyFile)
	// Only at start-up: a reload must not stall on an address in use.
	m.bindUntil = time.Now().Add(startupBindWait)
	for _, sc := range mc.Services {
		m.services = append(m.services, m.newService(sc))
	}
	m.bindUntil = time.Time{}
	return m, nil
}

func (m *Master) loadConfig() (*config.Config, *masterconf.Config, error) {
	cfg, err := config.Load(m.opts.ConfigPath, "master", m.log)
	if err != nil {
		return nil, nil, err
	}
	mc, err := masterconf.Load(m.opts.MasterConfPath, m.log)
	if err != nil {
		return nil, nil, err
	}
	return cfg, mc, nil
}

// newService resolves a SERVICES entry and binds its sockets. A service
// that cannot run (no executable, no address) is logged and left disabled;
// it never stops master.
func (m *Master) newService(sc masterconf.Service) *service {
	s := m.newServiceNoBind(sc)
	if s.disabled {
		return s
	}
	socks, err := bindService(sc, m.bindUntil, m.log)
	if err != nil {
		m.log.Error(fmt.Sprintf("%v; disabling %s", err, sc.Name))
		s.disabled = true
		return s
	}
	for i, so := range socks {
		in, err := newInstance(s, i, so)
		if err != nil {
			m.log.Error(err.Error())
			so.close()
			continue
		}
		s.instances = append(s.instances, in)
	}
	if len(s.instances) == 0 {
		s.disabled = true
	}
	return s
}

// newServiceNoBind resolves a SERVICES entry's command.
func (m *Master) newServiceNoBind(sc masterconf.Service) *service {
	s := &service{conf: sc, rate: forkRate{limit: sc.MaxForkRate}}
	argv, err := masterconf.Argv(sc.Cmd)
	if err == nil && len(argv) == 0 {
		err = errors.New("empty cmd")
	}
	if err != nil {
		m.log.Error(fmt.Sprintf("service %s: %v; disabling", sc.Name, err))
		s.disabled = true
		return s
	}
	s.argv = argv
	path, err := m.resolve(argv[0])
	if err != nil {
		m.log.Error(fmt.Sprintf("cannot find executable for service '%s': %v; disabling", sc.Name, err))
		s.disabled = true
		return s
	}
	s.path = path
	return s
}

// Config returns the imapd.conf master runs with.
func (m *Master) Config() *config.Config { return m.cfg }

// Run starts everything and supervises until SIGTERM, SIGINT or SIGQUIT;
// it returns nil after a clean shutdown.
func (m *Master) Run() error {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return fmt.Errorf("wake pipe: %w", err)
	}
	m.wakeR, m.wakeW = p[0], p[1]
	defer unix.Close(m.wakeR)
	defer unix.Close(m.wakeW)

	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	stopSigs := make(chan struct{})
	defer close(stopSigs)
	go func() {
		for {
			select {
			case s := <-sigs:
				m.post(s)
			case <-stopSigs:
				return
			}
		}
	}()

	if err := m.dropPrivileges(); err != nil {
		m.closeAll()
		return err
	}
	if m.opts.AfterDrop != nil {
		if err := m.opts.AfterDrop(m.cfg); err != nil {
			m.closeAll()
			return err
		}
	}
	if err := m.runStart(); err != nil {
		m.closeAll()
		return err
	}
	if err := m.startWaitDaemons(); err != nil {
		m.shutdown(time.Now())
		m.finishShutdown()
		return err
	}
	for _, s := range m.services {
		m.listen(s)
	}
	m.startDaemons(false)
	m.schedule(time.Now())
	if err := m.writeReadyFile(); err != nil {
		m.log.Error(err.Error())
	}
	m.log.Log(nil, slog.LevelInfo, "process started")
	err := m.loop()
	m.finishShutdown()
	return err
}

func (m *Master) listen(s *service) {
	for _, in := range s.instances {
		if in.sock.fd < 0 {
			continue
		}
		if err := in.sock.listen(m.opts.Backlog); err != nil {
			m.log.Error(fmt.Sprintf("unable to listen to %s socket: %v", s.conf.Name, err))
			in.close()
		}
	}
}

// post queues an event for the main loop and wakes it.
func (m *Master) post(ev any) {
	m.queue <- ev
	unix.Write(m.wakeW, []byte{0})
}

func (m *Master) loop() error {
	for {
		now := time.Now()
		m.drain(now)
		if m.shuttingDown {
			if m.allGone() {
				return nil
			}
			if now.After(m.deadline) {
				for _, c := range m.children {
					if c.kind != kindDaemon || !c.daemon.conf.Wait {
						m.log.Warn(fmt.Sprintf("killing %s %s pid %d at shutdown", c.kind, c.name, c.pid))
						m.signal(c, syscall.SIGKILL)
					}
				}
				m.deadline = now.Add(shutdownWait)
			}
		}
		wake := m.runEvents(now)
		watch, w := m.tend(now)
		wake = earliest(wake, w)
		if m.shuttingDown {
			wake = earliest(wake, m.deadline)
		}

		fds := []unix.PollFd{{Fd: int32(m.wakeR), Events: unix.POLLIN}}
		var statusOf []*instance
		for _, in := range m.allInstances() {
			if in.statusR >= 0 {
				fds = append(fds, unix.PollFd{Fd: int32(in.statusR), Events: unix.POLLIN})
				statusOf = append(statusOf, in)
			}
		}
		nStatus := len(fds)
		for _, in := range watch {
			fds = append(fds, unix.PollFd{Fd: int32(in.sock.fd), Events: unix.POLLIN})
		}
		timeout := -1
		if !wake.IsZero() {
			d := time.Until(wake)
			if d < 0 {
				d = 0
			}
			timeout = int(d/time.Millisecond) + 1
		}
		_, err := unix.Poll(fds, timeout)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("poll: %w", err)
		}
		if fds[0].Revents != 0 {
			var b [64]byte
			for {
				if n, _ := unix.Read(m.wakeR, b[:]); n <= 0 {
					break
				}
			}
		}
		for i, in := range statusOf {
			if fds[i+1].Revents != 0 {
				m.readStatus(in)
			}
		}
		now = time.Now()
		for i, in := range watch {
			if fds[nStatus+i].Revents&unix.POLLIN == 0 {
				continue
			}
			// A connection waits and no child is ready: fork one. The
			// child, not master, accepts it.
			if in.ready == 0 && in.active < in.maxChild() && !in.svc.disabled && !m.shuttingDown {
				m.spawnService(in, now)
			}
		}
	}
}

// drain handles queued events: reaped children and signals.
func (m *Master) drain(now time.Time) {
	for {
		select {
		case ev := <-m.queue:
			switch ev := ev.(type) {
			case exitEvent:
				m.reaped(ev, now)
			case os.Signal:
				m.handleSignal(ev, now)
			}
		default:
			return
		}
	}
}

func (m *Master) handleSignal(sig os.Signal, now time.Time) {
	switch sig {
	case syscall.SIGHUP:
		if !m.shuttingDown {
			m.log.Info("got SIGHUP")
			m.reload(now)
		}
	default:
		if !m.shuttingDown {
			m.log.Info("attempting clean shutdown on signal")
			m.shutdown(now)
		}
	}
}

func (m *Master) reaped(ev exitEvent, now time.Time) {
	c := m.children[ev.pid]
	if c == nil {
		return
	}
	delete(m.children, ev.pid)
	failed := m.logExit(c, ev.state)
	switch c.kind {
	case kindService:
		m.serviceExited(c, failed, now)
	case kindDaemon:
		m.daemonExited(c, now)
	}
	c.state = stateDead
}

// shutdown stops listening and asks every child but the wait=y daemons to
// go; those follow in reverse order once the rest are gone.
func (m *Master) shutdown(now time.Time) {
	m.shuttingDown = true
	m.deadline = now.Add(shutdownWait)
	for _, s := range m.services {
		for _, in := range s.instances {
			in.close()
		}
	}
	m.events = nil
	for _, c := range m.children {
		if c.kind == kindDaemon && c.daemon.conf.Wait {
			continue
		}
		c.termed = true
		m.signal(c, syscall.SIGTERM)
	}
}

func (m *Master) allGone() bool {
	for _, c := range m.children {
		if c.kind != kindDaemon || !c.daemon.conf.Wait {
			return false
		}
	}
	return true
}

// finishShutdown stops wait=y daemons in reverse start order, then cleans
// up what master created.
func (m *Master) finishShutdown() {
	m.stopWaitDaemons()
	m.closeAll()
	if m.readyFile != "" {
		os.Remove(m.readyFile)
	}
	m.log.Info("All children have exited, closing down")
}

func (m *Master) closeAll() {
	for _, in := range m.allInstances() {
		in.close()
		in.closeStatus()
	}
}

// allInstances lists the live services' instances and the retired ones
// whose status pipes are still open.
func (m *Master) allInstances() []*instance {
	var out []*instance
	for _, s := range m.services {
		out = append(out, s.instances...)
	}
	keep := m.retired[:0]
	for _, in := range m.retired {
		if in.statusR >= 0 {
			keep = append(keep, in)
			out = append(out, in)
		}
	}
	m.retired = keep
	return out
}

func (m *Master) writeReadyFile() error {
	if m.readyFile == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(m.readyFile), 0o755); err != nil {
		return fmt.Errorf("master_ready_file: %w", err)
	}
	if err := os.WriteFile(m.readyFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("master_ready_file: %w", err)
	}
	return nil
}

// Ports returns the TCP ports each service listens on, keyed by service
// name, so a caller that asked for port 0 can find what it got.
func (m *Master) Ports() map[string][]int {
	out := map[string][]int{}
	for _, s := range m.services {
		for _, in := range s.instances {
			if p := in.sock.port(); p != 0 {
				out[s.conf.Name] = append(out[s.conf.Name], p)
			}
		}
	}
	return out
}
