package masterconf

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Argv splits a cmd= value into the argument vector master executes, as
// Cyrus does (strarray_split with its default separators): words are
// separated by runs of space, tab, CR or LF, and nothing else is special.
// Quotes and backslashes are kept literally, so cmd="sh -c 'a b'" gives
// ["sh", "-c", "'a", "b'"], exactly as under Cyrus. The first word is the
// program; master looks a relative one up in its service directories. An
// empty or all-blank cmd is an error.
func Argv(cmd string) ([]string, error) {
	argv := strings.FieldsFunc(cmd, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\r' || r == '\n'
	})
	if len(argv) == 0 {
		return nil, errors.New("empty command")
	}
	return argv, nil
}

// Listener is one socket a service listens on, in the terms of net.Listen
// and net.ListenPacket.
type Listener struct {
	// Network is "unix" or "unixgram" for a Unix-domain socket, and
	// otherwise one of "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6".
	Network string
	// Address is the socket path, or host:port (with brackets around an
	// IPv6 host), or ":port" for every interface.
	Address string
}

// maxUnixPath is sizeof(sockaddr_un.sun_path) on Linux. Cyrus refuses a
// path that does not fit with its terminating NUL ("invalid listen '%s' (too
// long)"); cyrus.conf(5): "on most systems UNIX socket paths are limited to
// around 100 characters".
const maxUnixPath = 108

// Listeners resolves the service's listen= and proto= into the sockets
// master opens for it, using the system resolver. See ListenersContext.
func (s Service) Listeners() ([]Listener, error) {
	return s.ListenersContext(context.Background(), net.DefaultResolver)
}

// ListenersContext resolves the service's listen= and proto= into the
// sockets master opens for it, as Cyrus's service_create does, with r
// resolving port and host names (a nil r is the zero net.Resolver). The forms of listen= (cyrus.conf(5)) are:
//
//   - /path: a Unix-domain socket; Network is "unix" (stream) for the tcp
//     protos and "unixgram" for the udp ones;
//   - port: every interface; port is a number or a service name from
//     /etc/services, looked up with r.LookupPort;
//   - host:port, [host]:port: host is an IP address (IPv6 in brackets, or
//     unbracketed since the last ':' separates the port, as in Cyrus) or a
//     host name, which is looked up and gives one listener per address, as
//     Cyrus binds every address getaddrinfo returns.
//
// With no host, proto=tcp listens on IPv4 and IPv6 (cyrus.conf(5): "bind to
// both IPv4 and IPv6 if possible"). Cyrus opens two sockets for that; here it
// is a single dual-stack listener {"tcp", ":port"}, which Go's net.Listen
// opens as one IPv6 socket accepting IPv4 too, falling back to IPv4 alone on
// a host without IPv6. proto=tcp4 and tcp6 give {"tcp4", ":port"} and
// {"tcp6", ":port"}, IPv4 only and IPv6 only. For an explicit address the
// network names its family ("tcp4" for 127.0.0.1, "tcp6" for ::1), so a
// listener is never wider than what was asked for; an address of the wrong
// family for proto (an IPv6 address with tcp4) is an error, as getaddrinfo
// fails for it in Cyrus.
//
// Note for prefork: Cyrus forks prefork processes per socket, so a tcp
// service without a host gets twice as many under Cyrus as here.
//
// Cyrus only logs these failures and disables the one service; the caller
// decides what to do with the error.
func (s Service) ListenersContext(ctx context.Context, r *net.Resolver) ([]Listener, error) {
	proto := s.Proto
	if proto == "" {
		proto = DefaultProto
	}
	if !validProto(proto) {
		return nil, fmt.Errorf("service %s: invalid proto %q", s.Name, proto)
	}
	if strings.HasPrefix(s.Listen, "/") {
		if len(s.Listen) >= maxUnixPath {
			return nil, fmt.Errorf("service %s: listen %q: unix socket path longer than %d bytes",
				s.Name, s.Listen, maxUnixPath-1)
		}
		network := "unix"
		if isUDP(proto) {
			network = "unixgram"
		}
		return []Listener{{Network: network, Address: s.Listen}}, nil
	}
	host, port, err := splitListen(s.Listen)
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", s.Name, err)
	}
	portNum, err := resolvePort(ctx, r, proto, port)
	if err != nil {
		return nil, fmt.Errorf("service %s: listen %q: %w", s.Name, s.Listen, err)
	}
	portStr := strconv.Itoa(portNum)
	if host == "" {
		return []Listener{{Network: proto, Address: ":" + portStr}}, nil
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		network, ok := familyNetwork(proto, addr)
		if !ok {
			return nil, fmt.Errorf("service %s: listen %q: %s address with proto %s",
				s.Name, s.Listen, family(addr), proto)
		}
		return []Listener{{Network: network, Address: net.JoinHostPort(addr.String(), portStr)}}, nil
	}
	addrs, err := r.LookupNetIP(ctx, ipNetwork(proto), host)
	if err != nil {
		return nil, fmt.Errorf("service %s: listen %q: %w", s.Name, s.Listen, err)
	}
	var ls []Listener
	seen := make(map[netip.Addr]bool, len(addrs))
	for _, a := range addrs {
		// The resolver may return IPv4 addresses in IPv4-mapped form.
		a = a.Unmap()
		if seen[a] {
			continue
		}
		seen[a] = true
		network, ok := familyNetwork(proto, a)
		if !ok {
			continue
		}
		ls = append(ls, Listener{Network: network, Address: net.JoinHostPort(a.String(), portStr)})
	}
	if len(ls) == 0 {
		return nil, fmt.Errorf("service %s: listen %q: host %q has no address for proto %s",
			s.Name, s.Listen, host, proto)
	}
	return ls, nil
}

