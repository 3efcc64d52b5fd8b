// Package service is the child side of the master protocol: every service
// binary (imapd, pop3d, lmtpd, timsieved) calls Main with its engine, and
// this package reads the environment master set up, accepts connections on
// fd 4 and reports AVAILABLE/UNAVAILABLE/CONNECTION(_MULTI) on fd 3 exactly
// as Cyrus's service skeleton does, so Cyrus's master can run our services
// and ours can run Cyrus's.
//
// Beyond Cyrus, a process may serve up to client_limit connections at once,
// one goroutine each (DESIGN.md 2). With the default of 1 the messages are
// the ones Cyrus sends, in the same order.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
	"github.com/cyrusgo/cyrusgo/libcyrus/masterproto"
)

// Exit codes from sysexits.h, as Cyrus uses them.
const (
	exitOK       = 0
	exitUsage    = 64
	exitSoftware = 70
	exitOSErr    = 71
	exitConfig   = 78
)

// Defaults of Cyrus's service.h.
const (
	DefaultMaxUse       = 250
	DefaultReuseTimeout = 60 * time.Second
)

// Handler serves one client connection. ServeConn returns when the session
// is over; the runtime closes conn afterwards. ctx is cancelled when the
// process is asked to shut down, so a session can say goodbye.
type Handler interface {
	ServeConn(ctx context.Context, conn net.Conn)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, conn net.Conn)

// ServeConn calls f.
func (f HandlerFunc) ServeConn(ctx context.Context, conn net.Conn) { f(ctx, conn) }

// Env is what a service's Init receives.
type Env struct {
	// Service is CYRUS_SERVICE: the cyrus.conf entry name, e.g. "imaps".
	Service string
	// ID is CYRUS_ID, the listener index within the service.
	ID int
	// Config is imapd.conf resolved for Service's option prefixes.
	Config *config.Config
	// Logger logs to syslog or stderr, tagged with the service name.
	Logger *slog.Logger
	// Flags holds the parsed command line, the service's own flags included.
	Flags *pflag.FlagSet
	// Stdio is true under -X: one session on stdin/stdout, no master.
	Stdio bool
}

// Spec describes a service binary.
type Spec struct {
	// Program is the binary's name, for messages ("imapd").
	Program string
	// Flags registers the service's own options (e.g. -s) on fs.
	Flags func(fs *pflag.FlagSet)
	// Init prepares the engine once, before the first connection.
	Init func(env *Env) (Handler, error)
}

// Main runs the service and exits the process with its status.
func Main(spec Spec) {
	os.Exit(Run(spec, os.Args[1:], os.Getenv))
}

// options are the flags every Cyrus service takes (service.c's getopt).
type options struct {
	configPath   string
	maxUse       int
	reuseTimeout int
	debugger     bool
	stdio        bool
}

// Run is Main without the exit, for tests.
func Run(spec Spec, args []string, getenv func(string) string) int {
	toStderr := getenv(logging.EnvStderr) == "1"
	boot := logging.New(logging.Options{Ident: spec.Program, Stderr: toStderr})

	fs := pflag.NewFlagSet(spec.Program, pflag.ContinueOnError)
	// Cyrus passes options it does not know through to the service; a
	// service that does not know them either should not die of it.
	fs.ParseErrorsAllowlist.UnknownFlags = true
	fs.SortFlags = false
	var o options
	fs.StringVarP(&o.configPath, "config", "C", config.DefaultPath, "alternate imapd.conf")
	fs.IntVarP(&o.maxUse, "uses", "U", DefaultMaxUse, "exit after serving this many connections")
	fs.IntVarP(&o.reuseTimeout, "timeout", "T", int(DefaultReuseTimeout/time.Second), "exit after this many idle seconds between connections")
	fs.BoolVarP(&o.debugger, "debug", "D", false, "run debug_command at start (accepted for compatibility)")
	fs.BoolVarP(&o.stdio, "stdio", "X", false, "serve one session on stdin/stdout, without master")
	if spec.Flags != nil {
		spec.Flags(fs)
	}
	if err := fs.Parse(args); err != nil {
		boot.Error(fmt.Sprintf("%s: %v", spec.Program, err))
		return exitUsage
	}
	if o.maxUse < 0 {
		o.maxUse = 0
	}
	if o.reuseTimeout < 0 {
		o.reuseTimeout = 0
	}

	svc := getenv(masterproto.EnvService)
	if svc == "" {
		boot.Error("could not getenv(CYRUS_SERVICE); exiting")
		return exitSoftware
	}
	idStr := getenv(masterproto.EnvID)
	if idStr == "" && !o.stdio {
		boot.Error("could not getenv(CYRUS_ID); exiting")
		return exitSoftware
	}
	id, _ := strconv.Atoi(idStr)

	cfg, err := config.Load(o.configPath, svc, boot)
	if err != nil {
		boot.Error(fmt.Sprintf("%s: %v", spec.Program, err))
		return exitConfig
	}
	logger := logging.New(logging.Options{
		Ident:    svc,
		Prefix:   cfg.String(config.SyslogPrefix),
		Facility: cfg.Enum(config.SyslogFacility),
		Stderr:   toStderr,
	})
	if err := checkUser(cfg); err != nil {
		logger.Error(err.Error())
		return exitUsage
	}

	env := &Env{Service: svc, ID: id, Config: cfg, Logger: logger, Flags: fs, Stdio: o.stdio}
	h, err := spec.Init(env)
	if err != nil {
		logger.Error(fmt.Sprintf("%s: init: %v", spec.Program, err))
		return exitConfig
	}
	logger.Debug("executed")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	if o.stdio {
		return serveStdio(ctx, h, logger)
	}

	limit := fitClientLimit(int(cfg.Int(config.ClientLimit)), logger)
	r, err := newRunner(runnerConfig{
		maxUse:       o.maxUse,
		reuseTimeout: jitter(time.Duration(o.reuseTimeout) * time.Second),
		clientLimit:  limit,
		logger:       logger,
		handler:      h,
	})
	if err != nil {
		logger.Error(err.Error())
		return exitOSErr
	}
	return r.run(ctx)
}

