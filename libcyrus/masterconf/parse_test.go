package masterconf

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// parse parses text as "test.conf" and returns the config and every warning
// logged, one text-handler line each.
func parse(t *testing.T, text string) (*Config, []string, error) {
	t.Helper()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	cfg, err := Parse(strings.NewReader(text), "test.conf", logger)
	var warnings []string
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l != "" {
			warnings = append(warnings, l)
		}
	}
	return cfg, warnings, err
}

func mustParse(t *testing.T, text string) *Config {
	t.Helper()
	cfg, warnings, err := parse(t, text)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(warnings) > 0 {
		t.Fatalf("unexpected warnings:\n%s", strings.Join(warnings, "\n"))
	}
	return cfg
}

func TestReferenceFiles(t *testing.T) {
	tests := []struct {
		file                             string
		start, services, events, daemons int
	}{
		{"debian-cyrus.conf", 3, 7, 5, 0},
		{"cyrus.conf.in", 2, 6, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var buf bytes.Buffer
			cfg, err := Load(filepath.Join("testdata", tt.file), slog.New(slog.NewTextHandler(&buf, nil)))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if buf.Len() > 0 {
				t.Errorf("unexpected warnings:\n%s", buf.String())
			}
			if len(cfg.Start) != tt.start || len(cfg.Services) != tt.services ||
				len(cfg.Events) != tt.events || len(cfg.Daemons) != tt.daemons {
				t.Errorf("got %d START, %d SERVICES, %d EVENTS, %d DAEMON; want %d, %d, %d, %d",
					len(cfg.Start), len(cfg.Services), len(cfg.Events), len(cfg.Daemons),
					tt.start, tt.services, tt.events, tt.daemons)
			}
			for _, s := range cfg.Services {
				if _, err := Argv(s.Cmd); err != nil {
					t.Errorf("service %s: Argv: %v", s.Name, err)
				}
			}
		})
	}
}

func TestDebianConfValues(t *testing.T) {
	cfg, err := Load(filepath.Join("testdata", "debian-cyrus.conf"), nil)
	if err != nil {
		t.Fatal(err)
	}
	wantStart := Start{Name: "recover", Cmd: "/usr/sbin/cyrus ctl_cyrusdb -r", Line: 8}
	if cfg.Start[0] != wantStart {
		t.Errorf("Start[0] = %+v, want %+v", cfg.Start[0], wantStart)
	}
	byName := map[string]Service{}
	for _, s := range cfg.Services {
		byName[s.Name] = s
	}
	wantImap := Service{Name: "imap", Cmd: "imapd -U 30", Listen: "imap", Proto: "tcp",
		Prefork: 0, MaxChild: 100, MaxFDs: 256, MaxForkRate: 0, Line: 31,
		RawPrefork: 0, RawMaxChild: 100}
	if byName["imap"] != wantImap {
		t.Errorf("imap = %+v\nwant %+v", byName["imap"], wantImap)
	}
	// The line starts with two spaces and a tab.
	if s := byName["sieve"]; s.Listen != "localhost:sieve" || s.Line != 49 {
		t.Errorf("sieve = %+v", s)
	}
	wantNotify := Service{Name: "notify", Cmd: "notifyd", Listen: "/run/cyrus/socket/notify", Proto: "udp",
		Prefork: 1, MaxChild: 1, MaxFDs: 256, Line: 52, RawPrefork: 1, RawMaxChild: -1}
	if byName["notify"] != wantNotify {
		t.Errorf("notify = %+v\nwant %+v", byName["notify"], wantNotify)
	}
	wantEvents := []Event{
		{Name: "checkpoint", Cmd: "/usr/sbin/cyrus ctl_cyrusdb -c", Period: 30 * time.Minute, At: -1, Line: 75},
		{Name: "delprune", Cmd: "/usr/sbin/cyrus expire -E 3", Period: 24 * time.Hour, At: 4*60 + 1, Line: 78},
	}
	for i, want := range wantEvents {
		if cfg.Events[i] != want {
			t.Errorf("Events[%d] = %+v, want %+v", i, cfg.Events[i], want)
		}
	}
}

