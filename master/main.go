// Command master is the cyrusgo process supervisor, a drop-in for Cyrus's
// master(8): it reads cyrus.conf and imapd.conf, listens for every service
// and forks the service binaries to serve connections.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
	"github.com/cyrusgo/cyrusgo/libcyrus/masterconf"
	"github.com/cyrusgo/cyrusgo/libcyrus/supervisor"
)

// DefaultPidfile is master(8)'s default.
const DefaultPidfile = "/var/run/master.pid"

// envDaemonized marks the re-executed child of -d.
const envDaemonized = "CYRUSGO_MASTER_DAEMONIZED"

func main() {
	os.Exit(run(os.Args[1:]))
}

type flags struct {
	config     string
	masterConf string
	backlog    int
	pidfile    string
	janitor    int
	daemon     bool
	debug      bool
	logfile    string
}

func run(args []string) int {
	var f flags
	fs := pflag.NewFlagSet("master", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.StringVarP(&f.config, "config", "C", config.DefaultPath, "alternate imapd.conf")
	fs.StringVarP(&f.masterConf, "master-config", "M", masterconf.DefaultPath, "alternate cyrus.conf")
	fs.IntVarP(&f.backlog, "listen-queue", "l", supervisor.DefaultBacklog, "listen queue backlog")
	fs.StringVarP(&f.pidfile, "pidfile", "p", DefaultPidfile, "pid file")
	fs.IntVarP(&f.janitor, "janitor", "j", 1, "janitor sweeps per second (accepted for compatibility)")
	fs.BoolVarP(&f.daemon, "daemon", "d", false, "run in the background")
	fs.BoolVarP(&f.debug, "debug", "D", false, "keep stdin, stdout and stderr open (foreground)")
	fs.StringVarP(&f.logfile, "logfile", "L", "", "redirect stdout and stderr to this file")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(os.Stderr, "master: %v\n", err)
		return 64
	}
	if f.daemon && f.debug {
		fmt.Fprintln(os.Stderr, "master: -d and -D cannot be used together; consider using -L instead")
		return 64
	}

	if f.logfile != "" {
		if err := redirectOutput(f.logfile); err != nil {
			fmt.Fprintf(os.Stderr, "master: %v\n", err)
			return 1
		}
		// Children inherit the redirected stderr; tell them to log there
		// too, so one file holds everything.
		os.Setenv(logging.EnvStderr, "1")
	}
	if f.daemon && os.Getenv(envDaemonized) == "" {
		return daemonize(args)
	}

	level := slog.LevelInfo
	if os.Getenv("CYRUS_VERBOSE") != "" {
		level = slog.LevelDebug
	}
	boot := logging.New(logging.Options{Ident: "master", Level: level, Stderr: os.Getenv(logging.EnvStderr) == "1"})
	cfg, err := config.Load(f.config, "master", boot)
	if err != nil {
		boot.Error(err.Error())
		return 78
	}
	logger := logging.New(logging.Options{
		Ident:    "master",
		Prefix:   cfg.String(config.SyslogPrefix),
		Facility: cfg.Enum(config.SyslogFacility),
		Level:    level,
		Stderr:   os.Getenv(logging.EnvStderr) == "1",
	})
	if !f.debug && f.logfile == "" && logging.SyslogAvailable() {
		// Logs go to syslog; like Cyrus, let go of the terminal.
		closeStdio()
	}

	unlock, err := writePidfile(f.pidfile, fs.Changed("pidfile"))
	if err != nil {
		logger.Error(err.Error())
		return 1
	}
	defer unlock()

	dbs := &databases{logger: logger}
	defer dbs.close()
	exe, _ := os.Executable()
	m, err := supervisor.New(supervisor.Options{
		ConfigPath:     f.config,
		MasterConfPath: f.masterConf,
		Backlog:        f.backlog,
		Logger:         logger,
		Config:         cfg,
		AfterDrop:      dbs.open,
		ExecDir:        filepath.Dir(exe),
	})
	if err != nil {
		logger.Error(err.Error())
		return 78
	}
	if err := m.Run(); err != nil {
		logger.Error(err.Error())
		return 1
	}
	return 0
}

// databases are the cyrusdb files master owns and serves to its children
// (DESIGN.md 4). They are opened after master has dropped to cyrus_user,
// so the files and the socket belong to the user the services run as.
type databases struct {
	logger *slog.Logger
	store  *cyrusdb.Store
	server *cyrusdb.Server
}

func (d *databases) open(cfg *config.Config) error {
	dir := cfg.String(config.ConfigDirectory)
	var err error
	// A tool that opened the files while master was down may still hold
	// them for a moment.
	for i := 0; i < 50; i++ {
		d.store, err = cyrusdb.OpenStore(dir, cyrusdb.WithLogger(d.logger))
		if !errors.Is(err, cyrusdb.ErrLocked) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("open databases in %s: %w", dir, err)
	}
	d.server, err = cyrusdb.Serve(context.Background(), d.store, cyrusdb.SocketPath(dir), d.logger)
	if err != nil {
		d.store.Close()
		d.store = nil
		return fmt.Errorf("serve databases: %w", err)
	}
	return nil
}

func (d *databases) close() {
	if d.server != nil {
		d.server.Close()
	}
	if d.store != nil {
		d.store.Close()
	}
}

func redirectOutput(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	defer f.Close()
	for _, fd := range []int{1, 2} {
		if err := unix.Dup2(int(f.Fd()), fd); err != nil {
			return fmt.Errorf("redirect fd %d to %s: %w", fd, path, err)
		}
	}
	return nil
}

func closeStdio() {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer null.Close()
	for fd := 0; fd <= 2; fd++ {
		unix.Dup2(int(null.Fd()), fd)
	}
}

// daemonize re-runs master in a new session, detached from the terminal;
// Go cannot fork without exec, so the background process is a fresh one.
func daemonize(args []string) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "master: %v\n", err)
		return 1
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		fmt.Fprintf(os.Stderr, "master: %v\n", err)
		return 1
	}
	defer null.Close()
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), envDaemonized+"=1")
	cmd.Stdin = null
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if os.Getenv(logging.EnvStderr) != "1" {
		cmd.Stdout, cmd.Stderr = null, null
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "master: %v\n", err)
		return 1
	}
	return 0
}

// writePidfile writes and locks the pid file, so a second master on the
// same file refuses to start. A default path that cannot be written (an
// unprivileged run) is only logged; one given with -p must work.
func writePidfile(path string, explicit bool) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		if explicit {
			return nil, fmt.Errorf("can't open pidfile: %w", err)
		}
		return func() {}, nil
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("can't get exclusive lock on %s: another master is running", path)
		}
		return nil, fmt.Errorf("lock pidfile %s: %w", path, err)
	}
	f.Truncate(0)
	f.WriteString(strconv.Itoa(os.Getpid()) + "\n")
	return func() {
		os.Remove(path)
		f.Close()
	}, nil
}
