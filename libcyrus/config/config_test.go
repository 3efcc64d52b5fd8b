package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSyntax(t *testing.T) {
	text := "# a comment\n" +
		"   # an indented comment\n" +
		"\n" +
		"  \t\n" +
		"ConfigDirectory:   /var/lib/cyrus   \n" + // keys are case-insensitive
		"servername : mail.example.com\n" +
		"smtp_host: localhost:587\n" + // the value may hold ':'
		"admins: cyrus # not a comment\n" +
		"sievedir: /var/spool/\\\n" + // continuation
		"sieve\n" +
		"defaultdomain: example.com\r\n" + // CRLF
		"# comment \\\n" + // a continued comment swallows the next line, as in Cyrus
		"quotawarn: 50\n" +
		"postmaster: last line without newline"
	c, rec := parseText(t, text, "")
	checks := []struct{ got, want string }{
		{c.String(ConfigDirectory), "/var/lib/cyrus"},
		{c.String(ServerName), "mail.example.com"},
		{c.String(SMTPHost), "localhost:587"},
		{strings.Join(c.List(Admins), ","), "cyrus,#,not,a,comment"},
		{c.String(SieveDir), "/var/spool/sieve"},
		{c.String(DefaultDomain), "example.com"},
		{c.String(Postmaster), "last line without newline"},
	}
	for i, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("check %d: got %q, want %q", i, ck.got, ck.want)
		}
	}
	if c.IsSet("quotawarn") {
		t.Errorf("quotawarn after a continued comment was read")
	}
	if s := rec.String(); strings.Contains(s, "WARN") {
		t.Errorf("unexpected warnings:\n%s", s)
	}
}

func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		text string
		want string
	}{
		{"configdirectory: /x\nno colon here\n", `imapd.conf:2: missing ':'`},
		{"\n\n\nfoo bar: x\n", `imapd.conf:4: invalid option name "foo bar"`},
		{"foo.bar: x\n", `imapd.conf:1: invalid option name`},
		{": value\n", `imapd.conf:1: missing option name`},
		{"@foo: x\n", `imapd.conf:1: unknown directive "@foo"`},
		{"a: b\x00c\n", `imapd.conf:1: NUL byte`},
		{"timeout: soon\n", `imapd.conf:1: option "timeout": invalid duration "soon"`},
		{"# x\nvirtdomains: maybe\n", `imapd.conf:2: option "virtdomains": invalid value "maybe" (allowed: off, userid, on)`},
		{"maxmessagesize: big\n", `imapd.conf:1: option "maxmessagesize": invalid size`},
		{"imaps_timeout: soon\n", `imapd.conf:1: option "imaps_timeout": invalid duration`},
		{"tls_cert_file:\nallowplaintext: maybe\n", `imapd.conf:2: option "allowplaintext"`},
		{"configdirectory: relative/path\n", `configdirectory must be an absolute path`},
		{"configdirectory: /\n", `configdirectory must not be /`},
		{"defaultpartition: part-1\n", `non-alphanumeric`},
		{"a: " + strings.Repeat("x", MaxLineSize) + "\n", `imapd.conf:1: line longer than`},
		{"b: c\na: " + strings.Repeat("x", MaxLineSize/2) + "\\\n" + strings.Repeat("y", MaxLineSize/2) + "\n", `imapd.conf:2: line longer than`},
		{"@include: other.conf\n", `imapd.conf:1: option "@include"`},
		{strings.Repeat("a_", 200) + ": x\n", `imapd.conf:1: option name longer than 256 bytes`},
	}
	for _, tt := range tests {
		msg := parseErr(t, tt.text)
		if !strings.Contains(msg, tt.want) {
			t.Errorf("%.40q: error %q, want %q", tt.text, msg, tt.want)
		}
	}
}

