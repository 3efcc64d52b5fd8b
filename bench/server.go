package main

import (
	"fmt"
	"net"
	"strconv"
)

// server is one server under measurement: its addresses (empty for a
// protocol it does not offer), the account, and, when this program
// started it, the running cyrusgo.
type server struct {
	name             string
	imap, pop3, lmtp string
	user, pass       string
	rcpt             string // LMTP recipient
	self             *selfServer
	ns               namespace
	proc             procFS
}

// mailbox is the full IMAP name of a bench mailbox.
func (s *server) mailbox(name string) string { return s.ns.prefix + name }

// mem sums the memory of the server's processes: master's tree when self
// started, else the holders of the IMAP (or POP3, LMTP) listener and
// their descendants, which works for a server on this machine only.
func (s *server) mem() (memory, error) {
	if s.self != nil {
		return s.proc.sum(s.self.pids(s.proc)), nil
	}
	for _, addr := range []string{s.imap, s.pop3, s.lmtp} {
		if addr == "" {
			continue
		}
		_, p, err := net.SplitHostPort(addr)
		if err != nil {
			return memory{}, fmt.Errorf("address %q: %w", addr, err)
		}
		port, err := strconv.Atoi(p)
		if err != nil {
			return memory{}, fmt.Errorf("address %q: port %w", addr, err)
		}
		pids, err := s.proc.serverPids(port)
		if err != nil {
			return memory{}, err
		}
		return s.proc.sum(pids), nil
	}
	return memory{}, fmt.Errorf("server %s has no address", s.name)
}

// withMem adds the server's memory to a result, when it can be seen.
func (s *server) withMem(r result) result {
	r.Server = s.name
	if m, err := s.mem(); err == nil {
		r.RSSKiB, r.PssKiB, r.Procs = m.RSS, m.Pss, m.Procs
	}
	return r
}

// connect learns the server's namespace over IMAP.
func (s *server) connect() error {
	if s.imap == "" {
		return nil
	}
	ic, err := loginIMAP(s.imap, s.user, s.pass)
	if err != nil {
		return err
	}
	defer ic.logout()
	s.ns = personalNamespace(ic)
	return nil
}