func TestServiceArgs(t *testing.T) {
	base := Service{Name: "imap", Cmd: "imapd", Listen: "143", Proto: "tcp",
		Prefork: 0, MaxChild: -1, MaxFDs: 256, MaxForkRate: 0, Line: 2, RawMaxChild: -1}
	tests := []struct {
		args string
		want func(s *Service)
	}{
		{"", func(s *Service) {}},
		{"prefork=3", func(s *Service) { s.Prefork, s.RawPrefork = 3, 3 }},
		{`prefork="2"`, func(s *Service) { s.Prefork, s.RawPrefork = 2, 2 }},
		{"prefork=0", func(s *Service) {}},
		{"maxchild=100", func(s *Service) { s.MaxChild, s.RawMaxChild = 100, 100 }},
		{"maxchild=0", func(s *Service) { s.MaxChild, s.RawMaxChild = 0, 0 }},
		{"maxchild=-1", func(s *Service) {}},
		{"maxchild=-7", func(s *Service) {}}, // any negative is unlimited in Cyrus
		{"maxfds=1024", func(s *Service) { s.MaxFDs = 1024 }},
		{"maxfds=0", func(s *Service) { s.MaxFDs = 0 }},
		{"maxforkrate=5", func(s *Service) { s.MaxForkRate, s.RawMaxForkRate = 5, 5 }},
		{"proto=tcp", func(s *Service) {}},
		{"proto=tcp4", func(s *Service) { s.Proto = "tcp4" }},
		{`proto="tcp6"`, func(s *Service) { s.Proto = "tcp6" }},
		{"proto=udp", func(s *Service) { s.Proto, s.MaxChild = "udp", 1 }},
		{"proto=udp4", func(s *Service) { s.Proto, s.MaxChild = "udp4", 1 }},
		{"proto=udp6", func(s *Service) { s.Proto, s.MaxChild = "udp6", 1 }},
		{"proto=udp prefork=4 maxchild=10", func(s *Service) {
			s.Proto, s.Prefork, s.RawPrefork, s.MaxChild, s.RawMaxChild = "udp", 1, 4, 1, 10
		}},

		// cyrus.conf(5) babysit: at least one prefork, maxforkrate 10 if 0.
		{"babysit=0", func(s *Service) {}},
		{"babysit=1", func(s *Service) {
			s.Babysit, s.RawBabysit, s.Prefork, s.MaxForkRate = true, true, 1, 10
		}},
		{"babysit=true prefork=5", func(s *Service) {
			s.Babysit, s.RawBabysit, s.Prefork, s.RawPrefork, s.MaxForkRate = true, true, 5, 5, 10
		}},
		{"babysit=yes maxforkrate=3", func(s *Service) {
			s.Babysit, s.RawBabysit, s.Prefork, s.MaxForkRate, s.RawMaxForkRate = true, true, 1, 3, 3
		}},
		{"babysit=2", func(s *Service) { s.Babysit, s.RawBabysit, s.Prefork, s.MaxForkRate = true, true, 1, 10 }},
		{"babysit=on", func(s *Service) { s.Babysit, s.RawBabysit, s.Prefork, s.MaxForkRate = true, true, 1, 10 }},
		{"babysit=y", func(s *Service) { s.Babysit, s.RawBabysit, s.Prefork, s.MaxForkRate = true, true, 1, 10 }},
		{"babysit=TRUE", func(s *Service) { s.Babysit, s.RawBabysit, s.Prefork, s.MaxForkRate = true, true, 1, 10 }},
		{"babysit=no", func(s *Service) {}},
		{"babysit=false", func(s *Service) {}},
		{"babysit=off", func(s *Service) {}},
		{"babysit=n", func(s *Service) {}},
		// udp: Cyrus applies the prefork bump, then caps to one process
		// and does not babysit.
		{"babysit=1 proto=udp", func(s *Service) {
			s.Proto, s.RawBabysit, s.Prefork, s.MaxForkRate, s.MaxChild = "udp", true, 1, 10, 1
		}},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			cfg := mustParse(t, "SERVICES {\n  imap cmd=\"imapd\" listen=\"143\" "+tt.args+"\n}\n")
			if len(cfg.Services) != 1 {
				t.Fatalf("got %d services", len(cfg.Services))
			}
			want := base
			tt.want(&want)
			if cfg.Services[0] != want {
				t.Errorf("got  %+v\nwant %+v", cfg.Services[0], want)
			}
		})
	}
}

