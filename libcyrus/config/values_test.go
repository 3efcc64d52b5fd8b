package config

import (
	"strings"
	"testing"
	"time"
)

func TestBool(t *testing.T) {
	tests := []struct {
		in   string
		want bool
		warn bool // accepted with a warning (Cyrus's first-letter rule)
		err  bool
	}{
		{"1", true, false, false},
		{"yes", true, false, false},
		{"YES", true, false, false},
		{"on", true, false, false},
		{"On", true, false, false},
		{"t", true, false, false},
		{"true", true, false, false},
		{"TRUE", true, false, false},
		{"0", false, false, false},
		{"no", false, false, false},
		{"off", false, false, false},
		{"f", false, false, false},
		{"false", false, false, false},
		{"False", false, false, false},
		{"yep", true, true, false},
		{"nope", false, true, false},
		{"enabled", false, false, true},
		{"2", false, false, true},
		{"Y", false, false, true},
	}
	for _, tt := range tests {
		c, rec, err := tryParse("allowplaintext: " + tt.in)
		if tt.err {
			if err == nil {
				t.Errorf("%q: no error", tt.in)
			} else if !strings.Contains(err.Error(), `imapd.conf:1: option "allowplaintext": invalid boolean`) {
				t.Errorf("%q: error %q", tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if got := c.Bool(AllowPlaintext); got != tt.want {
			t.Errorf("%q: got %v, want %v", tt.in, got, tt.want)
		}
		if got := len(rec.find("non-standard boolean")) > 0; got != tt.warn {
			t.Errorf("%q: warned %v, want %v", tt.in, got, tt.warn)
		}
	}
}

func TestInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  string
	}{
		{"90", 90, ""},
		{"-1", -1, ""},
		{"+7", 7, ""},
		{"0x10", 16, ""},
		{"010", 8, ""}, // strtol base 0, as Cyrus
		{"2147483647", 2147483647, ""},
		{"2147483648", 0, "out of range"},
		{"12abc", 0, "invalid integer"},
		{"1.5", 0, "invalid integer"},
		{"ninety", 0, "invalid integer"},
	}
	for _, tt := range tests {
		c, _, err := tryParse("quotawarn: " + tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if got := c.Int(QuotaWarn); got != tt.want {
			t.Errorf("%q: got %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		key  DurationKey
		in   string
		want time.Duration
		err  bool
	}{
		// Bare numbers take each option's historical unit (imapd.conf(5)).
		{Timeout, "30", 30 * time.Minute, false},
		{POPTimeout, "10", 10 * time.Minute, false},
		{IMAPIdleTimeout, "5", 5 * time.Minute, false},
		{TLSSessionTimeout, "1440", 24 * time.Hour, false},
		{SieveVacationMinResponse, "60", time.Minute, false},
		{IMAPIdlePoll, "60", time.Minute, false},
		{POPExpireTime, "-1", -24 * time.Hour, false},
		{POPMinPoll, "1", time.Minute, false},
		{ArchiveAfter, "7", 7 * 24 * time.Hour, false},
		{HTTPTimeout, "5", 5 * time.Minute, false},
		// Units, combined and summed.
		{Timeout, "30s", 30 * time.Second, false},
		{Timeout, "5m", 5 * time.Minute, false},
		{Timeout, "1h", time.Hour, false},
		{Timeout, "2d", 48 * time.Hour, false},
		{Timeout, "1h30m", 90 * time.Minute, false},
		{Timeout, "1h30", 90 * time.Minute, false}, // trailing number in minutes
		{Timeout, "1d1d", 48 * time.Hour, false},
		{Timeout, "2H", 2 * time.Hour, false},
		{Timeout, "0", 0, false},
		{Timeout, "-5m", -5 * time.Minute, false},
		{Timeout, "5x", 0, true},
		{Timeout, "m5", 0, true},
		{Timeout, "--1", 0, true},
		{Timeout, "1.5h", 0, true},
		{Timeout, "5 m", 0, true},
		{Timeout, "-", 0, true},
		{Timeout, "99999999999s", 0, true},
		{Timeout, "30000d", 0, true}, // over Cyrus's int32 seconds
	}
	for _, tt := range tests {
		c, _, err := tryParse(string(tt.key) + ": " + tt.in)
		if tt.err {
			if err == nil || !strings.Contains(err.Error(), "invalid duration") {
				t.Errorf("%s %q: error %v, want invalid duration", tt.key, tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q: %v", tt.key, tt.in, err)
			continue
		}
		if got := c.Duration(tt.key); got != tt.want {
			t.Errorf("%s %q: got %v, want %v", tt.key, tt.in, got, tt.want)
		}
	}
}

func TestSize(t *testing.T) {
	tests := []struct {
		key  SizeKey
		in   string
		want int64
		err  bool
	}{
		{MaxMessageSize, "1024", 1024, false}, // bytes
		{MaxMessageSize, "10M", 10 << 20, false},
		{MaxMessageSize, "10m", 10 << 20, false},
		{MaxMessageSize, "1K", 1024, false},
		{MaxMessageSize, "1Ki", 1024, false},
		{MaxMessageSize, "1KiB", 1024, false},
		{MaxMessageSize, "1kb", 1024, false},
		{MaxMessageSize, "2G", 2 << 30, false},
		{MaxMessageSize, "5 M", 5 << 20, false},
		{MaxMessageSize, "100B", 100, false},
		{MaxMessageSize, "0", 0, false},
		{SieveMaxScriptSize, "32", 32 << 10, false}, // KiB
		{SieveMaxScriptSize, "32K", 32 << 10, false},
		{SieveMaxScriptSize, "100B", 100, false},
		{QuotaWarnKB, "10", 10 << 10, false},
		{BackupCompactMinSize, "-1", -1024, false},
		{MaxMessageSize, "10X", 0, true},
		{MaxMessageSize, "K", 0, true},
		{MaxMessageSize, "1.5M", 0, true},
		{MaxMessageSize, "1MM", 0, true},
		{MaxMessageSize, "99999999999G", 0, true},
		{MaxMessageSize, "99999999999999999999", 0, true},
	}
	for _, tt := range tests {
		c, _, err := tryParse(string(tt.key) + ": " + tt.in)
		if tt.err {
			if err == nil || !strings.Contains(err.Error(), "invalid size") {
				t.Errorf("%s %q: error %v, want invalid size", tt.key, tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q: %v", tt.key, tt.in, err)
			continue
		}
		if got := c.Size(tt.key); got != tt.want {
			t.Errorf("%s %q: got %d, want %d", tt.key, tt.in, got, tt.want)
		}
	}
}

func TestEnum(t *testing.T) {
	tests := []struct {
		key  EnumKey
		in   string
		want string
		err  bool
	}{
		{VirtDomains, "off", "off", false},
		{VirtDomains, "userid", "userid", false},
		{VirtDomains, "USERID", "userid", false},
		{VirtDomains, "on", "on", false},
		// Cyrus maps the boolean words onto on/off for enums.
		{VirtDomains, "yes", "on", false},
		{VirtDomains, "1", "on", false},
		{VirtDomains, "true", "on", false},
		{VirtDomains, "no", "off", false},
		{VirtDomains, "0", "off", false},
		{VirtDomains, "f", "off", false},
		{VirtDomains, "domain", "", true},
		{ServerInfo, "min", "min", false},
		{CalDAVAllowScheduling, "apple", "apple", false},
		{DeleteMode, "immediate", "immediate", false},
		{DeleteMode, "yes", "", true}, // no on/off among its values
		{ExpungeMode, "semidelayed", "semidelayed", false},
		{SyslogFacility, "local6", "LOCAL6", false},
		{SyslogFacility, "LOCAL8", "", true},
	}
	for _, tt := range tests {
		c, _, err := tryParse(string(tt.key) + ": " + tt.in)
		if tt.err {
			if err == nil || !strings.Contains(err.Error(), "invalid value") {
				t.Errorf("%s %q: error %v, want invalid value", tt.key, tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q: %v", tt.key, tt.in, err)
			continue
		}
		if got := c.Enum(tt.key); got != tt.want {
			t.Errorf("%s %q: got %q, want %q", tt.key, tt.in, got, tt.want)
		}
	}
}

func TestList(t *testing.T) {
	tests := []struct {
		key  ListKey
		in   string
		want string // joined by one space
		warn string
		err  bool
	}{
		{Admins, "cyrus  admin\troot", "cyrus admin root", "", false},
		{Admins, "", "", "", false},
		{SpecialUseProtect, `\Trash \Sent`, `\Trash \Sent`, "", false},
		{SieveExtensions, "fileinto vacation", "fileinto vacation", "", false},
		{SieveExtensions, "fileinto imapflags imap4flags", "fileinto imap4flags", `"imapflags" is deprecated`, false},
		{SieveExtensions, "x-cyrus-snooze", "snooze", "deprecated", false},
		{SieveExtensions, "FILEINTO", "fileinto", "", false},
		{SieveExtensions, "fileinto nosuch", "", "", true},
		{EventGroups, "message quota flags", "message quota flags", "", false},
		{EventGroups, "message bogus", "", "", true},
		{EventExtraParams, "bodystructure", "bodyStructure", "", false},
		{TLSVersions, "tls1_2 tls1_3", "tls1_2 tls1_3", "", false},
		{TLSVersions, "tls1_4", "", "", true},
		{SASLPWCheckMethod, "saslauthd auxprop", "saslauthd auxprop", "", false},
		{SASLPWCheckMethod, "ldapdb", "", "", true},
		{MetapartitionFiles, "header index cache", "header index cache", "", false},
	}
	for _, tt := range tests {
		c, rec, err := tryParse(string(tt.key) + ": " + tt.in)
		if tt.err {
			if err == nil || !strings.Contains(err.Error(), "invalid value") {
				t.Errorf("%s %q: error %v, want invalid value", tt.key, tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q: %v", tt.key, tt.in, err)
			continue
		}
		if got := strings.Join(c.List(tt.key), " "); got != tt.want {
			t.Errorf("%s %q: got %q, want %q", tt.key, tt.in, got, tt.want)
		}
		if tt.warn != "" && len(rec.find(tt.warn)) == 0 {
			t.Errorf("%s %q: no warning %q in\n%s", tt.key, tt.in, tt.warn, rec)
		}
	}
}

func TestListIsACopy(t *testing.T) {
	c, _ := parseText(t, "admins: a b\n", "")
	l := c.List(Admins)
	l[0] = "mallory"
	if got := c.List(Admins)[0]; got != "a" {
		t.Fatalf("List returned shared storage: %q", got)
	}
	d := c.List(SieveExtensions) // a default
	d[0] = "changed"
	if got := c.List(SieveExtensions)[0]; got != "fileinto" {
		t.Fatalf("List returned the shared default: %q", got)
	}
}

func TestEmptyValues(t *testing.T) {
	// Cyrus refuses empty values outright; cyrusgo accepts them where
	// empty means something (text and lists) and refuses them elsewhere.
	c, _ := parseText(t, "servername:\nspecialuse_protect:\n", "")
	if c.String(ServerName) != "" || !c.IsSet("servername") {
		t.Errorf("empty string option: %q, set %v", c.String(ServerName), c.IsSet("servername"))
	}
	if l := c.List(SpecialUseProtect); len(l) != 0 {
		t.Errorf("empty list option: %q", l)
	}
	for _, key := range []string{"allowplaintext", "quotawarn", "timeout", "maxmessagesize", "virtdomains"} {
		if msg := parseErr(t, key+":"); !strings.Contains(msg, "empty value") {
			t.Errorf("%s: %s", key, msg)
		}
	}
}
