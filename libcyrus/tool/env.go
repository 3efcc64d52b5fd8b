package tool

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/pflag"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
)

// Flags returns the flag set every tool starts from: errors and usage
// left to the tool (pflag prints nothing of its own), and -C, the
// alternate imapd.conf, registered first as in Cyrus's getopt strings.
func Flags(program string, stderr io.Writer) (fs *pflag.FlagSet, configPath *string) {
	fs = pflag.NewFlagSet(program, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	configPath = fs.StringP("config", "C", config.DefaultPath, "alternate imapd.conf")
	return fs, configPath
}

// Env is what a tool works with once started: its configuration and
// logger, and, as the tool asked, the databases and the mail store. Close
// releases the databases; the store holds nothing of its own to close.
type Env struct {
	Config *config.Config
	Logger *slog.Logger
	DBs    *cyrusdb.Handle // nil unless opened by OpenDBs or OpenStore
	Store  *mailbox.Store  // nil unless opened by OpenStore

	program string
	stderr  io.Writer
	opts    Options
}

// Start loads the configuration and builds the logger as SetupWith does.
// On failure it reports the error (Report) and returns a nil Env and the
// exit status SetupStatus gives; otherwise the status is 0.
func Start(program, configPath string, stderr io.Writer, o Options) (*Env, int) {
	cfg, logger, err := SetupWith(program, configPath, o)
	e := &Env{Config: cfg, Logger: logger, program: program, stderr: stderr, opts: o}
	if err != nil {
		e.Report(err)
		return nil, SetupStatus(err)
	}
	return e, 0
}

// OpenDBs is Start, then opens the databases of configdirectory (through
// master's socket when it runs, the files otherwise). A failure is
// reported and its status is Status's: EX_TEMPFAIL when the files are
// held by another process, 1 otherwise.
func OpenDBs(program, configPath string, stderr io.Writer, o Options) (*Env, int) {
	e, code := Start(program, configPath, stderr, o)
	if e == nil {
		return nil, code
	}
	h, err := cyrusdb.Open(e.Config.String(config.ConfigDirectory), e.Logger)
	if err != nil {
		e.Report(err)
		return nil, Status(err)
	}
	e.DBs = h
	return e, 0
}

// OpenStore is OpenDBs, then the mail store on those databases. A store
// that cannot be set up (a bad partition or ACL option) is reported and
// exits 1, with the databases closed again.
func OpenStore(program, configPath string, stderr io.Writer, o Options) (*Env, int) {
	e, code := OpenDBs(program, configPath, stderr, o)
	if e == nil {
		return nil, code
	}
	s, err := mailbox.New(e.Config, e.DBs, e.Logger)
	if err != nil {
		e.Report(err)
		e.Close()
		return nil, 1
	}
	e.Store = s
	return e, 0
}

// Close releases the databases, if the Env holds them.
func (e *Env) Close() error {
	if e.DBs == nil {
		return nil
	}
	return e.DBs.Close()
}

// Report logs err and, when the log lines reach neither the terminal
// (LogsToStderr) nor a test's LogWriter, also prints it on stderr as
// "<program>: <err>", so the admin at the terminal sees it.
func (e *Env) Report(err error) {
	if e.Logger != nil {
		e.Logger.Error(err.Error())
	}
	if e.opts.LogWriter == nil && !LogsToStderr() {
		fmt.Fprintf(e.stderr, "%s: %v\n", e.program, err)
	}
}

// SetupStatus is the exit status for a SetupWith error, as Cyrus's tools
// exit: EX_NOPERM when refused as root, EX_CONFIG otherwise.
func SetupStatus(err error) int {
	if errors.Is(err, ErrRoot) {
		return ExitNoPerm
	}
	return ExitConfig
}

// Status is the exit status for an error once the tool runs: EX_NOPERM
// for ErrRoot, EX_TEMPFAIL when the databases are held
// (cyrusdb.ErrLocked), 1 otherwise.
func Status(err error) int {
	switch {
	case errors.Is(err, ErrRoot):
		return ExitNoPerm
	case errors.Is(err, cyrusdb.ErrLocked):
		return ExitTempFail
	}
	return 1
}