func TestStartEntries(t *testing.T) {
	cfg := mustParse(t, `START {
  recover cmd="ctl_cyrusdb -r"
  idled   cmd=idled
}`)
	want := []Start{
		{Name: "recover", Cmd: "ctl_cyrusdb -r", Line: 2},
		{Name: "idled", Cmd: "idled", Line: 3},
	}
	if len(cfg.Start) != len(want) {
		t.Fatalf("got %+v", cfg.Start)
	}
	for i := range want {
		if cfg.Start[i] != want[i] {
			t.Errorf("Start[%d] = %+v, want %+v", i, cfg.Start[i], want[i])
		}
	}
}

func TestEventArgs(t *testing.T) {
	tests := []struct {
		args   string
		period time.Duration
		at     int
	}{
		{"", 0, -1},
		{"period=30", 30 * time.Minute, -1},
		{`period="5"`, 5 * time.Minute, -1},
		{"period=0", 0, -1},
		{"at=0400", 24 * time.Hour, 240},
		{`at="0400"`, 24 * time.Hour, 240},
		{"at=400", 24 * time.Hour, 240}, // Cyrus reads hhmm as an integer
		{"at=0000", 24 * time.Hour, 0},
		{"at=0", 24 * time.Hour, 0},
		{"at=2359", 24 * time.Hour, 23*60 + 59},
		{"at=1230", 24 * time.Hour, 12*60 + 30},
		{"at=0401 period=1440", 24 * time.Hour, 241},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			cfg := mustParse(t, "EVENTS {\n  checkpoint cmd=\"ctl_cyrusdb -c\" "+tt.args+"\n}\n")
			want := Event{Name: "checkpoint", Cmd: "ctl_cyrusdb -c", Period: tt.period, At: tt.at, Line: 2}
			if cfg.Events[0] != want {
				t.Errorf("got %+v, want %+v", cfg.Events[0], want)
			}
		})
	}
}

func TestDaemonArgs(t *testing.T) {
	base := Daemon{Name: "idled", Cmd: "idled", MaxFDs: 256, MaxForkRate: 10, Line: 2}
	tests := []struct {
		args string
		want func(d *Daemon)
	}{
		{"", func(d *Daemon) {}},
		{"wait=n", func(d *Daemon) {}},
		{"wait=no", func(d *Daemon) {}},
		{"wait=0", func(d *Daemon) {}},
		{"wait=false", func(d *Daemon) {}},
		{"wait=off", func(d *Daemon) {}},
		{"wait=y", func(d *Daemon) { d.Wait = true }},
		{"wait=yes", func(d *Daemon) { d.Wait = true }},
		{"wait=1", func(d *Daemon) { d.Wait = true }},
		{"wait=true", func(d *Daemon) { d.Wait = true }},
		{"wait=on", func(d *Daemon) { d.Wait = true }},
		{`wait="y"`, func(d *Daemon) { d.Wait = true }},
		{"maxfds=64", func(d *Daemon) { d.MaxFDs = 64 }},
		{"maxforkrate=2", func(d *Daemon) { d.MaxForkRate = 2 }},
		{"maxforkrate=0", func(d *Daemon) {}},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			cfg := mustParse(t, "DAEMON {\n  idled cmd=\"idled\" "+tt.args+"\n}\n")
			want := base
			tt.want(&want)
			if cfg.Daemons[0] != want {
				t.Errorf("got %+v, want %+v", cfg.Daemons[0], want)
			}
		})
	}
}

