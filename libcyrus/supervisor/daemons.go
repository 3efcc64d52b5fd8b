package supervisor

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/masterconf"
	"github.com/cyrusgo/cyrusgo/libcyrus/masterproto"
)

// daemonRestartDelay keeps a daemon that dies at once from being restarted
// in a tight loop.
const daemonRestartDelay = time.Second

// daemon is one DAEMON entry.
type daemon struct {
	conf      masterconf.Daemon
	argv      []string
	path      string
	child     *child
	removed   bool
	restartAt time.Time
}

func (m *Master) newDaemon(dc masterconf.Daemon) *daemon {
	d := &daemon{conf: dc}
	argv, err := masterconf.Argv(dc.Cmd)
	if err == nil && len(argv) == 0 {
		err = errors.New("empty cmd")
	}
	if err != nil {
		m.log.Error(fmt.Sprintf("daemon %s: %v", dc.Name, err))
		d.removed = true
		return d
	}
	d.argv = argv
	d.path, err = m.resolve(argv[0])
	if err != nil {
		m.log.Error(fmt.Sprintf("cannot find executable for daemon '%s': %v", dc.Name, err))
		d.removed = true
	}
	return d
}

// startWaitDaemons starts the wait=y daemons one by one, each after the
// previous wrote "ok\r\n" on fd 3 (cyrus.conf(5)); anything else is fatal.
func (m *Master) startWaitDaemons() error {
	for _, dc := range m.mc.Daemons {
		if !dc.Wait {
			continue
		}
		d := m.newDaemon(dc)
		m.daemons = append(m.daemons, d)
		if d.removed {
			return fmt.Errorf("daemon %s cannot start", dc.Name)
		}
		r, w, err := os.Pipe()
		if err != nil {
			return fmt.Errorf("daemon %s: %w", dc.Name, err)
		}
		c, err := m.spawn(kindDaemon, dc.Name, d.path, d.argv, []*os.File{w}, nil, 0)
		w.Close()
		if err != nil {
			r.Close()
			return err
		}
		c.daemon = d
		d.child = c
		buf := make([]byte, len(masterproto.DaemonReady))
		_, err = io.ReadFull(r, buf)
		r.Close()
		if err != nil || string(buf) != masterproto.DaemonReady {
			return fmt.Errorf("daemon %s did not report readiness (read %q: %v)", dc.Name, buf, err)
		}
		m.log.Debug(fmt.Sprintf("daemon %s is ready", dc.Name))
	}
	return nil
}

// startDaemons starts the wait=n daemons (all of them when all is true,
// used after a reload added some).
func (m *Master) startDaemons(all bool) {
	for _, dc := range m.mc.Daemons {
		if dc.Wait && !all {
			continue
		}
		if m.findDaemon(dc.Name) != nil {
			continue
		}
		d := m.newDaemon(dc)
		m.daemons = append(m.daemons, d)
		m.startDaemon(d, time.Now())
	}
}

func (m *Master) findDaemon(name string) *daemon {
	for _, d := range m.daemons {
		if d.conf.Name == name && !d.removed {
			return d
		}
	}
	return nil
}

// startDaemon starts (or restarts) d without fd 3: a restarted wait=y
// daemon is not waited for, as cyrus.conf(5) says.
func (m *Master) startDaemon(d *daemon, now time.Time) {
	if d.removed || d.child != nil || m.shuttingDown {
		return
	}
	c, err := m.spawn(kindDaemon, d.conf.Name, d.path, d.argv, nil, nil, 0)
	if err != nil {
		m.log.Error(err.Error())
		d.restartAt = now.Add(daemonRestartDelay)
		return
	}
	c.daemon = d
	d.child = c
	d.restartAt = time.Time{}
}

func (m *Master) daemonExited(c *child, now time.Time) {
	d := c.daemon
	d.child = nil
	if m.shuttingDown || d.removed {
		return
	}
	if now.Sub(c.started) < daemonRestartDelay {
		d.restartAt = now.Add(daemonRestartDelay)
		return
	}
	m.startDaemon(d, now)
}

// tendDaemons restarts daemons whose delay has passed.
func (m *Master) tendDaemons(now time.Time) (wake time.Time) {
	for _, d := range m.daemons {
		if d.child != nil || d.removed || d.restartAt.IsZero() {
			continue
		}
		if !now.Before(d.restartAt) {
			m.startDaemon(d, now)
			continue
		}
		wake = earliest(wake, d.restartAt)
	}
	return wake
}

// stopWaitDaemons terminates the wait=y daemons in reverse start order,
// each waited for, after everything else has gone.
func (m *Master) stopWaitDaemons() {
	for i := len(m.daemons) - 1; i >= 0; i-- {
		d := m.daemons[i]
		if d.child == nil {
			continue
		}
		c := d.child
		c.termed = true
		m.signal(c, syscall.SIGTERM)
		m.waitChild(c, shutdownWait)
	}
}

// waitChild blocks until c is reaped, killing it after limit. Other queued
// events are handled as they come.
func (m *Master) waitChild(c *child, limit time.Duration) {
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		if _, alive := m.children[c.pid]; !alive {
			return
		}
		select {
		case ev := <-m.queue:
			if e, ok := ev.(exitEvent); ok {
				m.reaped(e, time.Now())
			}
		case <-timer.C:
			m.signal(c, syscall.SIGKILL)
			timer.Reset(limit)
		}
	}
}
