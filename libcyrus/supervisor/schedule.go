package supervisor

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/masterconf"
)

// eventMaxFDs is the descriptor limit of START and EVENTS commands, as
// Cyrus sets it.
const eventMaxFDs = 256

// scheduled is one EVENTS entry and its next run.
type scheduled struct {
	conf masterconf.Event
	argv []string
	path string
	next time.Time
}

// schedule (re)builds the event list from cyrus.conf. As in Cyrus, an
// event with period= first runs at once, one with at= at the next HH:MM,
// and one with neither runs once now.
func (m *Master) schedule(now time.Time) {
	m.events = nil
	for _, ec := range m.mc.Events {
		argv, err := masterconf.Argv(ec.Cmd)
		if err == nil && len(argv) == 0 {
			err = errors.New("empty cmd")
		}
		if err != nil {
			m.log.Error(fmt.Sprintf("event %s: %v", ec.Name, err))
			continue
		}
		path, err := m.resolve(argv[0])
		if err != nil {
			m.log.Error(fmt.Sprintf("cannot find executable for event '%s': %v", ec.Name, err))
			continue
		}
		e := &scheduled{conf: ec, argv: argv, path: path, next: ec.FirstRun(now)}
		m.events = append(m.events, e)
	}
}

// runEvents starts every event that is due and returns when the next one
// (or a daemon restart) is.
func (m *Master) runEvents(now time.Time) (wake time.Time) {
	keep := m.events[:0]
	for _, e := range m.events {
		if !e.next.After(now) {
			if _, err := m.spawn(kindEvent, e.conf.Name, e.path, e.argv, nil, nil, eventMaxFDs); err != nil {
				m.log.Error(fmt.Sprintf("can't run event %s: %v", e.conf.Name, err))
			}
			e.next = e.conf.NextRun(now)
			if e.next.IsZero() {
				continue // a one-shot event
			}
		}
		keep = append(keep, e)
		wake = earliest(wake, e.next)
	}
	m.events = keep
	return earliest(wake, m.tendDaemons(now))
}

// runStart runs the START entries in order, each to completion, before
// anything listens. A command that is missing is logged and skipped; one
// that runs and fails stops master, as in Cyrus, since START is where
// databases are recovered.
func (m *Master) runStart() error {
	for _, sc := range m.mc.Start {
		argv, err := masterconf.Argv(sc.Cmd)
		if err == nil && len(argv) == 0 {
			err = errors.New("empty cmd")
		}
		if err != nil {
			return fmt.Errorf("START %s: %w", sc.Name, err)
		}
		path, err := m.resolve(argv[0])
		if err != nil {
			m.log.Error(fmt.Sprintf("cannot find executable for START entry '%s': %v; skipped", sc.Name, err))
			continue
		}
		c, err := m.spawn(kindStart, sc.Name, path, argv, nil, nil, eventMaxFDs)
		if err != nil {
			return fmt.Errorf("can't run startup %s: %w", sc.Name, err)
		}
		ps := m.waitStart(c)
		if ps == nil {
			return fmt.Errorf("startup %s interrupted", sc.Name)
		}
		if !ps.Success() {
			return fmt.Errorf("can't run startup %s: %s", sc.Name, ps)
		}
	}
	return nil
}

// waitStart waits for a START child. A termination signal meanwhile kills
// it and returns nil; SIGHUP is ignored, nothing is running yet.
func (m *Master) waitStart(c *child) *os.ProcessState {
	for ev := range m.queue {
		switch ev := ev.(type) {
		case exitEvent:
			cc := m.children[ev.pid]
			if cc == nil {
				continue
			}
			delete(m.children, ev.pid)
			m.logExit(cc, ev.state)
			if ev.pid == c.pid {
				return ev.state
			}
		case os.Signal:
			if ev != syscall.SIGHUP {
				m.log.Info("attempting clean shutdown on signal")
				c.termed = true
				m.signal(c, syscall.SIGTERM)
				m.waitChild(c, shutdownWait)
				return nil
			}
		}
	}
	return nil
}