// TestSyntax covers the layouts Cyrus accepts and the leniencies on top.
func TestSyntax(t *testing.T) {
	imap := func(line int) Service {
		return Service{Name: "imap", Cmd: "imapd -U 30", Listen: "imap", Proto: "tcp",
			MaxChild: -1, MaxFDs: 256, Line: line, RawMaxChild: -1}
	}
	tests := []struct {
		name string
		text string
		want []Service
	}{
		{"plain", "SERVICES {\n imap cmd=\"imapd -U 30\" listen=\"imap\"\n}\n", []Service{imap(2)}},
		{"any order", "SERVICES {\n imap listen=\"imap\" cmd=\"imapd -U 30\"\n}\n", []Service{imap(2)}},
		{"tabs", "SERVICES\t{\n\timap\t\tcmd=\"imapd -U 30\"\tlisten=imap\n}\n", []Service{imap(2)}},
		{"unquoted", "SERVICES {\n imap cmd=\"imapd -U 30\" listen=imap\n}\n", []Service{imap(2)}},
		{"adjacent quoted values", "SERVICES {\n imap cmd=\"imapd -U 30\"listen=\"imap\"\n}\n", []Service{imap(2)}},
		{"no space before brace", "SERVICES{\n imap cmd=\"imapd -U 30\" listen=imap\n}\n", []Service{imap(2)}},
		{"brace on next line", "SERVICES\n{\n imap cmd=\"imapd -U 30\" listen=imap\n}\n", []Service{imap(3)}},
		{"brace after blank and comment lines", "SERVICES\n\n# x\n  {\n imap cmd=\"imapd -U 30\" listen=imap\n}\n", []Service{imap(5)}},
		{"lower-case section", "services {\n imap cmd=\"imapd -U 30\" listen=imap\n}\n", []Service{imap(2)}},
		{"mixed-case section", "Services {\n imap cmd=\"imapd -U 30\" listen=imap\n}\n", []Service{imap(2)}},
		{"comments", "# top\n  # indented\n\t# tab\nSERVICES { # after brace\n # inside\n imap cmd=\"imapd -U 30\" listen=imap # trailing\n} # after close\n", []Service{imap(6)}},
		{"comment glued to value", "SERVICES {\n imap cmd=\"imapd -U 30\" listen=imap#x\n}\n", []Service{imap(2)}},
		{"blank lines with spaces", "\n  \n\t\nSERVICES {\n   \n imap cmd=\"imapd -U 30\" listen=imap\n\n}\n\n", []Service{imap(6)}},
		{"CRLF", "SERVICES {\r\n imap cmd=\"imapd -U 30\" listen=imap\r\n}\r\n", []Service{imap(2)}},
		{"no final newline", "SERVICES {\n imap cmd=\"imapd -U 30\" listen=imap\n}", []Service{imap(2)}},
		{"byte order mark", "\xef\xbb\xbfSERVICES {\n imap cmd=\"imapd -U 30\" listen=imap\n}\n", []Service{imap(2)}},
		{"one line", "SERVICES { imap cmd=\"imapd -U 30\" listen=imap }\n", []Service{imap(1)}},
		{"close after entry", "SERVICES {\n imap cmd=\"imapd -U 30\" listen=imap}\n", []Service{imap(2)}},
		{"empty section", "SERVICES {\n}\nSERVICES { }\n", nil},
		{"section repeated", "SERVICES {\n imap cmd=\"imapd -U 30\" listen=imap\n}\nSERVICES {\n pop3 cmd=\"imapd -U 30\" listen=imap\n}\n",
			[]Service{imap(2), func() Service { s := imap(5); s.Name = "pop3"; return s }()}},
		{"next section on closing line", "START {\n} SERVICES {\n imap cmd=\"imapd -U 30\" listen=imap\n}\n", []Service{imap(3)}},
		{"quoted # and }", "SERVICES {\n imap cmd=\"imapd -U 30 #}\" listen=imap\n}\n",
			[]Service{func() Service { s := imap(2); s.Cmd = "imapd -U 30 #}"; return s }()}},
		{"digits in name", "SERVICES {\n imap4 cmd=\"imapd -U 30\" listen=imap\n}\n",
			[]Service{func() Service { s := imap(2); s.Name = "imap4"; return s }()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustParse(t, tt.text)
			if len(cfg.Services) != len(tt.want) {
				t.Fatalf("got %d services %+v, want %d", len(cfg.Services), cfg.Services, len(tt.want))
			}
			for i := range tt.want {
				if cfg.Services[i] != tt.want[i] {
					t.Errorf("Services[%d] = %+v\nwant %+v", i, cfg.Services[i], tt.want[i])
				}
			}
		})
	}
}

