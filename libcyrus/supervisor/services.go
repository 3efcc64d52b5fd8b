package supervisor

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cyrusgo/cyrusgo/libcyrus/masterconf"
	"github.com/cyrusgo/cyrusgo/libcyrus/masterproto"
)

// Cyrus's rule: a service whose freshly started processes die this many
// times within failWindow is disabled until the next SIGHUP.
const (
	maxReadyFails = 5
	failWindow    = 10 * time.Second
)

// forkRateInterval is how long a fork-limited service waits before master
// looks again, as in Cyrus.
const forkRateInterval = 400 * time.Millisecond

// service is one SERVICES entry.
type service struct {
	conf      masterconf.Service
	argv      []string
	path      string // resolved executable
	instances []*instance
	disabled  bool
	failures  []time.Time
	rate      forkRate
}

// instance is one listening socket of a service with the children that
// serve it: Cyrus forks per address ("imap/ipv4", "imap/ipv6").
type instance struct {
	svc      *service
	id       int
	sock     *socket
	statusR  int      // read end of the status pipe, non-blocking
	statusW  *os.File // write end, fd 3 of every child
	buf      []byte   // partial status message
	ready    int      // children READY to accept
	active   int      // children alive
	conns    int      // connections served
	holdTill time.Time
}

func (in *instance) String() string { return in.svc.conf.Name + "/" + in.sock.family }

func (in *instance) maxChild() int {
	if in.svc.conf.MaxChild < 0 {
		return math.MaxInt
	}
	return in.svc.conf.MaxChild
}

func newInstance(s *service, id int, sock *socket) (*instance, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, fmt.Errorf("couldn't create status pipe for %s: %w", s.conf.Name, err)
	}
	if err := unix.SetNonblock(p[0], true); err != nil {
		unix.Close(p[0])
		unix.Close(p[1])
		return nil, fmt.Errorf("unable to set non-blocking: %w", err)
	}
	return &instance{svc: s, id: id, sock: sock, statusR: p[0], statusW: os.NewFile(uintptr(p[1]), "status")}, nil
}

func (in *instance) close() {
	in.sock.close()
	// The read end stays open until the last child is gone, so late
	// messages do not hit a closed pipe; closeStatus does the rest.
}

func (in *instance) closeStatus() {
	if in.statusR >= 0 {
		unix.Close(in.statusR)
		in.statusR = -1
	}
	if in.statusW != nil {
		in.statusW.Close()
		in.statusW = nil
	}
}

// forkRate is Cyrus's exponentially decaying estimate of forks per second.
type forkRate struct {
	rate   float64
	forks  int
	since  time.Time
	limit  int
	nextOK time.Time
}

// allow reports whether one more fork keeps the service under maxforkrate.
func (f *forkRate) allow(now time.Time) bool {
	if f.limit <= 0 {
		return true
	}
	if f.since.IsZero() {
		f.since = now
	}
	interval := now.Sub(f.since).Seconds()
	if interval > 0 {
		decay := math.Pow(0.5, interval)
		f.rate = decay*f.rate + (1-decay)*float64(f.forks)/interval
		f.forks = 0
		f.since = now
	} else if interval < 0 {
		f.forks = 0
		f.since = now
	}
	if f.rate >= float64(f.limit) {
		f.nextOK = now.Add(forkRateInterval)
		return false
	}
	return true
}

func (f *forkRate) forked() { f.forks++ }

// spawnService starts one more child for in.
func (m *Master) spawnService(in *instance, now time.Time) bool {
	s := in.svc
	if !s.rate.allow(now) {
		return false
	}
	env := []string{
		masterproto.EnvService + "=" + s.conf.Name,
		masterproto.EnvID + "=" + strconv.Itoa(in.id),
	}
	c, err := m.spawn(kindService, s.conf.Name, s.path, s.argv, []*os.File{in.statusW, in.sock.f}, env, s.conf.MaxFDs)
	if err != nil {
		m.log.Error(err.Error())
		// Do not spin on a readable listener with a binary that will not
		// start; count it as a failure like a crash.
		in.holdTill = now.Add(time.Second)
		m.serviceFailed(in, now)
		return false
	}
	s.rate.forked()
	c.inst = in
	c.state = stateReady
	in.ready++
	in.active++
	return true
}

