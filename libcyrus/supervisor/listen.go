package supervisor

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cyrusgo/cyrusgo/libcyrus/masterconf"
)

// socket is one bound listening socket: Cyrus makes one per address a
// listen= value resolves to, and children of each are counted apart.
type socket struct {
	fd     int
	f      *os.File // owns fd; passed to children as fd 4
	family string   // "ipv4", "ipv6" or "unix", as Cyrus names instances
	addr   string   // for logs
	path   string   // unix socket path, removed on close
}

// bindService creates and binds (but does not listen on) every socket of
// a service. Binding happens early, as root if master started as root, so
// privileged ports work; listen(2) waits until START has run. A TCP
// address in use is tried again until the time until, if set.
func bindService(s masterconf.Service, until time.Time, log *slog.Logger) ([]*socket, error) {
	ls, err := s.Listeners()
	if err != nil {
		return nil, err
	}
	var out []*socket
	var errs []error
	for _, l := range ls {
		socks, err := bindListener(l, until, log)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, socks...)
	}
	if len(out) == 0 {
		if len(errs) == 0 {
			errs = append(errs, errors.New("no address to listen on"))
		}
		return nil, fmt.Errorf("unable to create %s listener socket: %w", s.Name, errors.Join(errs...))
	}
	return out, nil
}

func bindListener(l masterconf.Listener, until time.Time, log *slog.Logger) ([]*socket, error) {
	switch l.Network {
	case "unix":
		s, err := bindUnix(l.Address)
		if err != nil {
			return nil, err
		}
		return []*socket{s}, nil
	case "tcp", "tcp4", "tcp6":
		return bindTCP(l.Network, l.Address, until, log)
	}
	return nil, fmt.Errorf("proto %q is not supported for %s", l.Network, l.Address)
}

func bindUnix(path string) (*socket, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("socket directory for %s: %w", path, err)
	}
	// A stale socket from an earlier run would make bind fail; Cyrus
	// unlinks it too.
	os.Remove(path)
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket for %s: %w", path, err)
	}
	old := unix.Umask(0)
	err = unix.Bind(fd, &unix.SockaddrUnix{Name: path})
	unix.Umask(old)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind %s: %w", path, err)
	}
	// Anyone on the host may connect, as with Cyrus; access control is the
	// directory's permissions and the protocol's own.
	os.Chmod(path, 0o777)
	return newSocket(fd, "unix", path, path), nil
}

// tcpAddrs turns a resolved listener (masterconf.Service.Listeners) into
// the socket addresses to bind. With no host, proto tcp gets one IPv4 and
// one IPv6 socket, as Cyrus's getaddrinfo(AI_PASSIVE) loop makes.
func tcpAddrs(network, address string) ([]netip.AddrPort, error) {
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("listen %q: %w", address, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("listen %q: bad port: %w", address, err)
	}
	var ips []netip.Addr
	switch {
	case host != "":
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return nil, fmt.Errorf("listen %q: %w", address, err)
		}
		ips = []netip.Addr{ip.Unmap()}
	case network == "tcp4":
		ips = []netip.Addr{netip.IPv4Unspecified()}
	case network == "tcp6":
		ips = []netip.Addr{netip.IPv6Unspecified()}
	default:
		ips = []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()}
	}
	out := make([]netip.AddrPort, 0, len(ips))
	for _, ip := range ips {
		out = append(out, netip.AddrPortFrom(ip, uint16(port)))
	}
	return out, nil
}

func bindTCP(network, address string, until time.Time, log *slog.Logger) ([]*socket, error) {
	aps, err := tcpAddrs(network, address)
	if err != nil {
		return nil, err
	}
	var out []*socket
	var errs []error
	for _, ap := range aps {
		s, err := bindInetWait(ap, until, log)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// bindRetryInterval is how often a busy address is tried again.
const bindRetryInterval = 100 * time.Millisecond

// bindInetWait is bindInet, trying again while the address is in use and
// until has not passed. After a master is killed, the processes it
// started may hold its listening sockets a moment longer (until they
// notice, and close them); a new master waits for them instead of
// disabling the service.
func bindInetWait(ap netip.AddrPort, until time.Time, log *slog.Logger) (*socket, error) {
	warned := false
	for {
		s, err := bindInet(ap)
		if err == nil || !errors.Is(err, unix.EADDRINUSE) || time.Now().After(until) {
			return s, err
		}
		if !warned {
			log.Warn(fmt.Sprintf("%s is in use (by processes of a previous master?); waiting for it until %s", ap, until.Format(time.TimeOnly)))
			warned = true
		}
		time.Sleep(bindRetryInterval)
	}
}

func bindInet(ap netip.AddrPort) (*socket, error) {
	family, name := unix.AF_INET6, "ipv6"
	var sa unix.Sockaddr
	if ap.Addr().Is4() {
		family, name = unix.AF_INET, "ipv4"
		sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	} else {
		sa = &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket for %s: %w", ap, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("setsockopt(SO_REUSEADDR) on %s: %w", ap, err)
	}
	if family == unix.AF_INET6 {
		// One socket per family, as Cyrus: the v6 socket must not also
		// claim the v4 port.
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("setsockopt(IPV6_V6ONLY) on %s: %w", ap, err)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind %s: %w", ap, err)
	}
	return newSocket(fd, name, ap.String(), ""), nil
}

func newSocket(fd int, family, addr, path string) *socket {
	return &socket{fd: fd, f: os.NewFile(uintptr(fd), addr), family: family, addr: addr, path: path}
}

func (s *socket) listen(backlog int) error {
	if err := unix.Listen(s.fd, backlog); err != nil {
		return fmt.Errorf("listen on %s: %w", s.addr, err)
	}
	return nil
}

// port returns the bound TCP port, so tests can ask for port 0.
func (s *socket) port() int {
	sa, err := unix.Getsockname(s.fd)
	if err != nil {
		return 0
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return a.Port
	case *unix.SockaddrInet6:
		return a.Port
	}
	return 0
}

func (s *socket) close() {
	if s.fd >= 0 {
		unix.Shutdown(s.fd, unix.SHUT_RDWR)
		s.f.Close()
		s.fd = -1
	}
}

func (s *socket) String() string { return s.family + " " + s.addr + " fd " + strconv.Itoa(s.fd) }
