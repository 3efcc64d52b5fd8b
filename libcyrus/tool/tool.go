// Package tool is the common start of every admin tool (ctl_cyrusdb,
// ctl_mboxlist, reconstruct, quota, ...): read imapd.conf as the tool's
// own service, build its logger, and refuse to run as root; then, for the
// tools that need them, open the databases and the mail store (Env), with
// the exit statuses and error reports every tool shares.
//
// Cyrus tools run as root switch to the cyrus user themselves; a Go
// process cannot drop privileges reliably once threads exist, so ours
// refuse instead, unless the configuration says explicitly that the
// services run as root (cyrus_user: root). Files a tool created as root
// would otherwise be unreadable by master and its children.
package tool

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
)

// Exit statuses from sysexits.h that Cyrus's tools use.
const (
	ExitUsage    = 64 // EX_USAGE: bad flags
	ExitSoftware = 70 // EX_SOFTWARE: internal error
	ExitTempFail = 75 // EX_TEMPFAIL: try again later
	ExitNoPerm   = 77 // EX_NOPERM: refused to run as root
	ExitConfig   = 78 // EX_CONFIG: unreadable imapd.conf
)

// ErrRoot is returned when a tool is run as root without cyrus_user: root.
var ErrRoot = errors.New("must not run as root: run it as the cyrus user (cyrus_user), or set cyrus_user: root")

// Options adjusts SetupWith, for tests.
type Options struct {
	// LogWriter, when set, receives the log lines instead of syslog or
	// stderr.
	LogWriter io.Writer
	// Euid, when set, replaces os.Geteuid.
	Euid func() int
}

// Setup loads the configuration at configPath (config.DefaultPath if
// empty) as seen by the service named program, builds the program's
// logger (syslog, tagged <syslog_prefix>/<program>, or stderr), and checks
// the user with CheckUser.
func Setup(program, configPath string) (*config.Config, *slog.Logger, error) {
	return SetupWith(program, configPath, Options{})
}

// SetupWith is Setup with Options.
func SetupWith(program, configPath string, o Options) (*config.Config, *slog.Logger, error) {
	level := slog.LevelInfo
	if os.Getenv("CYRUS_VERBOSE") != "" {
		level = slog.LevelDebug
	}
	stderr := os.Getenv(logging.EnvStderr) == "1"
	// The warnings about the file itself go out before its syslog_prefix
	// is known.
	boot := logging.New(logging.Options{Ident: program, Level: level, Stderr: stderr, Writer: o.LogWriter})
	cfg, err := config.Load(configPath, program, boot)
	if err != nil {
		return nil, boot, err
	}
	logger := logging.New(logging.Options{
		Ident:    program,
		Prefix:   cfg.String(config.SyslogPrefix),
		Facility: cfg.Enum(config.SyslogFacility),
		Level:    level,
		Stderr:   stderr,
		Writer:   o.LogWriter,
	})
	euid := os.Geteuid
	if o.Euid != nil {
		euid = o.Euid
	}
	if err := CheckUser(cfg, euid()); err != nil {
		return nil, logger, err
	}
	return cfg, logger, nil
}

// CheckUser refuses euid 0 unless cfg sets cyrus_user: root explicitly
// (the compiled-in default, cyrus, does not count).
func CheckUser(cfg *config.Config, euid int) error {
	if euid != 0 {
		return nil
	}
	if cfg.IsSet(string(config.CyrusUser)) && cfg.String(config.CyrusUser) == "root" {
		return nil
	}
	return fmt.Errorf("%w", ErrRoot)
}

// LogsToStderr reports whether a tool's log lines already reach stderr;
// when they go to syslog, a tool also prints its fatal error on stderr so
// the admin at the terminal sees it.
func LogsToStderr() bool {
	return os.Getenv(logging.EnvStderr) == "1" || !logging.SyslogAvailable()
}