func TestParseErrorType(t *testing.T) {
	_, _, err := tryParse("quotawarn: 1\ntimeout: 5y\n")
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %T is not a *ParseError", err)
	}
	if pe.File != "imapd.conf" || pe.Line != 2 || pe.Option != "timeout" || pe.Err == nil {
		t.Fatalf("ParseError %+v", pe)
	}
	if !strings.HasPrefix(err.Error(), "imapd.conf:2: ") {
		t.Fatalf("message %q does not start with file:line", err)
	}
}

func TestFileTooLarge(t *testing.T) {
	line := "# " + strings.Repeat("x", 1000) + "\n"
	text := strings.Repeat(line, MaxTotalSize/len(line)+2)
	msg := parseErr(t, text)
	if !strings.Contains(msg, "configuration larger than") {
		t.Fatalf("error %q", msg)
	}
}

func TestDefaults(t *testing.T) {
	c, err := FromMap(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Bool(AltNamespace) != true || c.Bool(UnixHierarchySep) != true {
		t.Error("3.6 defaults altnamespace and unixhierarchysep to yes")
	}
	if c.Bool(AllowPlaintext) {
		t.Error("allowplaintext defaults to no")
	}
	if c.Int(ClientLimit) != 1 {
		t.Error("client_limit defaults to 1")
	}
	if c.String(CyrusUser) != "cyrus" {
		t.Error("cyrus_user defaults to cyrus")
	}
	if c.String(SASLSaslauthdPath) != "/var/run/saslauthd/mux" {
		t.Error("sasl_saslauthd_path default")
	}
	if c.Duration(Timeout) != 32*time.Minute || c.Duration(POPExpireTime) != -24*time.Hour {
		t.Error("duration defaults")
	}
	if c.Duration(IMAPIdleTimeout) != 0 {
		t.Error("imapidletimeout is unset by default")
	}
	if c.Size(MaxWord) != 131072 || c.Size(SieveMaxScriptSize) != 32<<10 {
		t.Error("size defaults")
	}
	if c.Enum(VirtDomains) != "off" || c.Enum(DeleteMode) != "delayed" {
		t.Error("enum defaults")
	}
	if got := strings.Join(c.List(SpecialUseProtect), " "); got != `\Archive \Drafts \Important \Junk \Sent \Trash` {
		t.Errorf("specialuse_protect default %q", got)
	}
	if got := c.List(SASLPWCheckMethod); len(got) != 1 || got[0] != "auxprop" {
		t.Errorf("sasl_pwcheck_method default %q", got)
	}
	if c.IsSet("altnamespace") {
		t.Error("a default counts as set")
	}
}

func TestConfigDirectoryTemplate(t *testing.T) {
	c, _ := parseText(t, "configdirectory: /var/lib/cyrus\nnotifysocket: {configdirectory}/n\n", "")
	if got := c.String(LMTPSocket); got != "/var/lib/cyrus/socket/lmtp" {
		t.Errorf("lmtpsocket %q", got)
	}
	if got := c.String(NotifySocket); got != "/var/lib/cyrus/n" {
		t.Errorf("notifysocket %q", got)
	}
	if got := c.String(ConfigDirectory); got != "/var/lib/cyrus" {
		t.Errorf("configdirectory %q", got)
	}
}

func TestDefaultPartitionLowerCased(t *testing.T) {
	c, _ := parseText(t, "defaultpartition: Default\nPartition-Default: /spool\n", "")
	if got := c.String(DefaultPartition); got != "default" {
		t.Fatalf("defaultpartition %q", got)
	}
	if p, ok := c.Partition(c.String(DefaultPartition)); !ok || p != "/spool" {
		t.Fatalf("partition %q %v", p, ok)
	}
}

func TestFamilies(t *testing.T) {
	text := "partition-default: /var/spool/cyrus/mail\n" +
		"partition-news: /var/spool/cyrus/news\n" +
		"metapartition-default: /ssd/meta\n" +
		"metapartition_files: header index\n" +
		"archivepartition-default: /slow/archive\n" +
		"tier1searchpartition-default: /search\n" +
		"xlist-junk: Spam\n" +
		"sasl_auxprop_plugin: sasldb\n" +
		"backend1_password: secret\n" +
		"imap_partition-news: /imap/news\n"
	c, rec := parseText(t, text, "")
	if len(rec.find("unknown")) != 0 {
		t.Errorf("family keys reported unknown:\n%s", rec)
	}
	if p, ok := c.Partition("Default"); !ok || p != "/var/spool/cyrus/mail" {
		t.Errorf("Partition(default) = %q, %v", p, ok)
	}
	if _, ok := c.Partition("nosuch"); ok {
		t.Error("Partition(nosuch) found")
	}
	parts := c.Partitions()
	if len(parts) != 2 || parts["news"] != "/var/spool/cyrus/news" {
		t.Errorf("Partitions() = %v", parts)
	}
	parts["default"] = "/tmp/evil"
	if p, _ := c.Partition("default"); p != "/var/spool/cyrus/mail" {
		t.Error("Partitions returned shared storage")
	}
	if m, ok := c.MetaPartition("default"); !ok || m != "/ssd/meta" {
		t.Errorf("MetaPartition = %q %v", m, ok)
	}
	if mp := c.MetaPartitions(); len(mp) != 1 {
		t.Errorf("MetaPartitions = %v", mp)
	}
	if !c.IsSet("xlist-junk") || !c.IsSet("archivepartition-default") {
		t.Error("family keys not set")
	}
	if v, ok := c.Raw("sasl_auxprop_plugin"); !ok || v != "sasldb" {
		t.Errorf("Raw(sasl_auxprop_plugin) = %q %v", v, ok)
	}
	// A service prefix works on family keys too.
	if p, _ := c.WithService("imap").Partition("news"); p != "/imap/news" {
		t.Errorf("imap partition-news = %q", p)
	}
	ign := rec.find("cyrusgo does not act on")
	if len(ign) != 1 {
		t.Fatalf("want one line of ignored options:\n%s", rec)
	}
	for _, k := range []string{"archivepartition-default", "sasl_auxprop_plugin", "backend1_password"} {
		if !strings.Contains(ign[0].attrs["options"], k) {
			t.Errorf("%s not listed as ignored: %q", k, ign[0].attrs["options"])
		}
	}
	for _, k := range strings.Fields(ign[0].attrs["options"]) {
		if k == "partition-default" || k == "metapartition-default" || k == "metapartition_files" || k == "xlist-junk" {
			t.Errorf("used option %s listed as ignored", k)
		}
	}
}

func TestServicePrefix(t *testing.T) {
	text := "imaps_tls_server_cert: /etc/ssl/imaps.pem\n" + // before the generic line
		"tls_server_cert: /etc/ssl/generic.pem\n" +
		"lmtp_admins: postman\n" +
		"admins: cyrus\n" +
		"pop3_poptimeout: 20\n" +
		"Imaps_AllowPlaintext: yes\n"
	for _, tt := range []struct {
		service, cert, admins string
		plain                 bool
	}{
		{"", "/etc/ssl/generic.pem", "cyrus", false},
		{"imap", "/etc/ssl/generic.pem", "cyrus", false},
		{"imaps", "/etc/ssl/imaps.pem", "cyrus", true},
		{"IMAPS", "/etc/ssl/imaps.pem", "cyrus", true},
		{"lmtp", "/etc/ssl/generic.pem", "postman", false},
	} {
		c, rec := parseText(t, text, tt.service)
		if got := c.String(TLSServerCert); got != tt.cert {
			t.Errorf("%s: tls_server_cert %q, want %q", tt.service, got, tt.cert)
		}
		if got := strings.Join(c.List(Admins), " "); got != tt.admins {
			t.Errorf("%s: admins %q, want %q", tt.service, got, tt.admins)
		}
		if got := c.Bool(AllowPlaintext); got != tt.plain {
			t.Errorf("%s: allowplaintext %v", tt.service, got)
		}
		if len(rec.find("unknown")) != 0 || len(rec.find("twice")) != 0 {
			t.Errorf("%s: prefixed options warned about:\n%s", tt.service, rec)
		}
	}
	c, _ := parseText(t, text, "imap")
	if c.Service() != "imap" || c.Path() != "imapd.conf" {
		t.Errorf("Service %q Path %q", c.Service(), c.Path())
	}
	p := c.WithService("pop3")
	if p.Service() != "pop3" || p.Duration(POPTimeout) != 20*time.Minute || c.Duration(POPTimeout) != 10*time.Minute {
		t.Errorf("WithService(pop3): %s %v, imap %v", p.Service(), p.Duration(POPTimeout), c.Duration(POPTimeout))
	}
	if !p.IsSet("poptimeout") || c.IsSet("poptimeout") {
		t.Error("IsSet does not follow the service")
	}
	if got := c.WithService("imaps").String(TLSServerCert); got != "/etc/ssl/imaps.pem" {
		t.Errorf("WithService(imaps) cert %q", got)
	}
}

func TestServicePrefixOnOptionNames(t *testing.T) {
	// sync_timeout is an option, and also "timeout" for a service named
	// sync; Cyrus reads it as the latter in that service.
	text := "sync_timeout: 10m\ntimeout: 40\n"
	c, _ := parseText(t, text, "imap")
	if c.Duration(SyncTimeout) != 10*time.Minute || c.Duration(Timeout) != 40*time.Minute {
		t.Errorf("imap: sync_timeout %v timeout %v", c.Duration(SyncTimeout), c.Duration(Timeout))
	}
	s := c.WithService("sync")
	if s.Duration(Timeout) != 10*time.Minute || s.Duration(SyncTimeout) != 30*time.Minute {
		t.Errorf("sync: timeout %v sync_timeout %v", s.Duration(Timeout), s.Duration(SyncTimeout))
	}
	// A value fit for the option but not for the prefixed reading keeps
	// the option and drops the reading (sasl_ is a family and a prefix).
	c, _ = parseText(t, "sasl_timeout: forever\n", "sasl")
	if c.Duration(Timeout) != 32*time.Minute {
		t.Errorf("sasl_timeout read as timeout: %v", c.Duration(Timeout))
	}
}

func TestUnknownLoggedOnce(t *testing.T) {
	text := "foo: 1\nfoo: 2\nbar_baz: x\nfoo_admins: x\nnewsspool: /var/spool/news\n"
	_, rec := parseText(t, text, "imap")
	foo := rec.find(`unknown imapd.conf option "foo" ignored`)
	if len(foo) != 1 {
		t.Fatalf("foo reported %d times:\n%s", len(foo), rec)
	}
	if foo[0].level != slog.LevelWarn || foo[0].attrs["file"] != "imapd.conf" || foo[0].attrs["line"] != "1" {
		t.Errorf("record %+v", foo[0])
	}
	if len(rec.find(`"bar_baz"`)) != 1 || len(rec.find(`"newsspool"`)) != 1 {
		t.Errorf("bar_baz or newsspool not reported:\n%s", rec)
	}
	if len(rec.find(`"foo_admins"`)) != 0 {
		t.Errorf("foo_admins (admins for service foo) reported:\n%s", rec)
	}
}

func TestDuplicates(t *testing.T) {
	c, rec := parseText(t, "quotawarn: 80\nadmins: a\nQuotaWarn: 95\n", "")
	if c.Int(QuotaWarn) != 95 {
		t.Errorf("later line did not win: %d", c.Int(QuotaWarn))
	}
	w := rec.find(`"quotawarn" given twice; line 3 overrides line 1`)
	if len(w) != 1 || w[0].level != slog.LevelWarn || w[0].attrs["line"] != "3" {
		t.Errorf("duplicate warning:\n%s", rec)
	}
}

func TestRepeatable(t *testing.T) {
	c, rec := parseText(t, "autocreate_acl: Plus anyone p\nautocreate_acl: Plus bob lrs\nimap_autocreate_acl: A b c\nimap_autocreate_acl: D e f\n", "")
	if got := c.Values(AutocreateACL); len(got) != 2 || got[0] != "Plus anyone p" || got[1] != "Plus bob lrs" {
		t.Errorf("Values = %q", got)
	}
	if len(rec.find("twice")) != 0 {
		t.Errorf("repeatable option warned as duplicate:\n%s", rec)
	}
	if got := c.WithService("imap").Values(AutocreateACL); len(got) != 2 || got[0] != "A b c" {
		t.Errorf("imap Values = %q", got)
	}
	if got := c.Values(ServerName); got != nil {
		t.Errorf("Values of an unset option = %q", got)
	}
	c, _ = parseText(t, "servername: a\n", "")
	if got := c.Values(ServerName); len(got) != 1 || got[0] != "a" {
		t.Errorf("Values(servername) = %q", got)
	}
}

func TestDeprecatedNames(t *testing.T) {
	text := "tls_cert_file: /old.pem\n" +
		"tls_key_file: /old.key\n" +
		"tls_server_key: /new.key\n" + // the new name wins whatever the order
		"autocreatequota: 100\n" +
		"tls_cipher_list: HIGH\n" +
		"imaps_tls_ca_file: /imaps-ca.pem\n" +
		"flushseenstate: yes\n"
	c, rec := parseText(t, text, "imaps")
	if got := c.String(TLSServerCert); got != "/old.pem" {
		t.Errorf("tls_server_cert %q", got)
	}
	if got := c.String(TLSServerKey); got != "/new.key" {
		t.Errorf("tls_server_key %q", got)
	}
	if got := c.Int(AutocreateQuota); got != 100 {
		t.Errorf("autocreate_quota %d", got)
	}
	if got := c.String(TLSCiphers); got != "HIGH" {
		t.Errorf("tls_ciphers %q", got)
	}
	if got := c.String(TLSClientCAFile); got != "/imaps-ca.pem" {
		t.Errorf("tls_client_ca_file %q", got)
	}
	if !c.IsSet("tls_server_cert") || !c.IsSet("TLS_CERT_FILE") {
		t.Error("IsSet through a deprecated name")
	}
	w := rec.find(`"tls_cert_file" is deprecated in favor of "tls_server_cert"`)
	if len(w) != 1 || w[0].attrs["file"] != "imapd.conf" || w[0].attrs["line"] != "1" {
		t.Errorf("deprecation warning:\n%s", rec)
	}
	if len(rec.find(`"imaps_tls_ca_file" is deprecated in favor of "imaps_tls_client_ca_file"`)) != 1 {
		t.Errorf("prefixed deprecation warning:\n%s", rec)
	}
	if len(rec.find(`"flushseenstate" is deprecated and no longer used`)) != 1 {
		t.Errorf("no-longer-used warning:\n%s", rec)
	}
	// The new name wins over the old one given later, too.
	c, _ = parseText(t, "tls_server_cert: /new.pem\ntls_cert_file: /old.pem\n", "")
	if got := c.String(TLSServerCert); got != "/new.pem" {
		t.Errorf("tls_server_cert %q after a later deprecated line", got)
	}
	// A service override through the old name beats a generic new name.
	c, _ = parseText(t, "tls_server_cert: /new.pem\nimaps_tls_cert_file: /imaps.pem\n", "imaps")
	if got := c.String(TLSServerCert); got != "/imaps.pem" {
		t.Errorf("imaps tls_server_cert %q", got)
	}
}

func TestRaw(t *testing.T) {
	c, _ := parseText(t, "sync_host: a\nchan1_sync_host: b\nimap_sync_host: c\nweird-key: d\n", "imap")
	for _, tt := range []struct{ key, want string }{
		{"chan1_sync_host", "b"},
		{"sync_host", "c"}, // the service's own value first
		{"weird-key", "d"},
	} {
		if got, ok := c.Raw(tt.key); !ok || got != tt.want {
			t.Errorf("Raw(%s) = %q %v, want %q", tt.key, got, ok, tt.want)
		}
	}
	if _, ok := c.Raw("nosuch"); ok {
		t.Error("Raw(nosuch) found")
	}
}

func TestAccessorPanics(t *testing.T) {
	c, _ := FromMap(nil, "")
	mustPanic(t, `"nosuch" is not an imapd.conf option`, func() { c.String(StringKey("nosuch")) })
	mustPanic(t, `"timeout" is a duration, not a bool`, func() { c.Bool(BoolKey("timeout")) })
	mustPanic(t, `"tls_cert_file" is a deprecated name of "tls_server_cert"`, func() { c.String(StringKey("tls_cert_file")) })
	mustPanic(t, "not a int", func() { c.Int(IntKey("admins")) })
	mustPanic(t, "not a size", func() { c.Size(SizeKey("quotawarn")) })
	mustPanic(t, "not a enum", func() { c.Enum(EnumKey("servername")) })
	mustPanic(t, "not a list", func() { c.List(ListKey("virtdomains")) })
	mustPanic(t, "not a duration", func() { c.Duration(DurationKey("maxword")) })
	mustPanic(t, "not a string", func() { c.Values(StringKey("timeout")) })
}

func TestFromMap(t *testing.T) {
	c, err := FromMap(map[string]string{
		"configdirectory":      "/var/lib/cyrus",
		"partition-default":    "/spool",
		"imaps_allowplaintext": "yes",
	}, "imaps")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Bool(AllowPlaintext) || c.Path() != "FromMap" {
		t.Errorf("allowplaintext %v path %q", c.Bool(AllowPlaintext), c.Path())
	}
	if _, err := FromMap(map[string]string{"timeout": "x"}, ""); err == nil || !strings.HasPrefix(err.Error(), "FromMap:1: ") {
		t.Errorf("bad value: %v", err)
	}
	if _, err := FromMap(map[string]string{"admins": "a\nb"}, ""); err == nil {
		t.Error("line break accepted")
	}
	if _, err := FromMap(map[string]string{"@include": "/etc/passwd"}, ""); err == nil {
		t.Error("@include accepted in FromMap")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("conf.d/tls.conf", "tls_server_cert: /cert.pem\n@include: more.conf\n")
	write("conf.d/more.conf", "tls_server_key: /key.pem\n")
	main := write("imapd.conf", "configdirectory: /var/lib/cyrus\n@include: conf.d/tls.conf\nservername: after\n")
	rec := &recorder{}
	c, err := Load(main, "imap", slog.New(rec))
	if err != nil {
		t.Fatal(err)
	}
	if c.String(TLSServerCert) != "/cert.pem" || c.String(TLSServerKey) != "/key.pem" || c.String(ServerName) != "after" {
		t.Errorf("included values: %q %q %q", c.String(TLSServerCert), c.String(TLSServerKey), c.String(ServerName))
	}
	if c.Path() != main || c.Service() != "imap" {
		t.Errorf("Path %q Service %q", c.Path(), c.Service())
	}

	// Errors in an included file name that file.
	write("bad.conf", "# x\ntimeout: never\n")
	p := write("inc-bad.conf", "configdirectory: /x\n@include: bad.conf\n")
	if _, err := Load(p, "", nil); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "bad.conf")+":2: ") {
		t.Errorf("error in included file: %v", err)
	}
	// Cyrus refuses to read a file twice, which also stops loops.
	p = write("loop.conf", "configdirectory: /x\n@include: loop.conf\n")
	if _, err := Load(p, "", nil); err == nil || !strings.Contains(err.Error(), "included twice") {
		t.Errorf("include loop: %v", err)
	}
	p = write("missing-inc.conf", "configdirectory: /x\n@include: nosuch.conf\n")
	if _, err := Load(p, "", nil); err == nil || !strings.Contains(err.Error(), "missing-inc.conf:2:") {
		t.Errorf("missing include: %v", err)
	}
	// Like Cyrus, Load needs configdirectory.
	p = write("nodir.conf", "servername: x\n")
	if _, err := Load(p, "", nil); err == nil || !strings.Contains(err.Error(), "configdirectory option not specified") {
		t.Errorf("no configdirectory: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "nosuch"), "", nil); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestIncludeDepth(t *testing.T) {
	dir := t.TempDir()
	// A chain f0 -> f1 -> ... longer than the nesting limit.
	for i := 0; i <= maxIncludeDepth+1; i++ {
		text := fmt.Sprintf("@include: f%d.conf\n", i+1)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.conf", i)), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Load(filepath.Join(dir, "f0.conf"), "", nil)
	if err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Fatalf("deep include: %v", err)
	}
}

// TestDebianConfigs parses the imapd.conf Debian 12 ships with Cyrus 3.6
// and the one of the reference installation.
func TestDebianConfigs(t *testing.T) {
	rec := &recorder{}
	c, err := Load("testdata/debian-imapd.conf", "imap", slog.New(rec))
	if err != nil {
		t.Fatal(err)
	}
	if c.Bool(AltNamespace) || c.Bool(UnixHierarchySep) || !c.Bool(HashIMAPSpool) || !c.Bool(AllowPlaintext) {
		t.Error("namespace or spool settings")
	}
	if c.Duration(TLSSessionTimeout) != 24*time.Hour || c.Duration(POPMinPoll) != time.Minute {
		t.Errorf("tls_session_timeout %v popminpoll %v", c.Duration(TLSSessionTimeout), c.Duration(POPMinPoll))
	}
	if p, _ := c.Partition("default"); p != "/var/spool/cyrus/mail" {
		t.Errorf("partition-default %q", p)
	}
	if got := strings.Join(c.List(SASLPWCheckMethod), " "); got != "auxprop" {
		t.Errorf("sasl_pwcheck_method %q", got)
	}
	if got := c.String(SyslogPrefix); got != "cyrus" {
		t.Errorf("syslog_prefix %q", got)
	}
	if len(rec.find(`unknown imapd.conf option "newsspool"`)) != 1 {
		t.Errorf("newsspool (not a 3.6 option) not reported:\n%s", rec)
	}

	text, err := os.ReadFile("testdata/imapd.conf.in")
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.ReplaceAll(string(text), "@ROOT@", "/tmp/anchor")
	rec = &recorder{}
	c, err = Parse(strings.NewReader(conf), "imapd.conf.in", "lmtp", slog.New(rec))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.List(SASLMechList), " "); got != "PLAIN LOGIN" {
		t.Errorf("sasl_mech_list %q", got)
	}
	if got := strings.Join(c.List(Admins), " "); got != "cyrus" {
		t.Errorf("admins %q", got)
	}
	if c.Int(AutocreateQuota) != -1 || c.Enum(VirtDomains) != "off" {
		t.Error("autocreate_quota or virtdomains")
	}
	if s := rec.String(); strings.Contains(s, "unknown") {
		t.Errorf("unknown options in imapd.conf.in:\n%s", s)
	}
}

func TestWithServiceLogsNothing(t *testing.T) {
	c, rec := parseText(t, "foo: 1\ntls_cert_file: /a\nchatty: yes\n", "imap")
	n := len(rec.records)
	if n != 3 {
		t.Fatalf("want 3 records (unknown, deprecated, ignored), got:\n%s", rec)
	}
	c.WithService("pop3").WithService("")
	if len(rec.records) != n {
		t.Fatalf("WithService logged:\n%s", rec)
	}
}