func TestAllSections(t *testing.T) {
	cfg := mustParse(t, `# example cyrus.conf from cyrus.conf(5)

START {
    recover       cmd="ctl_cyrusdb -r"
}

SERVICES {
    imap          cmd="imapd" listen="imap" prefork=1
    imaps         cmd="imapd -s" listen="imaps" prefork=0
    lmtpunix      cmd="lmtpd" listen="/var/imap/socket/lmtp"
    lmtp          cmd="lmtpd" listen="localhost:lmtp"
}

EVENTS {
    checkpoint    cmd="ctl_cyrusdb -c" period=30
    delprune      cmd="cyr_expire -E 3" at=0400
    tlsprune      cmd="tls_prune" at=0400
}

DAEMON {
    idled         cmd="idled"
}
`)
	if len(cfg.Start) != 1 || len(cfg.Services) != 4 || len(cfg.Events) != 3 || len(cfg.Daemons) != 1 {
		t.Fatalf("got %+v", cfg)
	}
	if got := cfg.Services[3]; got.Name != "lmtp" || got.Listen != "localhost:lmtp" || got.Line != 11 {
		t.Errorf("lmtp = %+v", got)
	}
	if got := cfg.Daemons[0]; got.Name != "idled" || got.Line != 21 {
		t.Errorf("idled = %+v", got)
	}
}

