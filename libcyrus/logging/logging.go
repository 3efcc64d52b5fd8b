// Package logging builds the slog.Logger every cyrusgo process uses. Lines
// go to syslog (as Cyrus's do, tagged "<syslog_prefix>/<service>[pid]") when
// /dev/log exists and to stderr otherwise, with the message text first so the
// lines admins grep for ("login: ...", "Delivered: ...") read as in Cyrus.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"log/syslog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Levels beyond slog's four, so each syslog priority Cyrus uses has a name.
const (
	LevelDebug  = slog.LevelDebug
	LevelInfo   = slog.LevelInfo
	LevelNotice = slog.Level(2)
	LevelWarn   = slog.LevelWarn
	LevelError  = slog.LevelError
	LevelCrit   = slog.Level(12)
)

// DevLog is where the local syslog daemon listens.
const DevLog = "/dev/log"

// EnvStderr, set to "1" in the environment, makes a process log to stderr
// even where syslog is available; master -L sets it for its children so
// one file holds every line.
const EnvStderr = "CYRUSGO_LOG_STDERR"

// SyslogAvailable reports whether a local syslog daemon is listening.
func SyslogAvailable() bool { return exists(DevLog) }

// Options says where and how a process logs.
type Options struct {
	// Ident names the process in each line, e.g. "imap" or "master".
	Ident string
	// Prefix is imapd.conf's syslog_prefix; the syslog tag is Prefix/Ident.
	Prefix string
	// Facility is a syslog facility name ("mail", "local6", ...).
	Facility string
	// Writer, when set, receives the lines instead of syslog or stderr.
	Writer io.Writer
	// Stderr forces stderr even when /dev/log exists.
	Stderr bool
	// Level is the lowest level written.
	Level slog.Level
}

// New returns a logger per o. It never fails: when syslog cannot be reached
// it falls back to stderr, because a process that cannot log must still run.
func New(o Options) *slog.Logger {
	tag := o.Ident
	if o.Prefix != "" {
		tag = o.Prefix + "/" + o.Ident
	}
	h := &handler{level: o.Level, tag: tag, mu: &sync.Mutex{}}
	switch {
	case o.Writer != nil:
		h.w = o.Writer
	case !o.Stderr && exists(DevLog):
		sw, err := syslog.Dial("", "", facility(o.Facility)|syslog.LOG_NOTICE, tag)
		if err == nil {
			h.sys = sw
			break
		}
		h.w = os.Stderr
	default:
		h.w = os.Stderr
	}
	return slog.New(h)
}

// Discard is a logger that writes nothing, for tests and tools.
func Discard() *slog.Logger {
	return slog.New(slog.DiscardHandler)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func facility(name string) syslog.Priority {
	switch strings.ToLower(strings.TrimPrefix(strings.ToLower(name), "log_")) {
	case "local0":
		return syslog.LOG_LOCAL0
	case "local1":
		return syslog.LOG_LOCAL1
	case "local2":
		return syslog.LOG_LOCAL2
	case "local3":
		return syslog.LOG_LOCAL3
	case "local4":
		return syslog.LOG_LOCAL4
	case "local5":
		return syslog.LOG_LOCAL5
	case "local6":
		return syslog.LOG_LOCAL6
	case "local7":
		return syslog.LOG_LOCAL7
	case "user":
		return syslog.LOG_USER
	case "daemon":
		return syslog.LOG_DAEMON
	case "auth":
		return syslog.LOG_AUTH
	}
	return syslog.LOG_MAIL
}

type handler struct {
	level  slog.Level
	tag    string
	prefix string // pre-formatted attributes from WithAttrs
	group  string
	mu     *sync.Mutex
	w      io.Writer
	sys    *syslog.Writer
}

func (h *handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *handler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	b.WriteString(h.prefix)
	r.Attrs(func(a slog.Attr) bool {
		appendAttr(&b, h.group, a)
		return true
	})
	line := b.String()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sys != nil {
		return h.syslog(r.Level, line)
	}
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	_, err := fmt.Fprintf(h.w, "%s %s[%d]: %s: %s\n", t.Format(time.StampMilli), h.tag, os.Getpid(), levelName(r.Level), line)
	return err
}

func (h *handler) syslog(l slog.Level, line string) error {
	switch {
	case l >= LevelCrit:
		return h.sys.Crit(line)
	case l >= LevelError:
		return h.sys.Err(line)
	case l >= LevelWarn:
		return h.sys.Warning(line)
	case l >= LevelNotice:
		return h.sys.Notice(line)
	case l >= LevelInfo:
		return h.sys.Info(line)
	}
	return h.sys.Debug(line)
}

func levelName(l slog.Level) string {
	switch {
	case l >= LevelCrit:
		return "crit"
	case l >= LevelError:
		return "error"
	case l >= LevelWarn:
		return "warning"
	case l >= LevelNotice:
		return "notice"
	case l >= LevelInfo:
		return "info"
	}
	return "debug"
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.prefix)
	for _, a := range attrs {
		appendAttr(&b, h.group, a)
	}
	n := *h
	n.prefix = b.String()
	return &n
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	n := *h
	n.group = h.group + name + "."
	return &n
}

func appendAttr(b *strings.Builder, group string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		g := group
		if a.Key != "" {
			g += a.Key + "."
		}
		for _, ga := range a.Value.Group() {
			appendAttr(b, g, ga)
		}
		return
	}
	b.WriteByte(' ')
	b.WriteString(group)
	b.WriteString(a.Key)
	b.WriteByte('=')
	v := a.Value.String()
	if v == "" || strings.ContainsAny(v, " \t\r\n\"=") {
		v = strconv.Quote(v)
	}
	b.WriteString(v)
}
