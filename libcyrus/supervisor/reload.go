package supervisor

import (
	"fmt"
	"syscall"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/masterconf"
)

// reload re-reads imapd.conf and cyrus.conf on SIGHUP. Services whose
// listen= and proto= are unchanged keep their sockets; others are closed
// and rebound. Every child gets SIGHUP, so idle ones exit at once and busy
// ones after their session, and their successors run the new settings.
// A configuration that does not parse is logged and the running one kept.
func (m *Master) reload(now time.Time) {
	cfg, mc, err := m.loadConfig()
	if err != nil {
		m.log.Error(fmt.Sprintf("reload failed, keeping the running configuration: %v", err))
		return
	}
	m.cfg, m.mc = cfg, mc
	m.readyFile = cfg.String(config.MasterReadyFile)

	old := map[string]*service{}
	for _, s := range m.services {
		old[s.conf.Name] = s
	}
	kept := map[string]*service{}
	for _, sc := range mc.Services {
		o := old[sc.Name]
		if o != nil && !o.disabled && o.conf.Listen == sc.Listen && o.conf.Proto == sc.Proto {
			kept[sc.Name] = o
			delete(old, sc.Name)
		}
	}
	// Close what goes before binding anything new: an added service may
	// take over a removed one's address.
	for _, o := range old {
		m.retire(o)
	}
	var next []*service
	for _, sc := range mc.Services {
		if o := kept[sc.Name]; o != nil {
			next = append(next, m.newServiceKeepSockets(o, sc))
			continue
		}
		n := m.newService(sc)
		m.listen(n)
		next = append(next, n)
	}
	m.services = next

	for _, c := range m.children {
		if c.kind == kindService || c.kind == kindDaemon {
			c.hupped = true
			m.signal(c, syscall.SIGHUP)
		}
	}

	// Daemons: removed ones are stopped, added ones started.
	for _, d := range m.daemons {
		found := false
		for _, dc := range mc.Daemons {
			if dc.Name == d.conf.Name {
				found = true
				d.conf = dc
			}
		}
		if !found && !d.removed {
			d.removed = true
			if d.child != nil {
				d.child.termed = true
				m.signal(d.child, syscall.SIGTERM)
			}
		}
	}
	m.startDaemons(true)
	m.schedule(now)
	m.log.Info(fmt.Sprintf("Services reconfigured. %d services and %d events in use", len(m.services), len(m.events)))
}

// newServiceKeepSockets carries o's sockets and children over to the
// service as sc now describes it.
func (m *Master) newServiceKeepSockets(o *service, sc masterconf.Service) *service {
	probe := m.newServiceNoBind(sc)
	probe.instances = o.instances
	for _, in := range probe.instances {
		in.svc = probe
	}
	if probe.path == "" {
		probe.disabled = true
	}
	return probe
}

// retire closes a service's sockets; its children finish their sessions
// and their status pipes are read until the last one is gone.
func (m *Master) retire(s *service) {
	for _, in := range s.instances {
		in.close()
		if in.active == 0 {
			in.closeStatus()
		} else {
			m.retired = append(m.retired, in)
		}
	}
}