func TestErrors(t *testing.T) {
	svc := func(args string) string { return "SERVICES {\n  imap " + args + "\n}\n" }
	evt := func(args string) string { return "EVENTS {\n  prune " + args + "\n}\n" }
	tests := []struct {
		name string
		text string
		line int
		msg  string
	}{
		// Values.
		{"prefork not integer", svc(`cmd="imapd" listen=imap prefork=abc`), 2, `prefork="abc": not an integer`},
		{"prefork fraction", svc(`cmd="imapd" listen=imap prefork=1.5`), 2, `prefork="1.5": not an integer`},
		{"prefork with unit", svc(`cmd="imapd" listen=imap prefork=30s`), 2, `not an integer`},
		{"prefork plus sign", svc(`cmd="imapd" listen=imap prefork=+1`), 2, `not an integer`},
		{"prefork empty", svc(`cmd="imapd" listen=imap prefork=`), 2, `prefork="": not an integer`},
		{"prefork negative", svc(`cmd="imapd" listen=imap prefork=-1`), 2, `must be at least 0`},
		{"prefork overflow", svc(`cmd="imapd" listen=imap prefork=99999999999`), 2, `out of range`},
		{"maxchild not integer", svc(`cmd="imapd" listen=imap maxchild=lots`), 2, `maxchild="lots"`},
		{"maxfds negative", svc(`cmd="imapd" listen=imap maxfds=-1`), 2, `maxfds="-1": must be at least 0`},
		{"maxforkrate negative", svc(`cmd="imapd" listen=imap maxforkrate=-2`), 2, `maxforkrate="-2"`},
		{"babysit word", svc(`cmd="imapd" listen=imap babysit=maybe`), 2, `babysit="maybe"`},
		{"bad proto", svc(`cmd="imapd" listen=imap proto=sctp`), 2, `proto="sctp"`},
		{"proto is case-sensitive", svc(`cmd="imapd" listen=imap proto=TCP`), 2, `proto="TCP"`},
		{"missing cmd", svc(`listen=imap`), 2, `SERVICES entry "imap": missing cmd`},
		{"empty cmd", svc(`cmd="" listen=imap`), 2, `missing cmd`},
		{"blank cmd", svc(`cmd="   " listen=imap`), 2, `cmd: empty command`},
		{"missing listen", svc(`cmd="imapd"`), 2, `SERVICES entry "imap": missing listen`},
		{"empty listen", svc(`cmd="imapd" listen=""`), 2, `missing listen`},
		{"no arguments", svc(``), 2, `missing cmd`},
		{"listen missing ]", svc(`cmd="imapd" listen="[::1:143"`), 2, `missing ]`},
		{"listen without port", svc(`cmd="imapd" listen="[::1]"`), 2, `missing :port`},
		{"listen junk after ]", svc(`cmd="imapd" listen="[::1]143"`), 2, `after ]`},
		{"listen empty port", svc(`cmd="imapd" listen="localhost:"`), 2, `empty port`},
		{"listen empty bracket port", svc(`cmd="imapd" listen="[::1]:"`), 2, `empty port`},
		{"listen port range", svc(`cmd="imapd" listen="70000"`), 2, `port 70000 out of range`},
		{"wait word", "DAEMON {\n idled cmd=idled wait=later\n}\n", 2, `wait="later"`},
		{"start missing cmd", "START {\n\n recover\n}\n", 3, `START entry "recover": missing cmd`},
		{"daemon missing cmd", "DAEMON {\n idled wait=y\n}\n", 2, `DAEMON entry "idled": missing cmd`},
		{"event missing cmd", evt(`period=10`), 2, `EVENTS entry "prune": missing cmd`},
		{"at out of range", evt(`cmd=x at=2500`), 2, `at="2500": want a time hhmm from 0000 to 2359`},
		{"at minutes out of range", evt(`cmd=x at=1260`), 2, `at="1260"`},
		{"at 2400", evt(`cmd=x at=2400`), 2, `at="2400"`},
		{"at word", evt(`cmd=x at=noon`), 2, `at="noon"`},
		{"at negative", evt(`cmd=x at=-1`), 2, `at="-1"`},
		{"at with colon", evt(`cmd=x at=04:00`), 2, `at="04:00"`},
		{"at empty", evt(`cmd=x at=`), 2, `at=""`},
		{"period negative", evt(`cmd=x period=-5`), 2, `period="-5": must be at least 0`},
		{"period too large", evt(`cmd=x period=2000000000`), 2, `period=2000000000: at most`},

		// Syntax.
		{"unterminated quote", svc(`cmd="imapd listen=imap`), 2, `missing closing " in cmd=`},
		{"quote across lines", "SERVICES {\n imap cmd=\"imapd\n -s\" listen=imap\n}\n", 2, `missing closing "`},
		{"unknown section", "# x\nSERVICE {\n}\n", 2, `unknown section "SERVICE"`},
		{"unknown section glued", "FOO{\n}\n", 1, `unknown section "FOO"`},
		{"section name with punctuation", "SERVICES: {\n}\n", 1, `unknown section "SERVICES:"`},
		{"unterminated section", "START {\n recover cmd=x\n\nSERVICES {\n", 4, `section START opened on line 1 is not closed by } before section SERVICES`},
		{"unterminated section at end", "START {\n recover cmd=x\n\n", 1, `section START is not closed by }`},
		{"unterminated last section", "START {\n}\nEVENTS {\n x cmd=y\n", 3, `section EVENTS is not closed`},
		{"header without brace", "START {\n}\nEVENTS\n", 3, `section EVENTS has no opening {`},
		{"junk before brace", "SERVICES foo {\n}\n", 1, `expected { after section name SERVICES`},
		{"stray close", "START {\n}\n}\n", 3, `} without a section to close`},
		{"text outside section", "START {\n}\n\"x\"\n", 3, `unexpected "\"x\"" outside a section`},
		{"dash in name", "SERVICES {\n  imap-ssl cmd=x listen=1\n}\n", 2, `bad character '-' in name "imap-ssl"`},
		{"underscore in name", "EVENTS {\n squatter_1 cmd=x\n}\n", 2, `bad character '_' in name "squatter_1"`},
		{"name starts with punctuation", "EVENTS {\n -x cmd=x\n}\n", 2, `bad character '-' in name "-x"`},
		{"name starts with quote", "EVENTS {\n \"x\" cmd=x\n}\n", 2, `bad character '"' in name`},
		{"argument without value", svc(`cmd=x listen=1 babysit`), 2, `argument "babysit" has no =value`},
		{"argument without value before close", svc(`cmd=x listen=1 babysit}`), 2, `argument "babysit" has no =value`},
		{"argument bad character", svc(`cmd=x listen=1 max-child=3`), 2, `bad character '-' in argument "max-child=3"`},
		{"argument quoted key", svc(`"cmd"=x`), 2, `bad character '"' in argument`},
		{"argument empty key", svc(`=x`), 2, `bad character '=' in argument`},
		{"too many arguments", svc(`cmd=x listen=1` + strings.Repeat(" x=1", 63)), 2, `too many arguments (at most 64)`},
		{"NUL byte", "START {\n recover cmd=\"x\x00\"\n}\n", 2, `NUL byte`},
		{"line too long", "START {\n recover cmd=\"" + strings.Repeat("x", MaxLineLength) + "\"\n}\n", 2, `line is longer than 4096 bytes`},

		// Names.
		{"duplicate service", "SERVICES {\n imap cmd=x listen=1\n\n imap cmd=y listen=2\n}\n", 4, `SERVICES entry "imap": name already used on line 2`},
		{"duplicate service across sections", "SERVICES {\n imap cmd=x listen=1\n}\nSERVICES {\n imap cmd=y listen=2\n}\n", 5, `name already used on line 2`},
		{"duplicate daemon", "DAEMON {\n idled cmd=x\n idled cmd=y\n}\n", 3, `DAEMON entry "idled": name already used on line 2`},
		{"daemon named like service", "SERVICES {\n imap cmd=x listen=1\n}\nDAEMON {\n imap cmd=y\n}\n", 5, `DAEMON entry "imap": name already used by the SERVICES entry on line 2`},
		{"service named like daemon", "DAEMON {\n imap cmd=y\n}\nSERVICES {\n imap cmd=x listen=1\n}\n", 5, `by the DAEMON entry on line 2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := parse(t, tt.text)
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", cfg)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *ParseError", err, err)
			}
			if pe.File != "test.conf" || pe.Line != tt.line {
				t.Errorf("error at %s:%d, want test.conf:%d (%v)", pe.File, pe.Line, tt.line, err)
			}
			if !strings.HasPrefix(err.Error(), "test.conf:") {
				t.Errorf("error %q does not start with the file name", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
}

func TestFileSize(t *testing.T) {
	// Valid content, only too much of it.
	var b strings.Builder
	b.WriteString("START {\n")
	for b.Len() <= MaxFileSize {
		b.WriteString(" recover cmd=\"ctl_cyrusdb -r\"\n")
	}
	b.WriteString("}\n")
	_, _, err := parse(t, b.String())
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 0 || err.Error() != "test.conf: file is larger than 1048576 bytes" {
		t.Errorf("err = %v", err)
	}

	// Exactly MaxFileSize bytes is accepted.
	text := "START {\n}\n"
	comment := "#" + strings.Repeat("x", 1000) + "\n"
	text += strings.Repeat(comment, (MaxFileSize-len(text))/len(comment))
	text += strings.Repeat("\n", MaxFileSize-len(text))
	if len(text) != MaxFileSize {
		t.Fatalf("test text is %d bytes", len(text))
	}
	if _, _, err := parse(t, text); err != nil {
		t.Errorf("file of exactly MaxFileSize bytes: %v", err)
	}

	// A single huge line is refused by the line limit, comment or not.
	_, _, err = parse(t, "# "+strings.Repeat("x", MaxFileSize-10))
	if err == nil || !strings.Contains(err.Error(), "test.conf:1: line is longer") {
		t.Errorf("err = %v", err)
	}
}

func TestLongestLine(t *testing.T) {
	prefix := " recover cmd=\""
	cmd := strings.Repeat("x", MaxLineLength-len(prefix)-1)
	cfg := mustParse(t, "START {\n"+prefix+cmd+"\"\r\n}\n")
	if cfg.Start[0].Cmd != cmd {
		t.Errorf("cmd has %d bytes, want %d", len(cfg.Start[0].Cmd), len(cmd))
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestReadErrors(t *testing.T) {
	_, err := Parse(failingReader{}, "broken.conf", nil)
	if err == nil || !strings.Contains(err.Error(), "broken.conf: read: disk on fire") {
		t.Errorf("err = %v", err)
	}
	_, err = Load(filepath.Join(t.TempDir(), "missing.conf"), nil)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.conf") {
		t.Errorf("err = %v", err)
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		check func(t *testing.T, cfg *Config)
		want  []string // substrings, one warning each, in order
	}{
		{
			name: "unknown key",
			text: "SERVICES {\n imap cmd=imapd listen=imap tls=yes\n}\n",
			want: []string{`msg="cyrus.conf: ignoring unknown argument" at=test.conf:2 section=SERVICES entry=imap key=tls`},
		},
		{
			name: "key in the wrong section",
			text: "START {\n recover cmd=x period=5\n}\nEVENTS {\n e cmd=x listen=1 wait=y\n}\n",
			want: []string{
				`at=test.conf:2 section=START entry=recover key=period`,
				`at=test.conf:5 section=EVENTS entry=e key=listen`,
				`at=test.conf:5 section=EVENTS entry=e key=wait`,
			},
		},
		{
			name: "keys are case-sensitive",
			text: "DAEMON {\n idled cmd=idled Wait=y\n}\n",
			want: []string{`key=Wait`},
			check: func(t *testing.T, cfg *Config) {
				if cfg.Daemons[0].Wait {
					t.Error("Wait=y was read as wait=y")
				}
			},
		},
		{
			name: "key twice, first wins",
			text: "SERVICES {\n imap cmd=imapd listen=143 listen=993\n}\n",
			want: []string{`msg="cyrus.conf: argument given twice, using the first value" at=test.conf:2 section=SERVICES entry=imap key=listen`},
			check: func(t *testing.T, cfg *Config) {
				if cfg.Services[0].Listen != "143" {
					t.Errorf("Listen = %q, want the first value", cfg.Services[0].Listen)
				}
			},
		},
		{
			name: "duplicate START name",
			text: "START {\n recover cmd=a\n recover cmd=b\n}\n",
			want: []string{`msg="cyrus.conf: START entry name used twice" at=test.conf:3 entry=recover first=test.conf:2`},
			check: func(t *testing.T, cfg *Config) {
				if len(cfg.Start) != 2 {
					t.Errorf("got %d START entries, want both", len(cfg.Start))
				}
			},
		},
		{
			name: "duplicate EVENTS name",
			text: "EVENTS {\n prune cmd=a at=0100\n}\nEVENTS {\n prune cmd=b period=60\n}\n",
			want: []string{`msg="cyrus.conf: EVENTS entry name used twice" at=test.conf:5 entry=prune first=test.conf:2`},
			check: func(t *testing.T, cfg *Config) {
				if len(cfg.Events) != 2 {
					t.Errorf("got %d EVENTS entries, want both", len(cfg.Events))
				}
			},
		},
		{
			name: "period with at",
			text: "EVENTS {\n prune cmd=a at=0100 period=30\n}\n",
			want: []string{`msg="cyrus.conf: at= is set, so period= is ignored" at=test.conf:2 entry=prune`},
			check: func(t *testing.T, cfg *Config) {
				if e := cfg.Events[0]; e.Period != 24*time.Hour || e.At != 60 {
					t.Errorf("event = %+v", e)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, warnings, err := parse(t, tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) != len(tt.want) {
				t.Fatalf("got warnings:\n%s\nwant %d", strings.Join(warnings, "\n"), len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(warnings[i], "level=WARN") || !strings.Contains(warnings[i], w) {
					t.Errorf("warning %q does not contain %q", warnings[i], w)
				}
			}
			if tt.check != nil {
				tt.check(t, cfg)
			}
		})
	}
}

func TestArgv(t *testing.T) {
	tests := []struct {
		cmd  string
		want []string
	}{
		{"imapd", []string{"imapd"}},
		{"imapd -U 30", []string{"imapd", "-U", "30"}},
		{"  imapd\t-s \t -C /etc/imapd.conf  ", []string{"imapd", "-s", "-C", "/etc/imapd.conf"}},
		{"/usr/sbin/cyrus ctl_cyrusdb -r", []string{"/usr/sbin/cyrus", "ctl_cyrusdb", "-r"}},
		// Cyrus honours no quoting inside cmd.
		{"sh -c 'a b'", []string{"sh", "-c", "'a", "b'"}},
		{`a\ b`, []string{`a\`, "b"}},
		// Only space, tab, CR and LF separate, as in strarray_split.
		{"a\vb\fc", []string{"a\vb\fc"}},
		{"a\r\nb", []string{"a", "b"}},
	}
	for _, tt := range tests {
		got, err := Argv(tt.cmd)
		if err != nil {
			t.Errorf("Argv(%q): %v", tt.cmd, err)
			continue
		}
		if strings.Join(got, "\x00") != strings.Join(tt.want, "\x00") || len(got) != len(tt.want) {
			t.Errorf("Argv(%q) = %q, want %q", tt.cmd, got, tt.want)
		}
	}
	for _, cmd := range []string{"", " ", "\t\r\n"} {
		if got, err := Argv(cmd); err == nil {
			t.Errorf("Argv(%q) = %q, want an error", cmd, got)
		}
	}
}
