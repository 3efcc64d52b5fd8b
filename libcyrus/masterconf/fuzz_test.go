package masterconf

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary files to Parse. Beyond not panicking, it checks
// that errors are *ParseError values for the right file with a plausible
// line, and that everything a successful parse returns honours the rules
// the rest of master relies on.
func FuzzParse(f *testing.F) {
	f.Add([]byte("SERVICES {\n imap cmd=\"imapd\" listen=\"imap\"\n}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(bytes.NewReader(data), "fuzz.conf", slog.New(slog.DiscardHandler))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is a %T, not a *ParseError", err, err)
			}
			if pe.File != "fuzz.conf" || pe.Line < 0 || pe.Line > bytes.Count(data, []byte("\n"))+1 {
				t.Fatalf("error %v has a bad place", err)
			}
			if !strings.HasPrefix(err.Error(), "fuzz.conf:") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if len(data) > MaxFileSize {
			t.Fatalf("accepted %d bytes", len(data))
		}
		names := map[string]bool{}
		for _, s := range cfg.Start {
			checkCmd(t, s.Name, s.Cmd)
		}
		for _, s := range cfg.Services {
			checkCmd(t, s.Name, s.Cmd)
			if names[s.Name] {
				t.Fatalf("service name %q twice", s.Name)
			}
			names[s.Name] = true
			if s.Listen == "" || !validProto(s.Proto) || checkListen(s.Listen) != nil {
				t.Fatalf("bad service %+v", s)
			}
			if s.Prefork < 0 || s.MaxChild < -1 || s.MaxFDs < 0 || s.MaxForkRate < 0 {
				t.Fatalf("negative value in %+v", s)
			}
			if s.Babysit && (s.Prefork < 1 || s.MaxForkRate < 1) {
				t.Fatalf("babysit rule not applied: %+v", s)
			}
			if isUDP(s.Proto) && (s.Prefork > 1 || s.MaxChild != 1 || s.Babysit) {
				t.Fatalf("udp rule not applied: %+v", s)
			}
			// Resolve only what needs no network: paths, and numeric
			// ports on no host or an IP address.
			if host, port, err := splitListen(s.Listen); strings.HasPrefix(s.Listen, "/") ||
				err == nil && isDigits(port) && (host == "" || isAddr(host)) {
				ls, err := s.ListenersContext(context.Background(), nil)
				if err == nil && len(ls) != 1 {
					t.Fatalf("%+v: %d listeners", s, len(ls))
				}
			}
		}
		for _, d := range cfg.Daemons {
			checkCmd(t, d.Name, d.Cmd)
			if names[d.Name] {
				t.Fatalf("daemon name %q is also a service or daemon", d.Name)
			}
			names[d.Name] = true
			if d.MaxForkRate < 1 || d.MaxFDs < 0 {
				t.Fatalf("bad daemon %+v", d)
			}
		}
		start := time.Date(2024, 3, 10, 1, 59, 0, 0, time.UTC)
		for _, e := range cfg.Events {
			checkCmd(t, e.Name, e.Cmd)
			if e.At < -1 || e.At >= 24*60 || e.Period < 0 {
				t.Fatalf("bad event %+v", e)
			}
			if e.At >= 0 && e.Period != 24*time.Hour {
				t.Fatalf("at= event with period %v", e.Period)
			}
			if first := e.FirstRun(start); first.Before(start) {
				t.Fatalf("%+v: first run %v before start", e, first)
			}
			if next := e.NextRun(start); !next.IsZero() && !next.After(start) {
				t.Fatalf("%+v: next run %v not after %v", e, next, start)
			}
		}
	})
}

func isAddr(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}

func checkCmd(t *testing.T, name, cmd string) {
	t.Helper()
	if name == "" {
		t.Fatal("empty entry name")
	}
	for i := 0; i < len(name); i++ {
		if !isAlnum(name[i]) {
			t.Fatalf("entry name %q has punctuation", name)
		}
	}
	if argv, err := Argv(cmd); err != nil || len(argv) == 0 {
		t.Fatalf("entry %s: cmd %q gives no argv", name, cmd)
	}
}