// fdsPerSession is what one session may hold open at once: the socket,
// the selected mailbox's index, cache and lock, a message file, and the
// inotify descriptor of IDLE.
const fdsPerSession = 4

// fdReserve is kept for the process itself (database connections, logs).
const fdReserve = 32

// fitClientLimit caps client_limit so the sessions fit in the descriptor
// limit master set (cyrus.conf maxfds, 256 by default): past it a session
// would fail mid-command with an I/O error instead of waiting in the
// listen queue for another process.
func fitClientLimit(limit int, logger *slog.Logger) int {
	if limit < 1 {
		limit = 1
	}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == unix.RLIM_INFINITY {
		return limit
	}
	fit := (int(rl.Cur) - fdReserve) / fdsPerSession
	if fit < 1 {
		fit = 1
	}
	if limit > fit {
		logger.Warn(fmt.Sprintf("client_limit %d needs more file descriptors than maxfds %d allows; serving %d sessions per process (raise maxfds in cyrus.conf)", limit, rl.Cur, fit))
		return fit
	}
	return limit
}

// checkUser enforces that no service runs as root unless the configuration
// asks for it in so many words (DESIGN.md 2).
func checkUser(cfg *config.Config) error {
	if os.Geteuid() != 0 {
		return nil
	}
	if cfg.IsSet(string(config.CyrusUser)) && cfg.String(config.CyrusUser) == "root" {
		return nil
	}
	return errors.New("must not run as root (set cyrus_user: root in imapd.conf to allow it); exiting")
}

// jitter picks a timeout between t and 2t, as Cyrus does, so that children
// started together do not all exit together.
func jitter(t time.Duration) time.Duration {
	if t <= 0 {
		return 0
	}
	return t + time.Duration(time.Now().UnixNano()%int64(t))
}

// runnerConfig is what the accept loop needs.
type runnerConfig struct {
	maxUse       int
	reuseTimeout time.Duration
	clientLimit  int
	logger       *slog.Logger
	handler      Handler
}

// signals are the ones that end the accept loop: SIGHUP drains (finish
// sessions, accept no more), SIGTERM/SIGQUIT/SIGINT stop.
func notifySignals() (chan os.Signal, func()) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGINT)
	return ch, func() { signal.Stop(ch) }
}

// inheritedListener wraps fd 4 and marks fds 3 and 4 close-on-exec, so a
// program the service runs (sendmail) does not inherit them.
func inheritedListener() (net.Listener, *os.File, error) {
	for _, fd := range []int{masterproto.StatusFD, masterproto.ListenFD} {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
			return nil, nil, fmt.Errorf("unable to set close on exec on fd %d: %w", fd, err)
		}
	}
	typ, err := unix.GetsockoptInt(masterproto.ListenFD, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return nil, nil, fmt.Errorf("getsockopt: SOL_SOCKET: failed to get type: %w", err)
	}
	if typ != unix.SOCK_STREAM {
		return nil, nil, fmt.Errorf("listener on fd %d is not a stream socket", masterproto.ListenFD)
	}
	lf := os.NewFile(masterproto.ListenFD, "listener")
	ln, err := net.FileListener(lf)
	lf.Close() // FileListener holds its own duplicate
	if err != nil {
		return nil, nil, fmt.Errorf("listener on fd %d: %w", masterproto.ListenFD, err)
	}
	status := os.NewFile(masterproto.StatusFD, "status")
	return ln, status, nil
}