// splitListen splits an inet listen= value into host and port the way
// Cyrus's parse_inet_listen does: "[host]:port" with brackets, otherwise at
// the last ':', otherwise the whole value is the port. It refuses a missing
// port, where Cyrus would bind an ephemeral one that no client can know.
// An empty host (":143") means every interface.
func splitListen(listen string) (host, port string, err error) {
	if listen == "" {
		return "", "", errors.New("empty listen")
	}
	if listen[0] == '[' {
		end := strings.LastIndexByte(listen, ']')
		if end < 0 {
			return "", "", fmt.Errorf("listen %q: missing ]", listen)
		}
		host, rest := listen[1:end], listen[end+1:]
		if rest == "" {
			return "", "", fmt.Errorf("listen %q: missing :port", listen)
		}
		if rest[0] != ':' {
			return "", "", fmt.Errorf("listen %q: unexpected %q after ]", listen, rest)
		}
		port = rest[1:]
		if port == "" {
			return "", "", fmt.Errorf("listen %q: empty port", listen)
		}
		return host, port, nil
	}
	if i := strings.LastIndexByte(listen, ':'); i >= 0 {
		if i == len(listen)-1 {
			return "", "", fmt.Errorf("listen %q: empty port", listen)
		}
		return listen[:i], listen[i+1:], nil
	}
	return "", listen, nil
}

// checkListen does the checks on listen= that need no lookups, so a typo is
// reported with its line when the file is read.
func checkListen(listen string) error {
	if strings.HasPrefix(listen, "/") {
		return nil
	}
	_, port, err := splitListen(listen)
	if err != nil {
		return err
	}
	if isDigits(port) {
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return fmt.Errorf("listen %q: port %s out of range", listen, port)
		}
	}
	return nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// resolvePort turns a port number or service name into a number.
// cyrus.conf(5): "port is either a port number or service name (as listed
// in /etc/services)".
func resolvePort(ctx context.Context, r *net.Resolver, proto, port string) (int, error) {
	if isDigits(port) {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("port %s out of range", port)
		}
		return int(n), nil
	}
	network := "tcp"
	if isUDP(proto) {
		network = "udp"
	}
	n, err := r.LookupPort(ctx, network, port)
	if err != nil {
		return 0, fmt.Errorf("unknown service %q: %w", port, err)
	}
	return n, nil
}

// ipNetwork is the address family to look a host name up in for proto.
func ipNetwork(proto string) string {
	switch {
	case strings.HasSuffix(proto, "4"):
		return "ip4"
	case strings.HasSuffix(proto, "6"):
		return "ip6"
	}
	return "ip"
}

// familyNetwork returns the family-specific network for listening on addr
// with proto, or false if proto excludes addr's family.
func familyNetwork(proto string, addr netip.Addr) (string, bool) {
	base := strings.TrimRight(proto, "46")
	v4 := addr.Is4()
	switch {
	case strings.HasSuffix(proto, "4") && !v4, strings.HasSuffix(proto, "6") && v4:
		return "", false
	case v4:
		return base + "4", true
	}
	return base + "6", true
}

func family(addr netip.Addr) string {
	if addr.Is4() {
		return "IPv4"
	}
	return "IPv6"
}