// serviceFailed applies the disable rule.
func (m *Master) serviceFailed(in *instance, now time.Time) {
	s := in.svc
	keep := s.failures[:0]
	for _, t := range s.failures {
		if now.Sub(t) < failWindow {
			keep = append(keep, t)
		}
	}
	s.failures = append(keep, now)
	if len(s.failures) >= maxReadyFails && !s.disabled {
		m.log.Error(fmt.Sprintf("too many failures for service %s, disabling until next SIGHUP", in))
		m.disable(s)
	}
}

func (m *Master) disable(s *service) {
	s.disabled = true
	for _, in := range s.instances {
		in.close()
	}
}

// tend forks what each service needs: its prefork count always, and one
// more on demand (returned as listeners to watch) when none is ready.
func (m *Master) tend(now time.Time) (watch []*instance, wake time.Time) {
	for _, s := range m.services {
		if s.disabled || s.path == "" || m.shuttingDown {
			continue
		}
		for _, in := range s.instances {
			if in.sock.fd < 0 {
				continue
			}
			if now.Before(in.holdTill) {
				wake = earliest(wake, in.holdTill)
				continue
			}
			for in.ready < s.conf.Prefork && in.active < in.maxChild() {
				if !m.spawnService(in, now) {
					break
				}
			}
			if !s.rate.nextOK.IsZero() && now.Before(s.rate.nextOK) {
				wake = earliest(wake, s.rate.nextOK)
				continue
			}
			if in.ready == 0 && in.active < in.maxChild() && !s.disabled {
				watch = append(watch, in)
			}
		}
	}
	return watch, wake
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// readStatus drains in's status pipe and applies each message.
func (m *Master) readStatus(in *instance) {
	var b [512]byte
	for {
		n, err := unix.Read(in.statusR, b[:])
		if n > 0 {
			in.buf = append(in.buf, b[:n]...)
		}
		if err != nil || n <= 0 {
			break
		}
	}
	for len(in.buf) >= masterproto.Size {
		msg, pid, _ := masterproto.Decode(in.buf[:masterproto.Size])
		in.buf = in.buf[masterproto.Size:]
		m.processMessage(in, msg, pid)
	}
	if len(in.buf) == 0 {
		in.buf = nil
	}
}

// processMessage is Cyrus's state machine for status messages, lenient
// towards a confused child as Cyrus is ("err to the side of
// non-denial-of-service").
func (m *Master) processMessage(in *instance, msg masterproto.Message, pid int) {
	c := m.children[pid]
	if c == nil || c.inst != in {
		// A message from a process already reaped, or not ours.
		if msg == masterproto.Connection || msg == masterproto.ConnectionMulti {
			in.conns++
		}
		return
	}
	switch msg {
	case masterproto.Available:
		switch c.state {
		case stateReady:
			m.log.Warn(fmt.Sprintf("service %s pid %d in READY state: sent available message but it is already ready", in, pid))
		case stateBusy:
			c.state = stateReady
			in.ready++
		}
	case masterproto.Unavailable:
		switch c.state {
		case stateBusy:
			m.log.Warn(fmt.Sprintf("service %s pid %d in BUSY state: sent unavailable message but it is already busy", in, pid))
		case stateReady:
			c.state = stateBusy
			in.ready--
		}
	case masterproto.Connection:
		in.conns++
		if c.state == stateReady {
			m.log.Error(fmt.Sprintf("service %s pid %d in READY state: reported new connection, forced to BUSY state", in, pid))
			c.state = stateBusy
			in.ready--
		}
	case masterproto.ConnectionMulti:
		in.conns++
		if c.state == stateBusy {
			m.log.Error(fmt.Sprintf("service %s pid %d in BUSY state: serving one more multi-threaded connection, forced to READY state", in, pid))
			c.state = stateReady
			in.ready++
		}
	default:
		m.log.Error(fmt.Sprintf("service %s pid %d: Software bug: unrecognized message 0x%x", in, pid, int32(msg)))
	}
}

// serviceExited does the accounting for a reaped service child.
func (m *Master) serviceExited(c *child, failed bool, now time.Time) {
	in := c.inst
	in.active--
	if c.state == stateReady {
		in.ready--
		if failed && !m.shuttingDown && !c.hupped {
			m.log.Warn(fmt.Sprintf("service %s pid %d in READY state: terminated abnormally", in, c.pid))
			m.serviceFailed(in, now)
		}
	}
	if in.active == 0 && in.sock.fd < 0 {
		in.closeStatus()
	}
}
