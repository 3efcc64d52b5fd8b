package masterconf

import (
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestListeners(t *testing.T) {
	tests := []struct {
		listen, proto string
		want          []Listener
	}{
		// path
		{"/var/imap/socket/lmtp", "tcp", []Listener{{"unix", "/var/imap/socket/lmtp"}}},
		{"/var/imap/socket/notify", "udp", []Listener{{"unixgram", "/var/imap/socket/notify"}}},
		{"/s", "tcp4", []Listener{{"unix", "/s"}}},
		{"/s", "udp6", []Listener{{"unixgram", "/s"}}},
		{"/" + strings.Repeat("x", maxUnixPath-2), "tcp", []Listener{{"unix", "/" + strings.Repeat("x", maxUnixPath-2)}}},
		// port, all interfaces: one dual-stack listener for tcp.
		{"143", "tcp", []Listener{{"tcp", ":143"}}},
		{"143", "", []Listener{{"tcp", ":143"}}}, // Proto zero value is the default
		{"143", "tcp4", []Listener{{"tcp4", ":143"}}},
		{"143", "tcp6", []Listener{{"tcp6", ":143"}}},
		{"2005", "udp", []Listener{{"udp", ":2005"}}},
		{"2005", "udp4", []Listener{{"udp4", ":2005"}}},
		{"2005", "udp6", []Listener{{"udp6", ":2005"}}},
		{"0", "tcp", []Listener{{"tcp", ":0"}}},
		{"0143", "tcp", []Listener{{"tcp", ":143"}}},
		// service name
		{"imaps", "tcp", []Listener{{"tcp", ":993"}}},
		{"https", "tcp4", []Listener{{"tcp4", ":443"}}},
		// host:port
		{"127.0.0.1:143", "tcp", []Listener{{"tcp4", "127.0.0.1:143"}}},
		{"127.0.0.1:imaps", "tcp", []Listener{{"tcp4", "127.0.0.1:993"}}},
		{"0.0.0.0:143", "tcp", []Listener{{"tcp4", "0.0.0.0:143"}}},
		{"127.0.0.1:143", "tcp4", []Listener{{"tcp4", "127.0.0.1:143"}}},
		{"127.0.0.1:514", "udp", []Listener{{"udp4", "127.0.0.1:514"}}},
		{"[::1]:143", "tcp", []Listener{{"tcp6", "[::1]:143"}}},
		{"[::1]:143", "tcp6", []Listener{{"tcp6", "[::1]:143"}}},
		{"[::]:143", "tcp", []Listener{{"tcp6", "[::]:143"}}},
		{"[2001:db8::1]:imaps", "tcp", []Listener{{"tcp6", "[2001:db8::1]:993"}}},
		{"[fe80::1%eth0]:143", "tcp", []Listener{{"tcp6", "[fe80::1%eth0]:143"}}},
		{"[::1]:514", "udp6", []Listener{{"udp6", "[::1]:514"}}},
		{"[127.0.0.1]:143", "tcp", []Listener{{"tcp4", "127.0.0.1:143"}}},
		// Cyrus splits at the last ':', so an unbracketed IPv6 works.
		{"::1:143", "tcp", []Listener{{"tcp6", "[::1]:143"}}},
		// An empty host is every interface.
		{":143", "tcp", []Listener{{"tcp", ":143"}}},
		{"[]:143", "tcp6", []Listener{{"tcp6", ":143"}}},
	}
	for _, tt := range tests {
		t.Run(tt.listen+"/"+tt.proto, func(t *testing.T) {
			s := Service{Name: "imap", Listen: tt.listen, Proto: tt.proto}
			got, err := s.Listeners()
			if err != nil {
				t.Fatalf("Listeners: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestListenersHostName(t *testing.T) {
	// localhost is in every /etc/hosts as 127.0.0.1; it may also be ::1,
	// and then Cyrus binds both, as this does.
	s := Service{Name: "lmtp", Listen: "localhost:24", Proto: "tcp"}
	got, err := s.Listeners()
	if err != nil {
		t.Fatalf("Listeners: %v", err)
	}
	if !slices.Contains(got, Listener{"tcp4", "127.0.0.1:24"}) {
		t.Errorf("got %v, want 127.0.0.1:24 among them", got)
	}
	for _, l := range got {
		if l != (Listener{"tcp4", "127.0.0.1:24"}) && l != (Listener{"tcp6", "[::1]:24"}) {
			t.Errorf("unexpected listener %v", l)
		}
	}

	s.Proto = "tcp4"
	got, err = s.Listeners()
	if err != nil {
		t.Fatalf("Listeners: %v", err)
	}
	if !slices.Equal(got, []Listener{{"tcp4", "127.0.0.1:24"}}) {
		t.Errorf("tcp4: got %v", got)
	}
}

func TestListenersErrors(t *testing.T) {
	tests := []struct {
		listen, proto, msg string
	}{
		{"143", "sctp", `invalid proto "sctp"`},
		{"/" + strings.Repeat("x", maxUnixPath-1), "tcp", "unix socket path longer than 107 bytes"},
		{"", "tcp", "empty listen"},
		{"[::1", "tcp", "missing ]"},
		{"[::1]", "tcp", "missing :port"},
		{"localhost:", "tcp", "empty port"},
		{"65536", "tcp", "port 65536 out of range"},
		{"nosuchservicename", "tcp", `unknown service "nosuchservicename"`},
		{"[::1]:143", "tcp4", "IPv6 address with proto tcp4"},
		{"127.0.0.1:143", "tcp6", "IPv4 address with proto tcp6"},
		{"127.0.0.1:143", "udp6", "IPv4 address with proto udp6"},
		{"no-such-host.invalid:143", "tcp", `listen "no-such-host.invalid:143"`},
	}
	for _, tt := range tests {
		t.Run(tt.listen+"/"+tt.proto, func(t *testing.T) {
			s := Service{Name: "imap", Listen: tt.listen, Proto: tt.proto}
			got, err := s.Listeners()
			if err == nil {
				t.Fatalf("Listeners = %v, want an error", got)
			}
			if !strings.HasPrefix(err.Error(), "service imap: ") || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
}

// TestListenersOpen opens what Listeners returns, so the addresses are known
// to be in the form net.Listen and net.ListenPacket take.
func TestListenersOpen(t *testing.T) {
	dir := t.TempDir()
	cfg := mustParse(t, `SERVICES {
  lmtpunix cmd="lmtpd" listen="`+filepath.Join(dir, "lmtp")+`"
  notify   cmd="notifyd" listen="`+filepath.Join(dir, "notify")+`" proto="udp"
  imap     cmd="imapd" listen="127.0.0.1:0"
  syslog   cmd="x" listen="127.0.0.1:0" proto=udp4
  any      cmd="imapd" listen="0"
}`)
	for _, s := range cfg.Services {
		ls, err := s.Listeners()
		if err != nil {
			t.Fatalf("%s: Listeners: %v", s.Name, err)
		}
		for _, l := range ls {
			switch l.Network {
			case "unixgram", "udp", "udp4", "udp6":
				c, err := net.ListenPacket(l.Network, l.Address)
				if err != nil {
					t.Errorf("%s: ListenPacket(%q, %q): %v", s.Name, l.Network, l.Address, err)
					continue
				}
				c.Close()
			default:
				ln, err := net.Listen(l.Network, l.Address)
				if err != nil {
					t.Errorf("%s: Listen(%q, %q): %v", s.Name, l.Network, l.Address, err)
					continue
				}
				ln.Close()
			}
		}
	}
}
