// Package masterconf reads cyrus.conf, the configuration of master(8): what
// to run at startup (START), which sockets to listen on and what to spawn for
// them (SERVICES), what to run on a schedule (EVENTS) and which long-running
// daemons to keep alive (DAEMON). It accepts every file Cyrus IMAP 3.6's
// master accepts, with the meanings and defaults of cyrus.conf(5), and
// reports mistakes as "file:line: message" errors.
//
// The package only parses and interprets; it opens no sockets and starts no
// processes. It holds no state between calls and needs no locking.
//
// Syntax, as master/masterconf.c reads it:
//
//	# comment
//	SECTION {
//	    name key=value key="quoted value" ...   # comment
//	}
//
// Section names are matched without regard to case, may appear more than
// once (the entries are concatenated, as Cyrus scans the whole file for each
// section), and the opening brace may sit on the header line or on a later
// line. Entry names are letters and digits only (cyrus.conf(5): "may not
// contain punctuation such as '-' or '_'"). Arguments are key=value pairs in
// any order; a value is either a double-quoted string, which ends at the next
// double quote on the same line and has no escapes, or a single word. A '#'
// outside quotes starts a comment. If a key is given twice the first value
// wins, as masterconf_getstring returns the first match.
//
// Where Cyrus is lenient, so is this package, and a little more: a brace
// on its own line, a one-line section ("EVENTS { x cmd=y period=5 }"), a '#'
// or '}' inside a quoted value (Cyrus cuts the line at any '#'), CRLF line
// endings and a byte order mark are all accepted. Where Cyrus silently
// replaces a value it cannot read by the default (prefork=abc, at=2500,
// babysit=maybe, proto=sctp) or skips text it does not recognise (an
// unknown section name, an unclosed section), this package reports an error
// naming file and line, because the silent fallback changes what master
// runs. Keys master does not read are only warned about, as Cyrus ignores
// them. SERVICES and DAEMON entries share one namespace, as in Cyrus's
// master; a repeated name there is an error, while repeated START or EVENTS
// names are only warned about, since Cyrus runs them all.
package masterconf

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"
)

// DefaultPath is the file master reads unless -M names another (master(8)).
const DefaultPath = "/etc/cyrus.conf"

// Bounds on the input, so a hostile or corrupt file cannot make the parser
// allocate without limit. Real files are a few kilobytes.
const (
	// MaxFileSize is the largest cyrus.conf accepted, in bytes.
	MaxFileSize = 1 << 20
	// MaxLineLength is the longest line accepted, in bytes without the
	// line ending. Cyrus reads lines into a 4096-byte buffer and silently
	// splits longer ones, so no working Cyrus file has longer lines.
	MaxLineLength = 4096
	// MaxArgs is the most arguments one entry may have; Cyrus's MAXARGS.
	MaxArgs = 64
)

// Defaults from cyrus.conf(5).
const (
	DefaultProto       = "tcp"
	DefaultPrefork     = 0
	DefaultMaxChild    = -1 // unlimited
	DefaultMaxFDs      = 256
	DefaultMaxForkRate = 0
	// BabysitMaxForkRate is the maxforkrate a babysat service (and every
	// DAEMON entry) gets when none is configured: Cyrus's "reasonable
	// safety" value.
	BabysitMaxForkRate = 10
)

// Config is a parsed cyrus.conf. Entries keep the order of the file.
type Config struct {
	Start    []Start
	Services []Service
	Events   []Event
	Daemons  []Daemon
}

// Start is an entry of the START section: a command master runs to
// completion, in file order, before it starts any service.
type Start struct {
	Name, Cmd string
	Line      int // line of the entry in the file
}

// Service is an entry of the SERVICES section: a listening socket and the
// command master spawns to serve it.
//
// Prefork, MaxChild, MaxForkRate and Babysit are the values master acts on,
// derived as Cyrus's add_service derives them:
//   - babysit=1 raises prefork to at least 1 and a zero maxforkrate to 10
//     (cyrus.conf(5), babysit);
//   - a udp service (proto udp, udp4 or udp6) has at most one process, which
//     serves every datagram: Prefork is capped at 1, MaxChild is 1, and
//     Babysit is false, since Cyrus only applies it to tcp services.
//
// The Raw fields keep the values as written (defaults filled in), for
// display and for comparing configurations across a reload.
type Service struct {
	Name, Cmd, Listen, Proto               string
	Prefork, MaxChild, MaxFDs, MaxForkRate int
	Babysit                                bool
	Line                                   int // line of the entry in the file

	RawPrefork, RawMaxChild, RawMaxForkRate int
	RawBabysit                              bool
}

// Event is an entry of the EVENTS section: a command run on a schedule.
//
// Without at=, master runs the command once as soon as it starts and then
// every Period after each run; with Period 0 it runs only that once (Cyrus's
// add_event schedules it for "now" and spawn_schedule drops events whose
// period is 0). With at=, the command runs every day at that local wall-clock
// time, the first time at the next occurrence after master starts, and Period
// is 24h as cyrus.conf(5) says. FirstRun and NextRun compute these times.
type Event struct {
	Name, Cmd string
	Period    time.Duration
	At        int // minutes after local midnight, -1 when unset
	Line      int // line of the entry in the file
}

// Daemon is an entry of the DAEMON section: a long-running process master
// starts, restarts when it exits, and stops at shutdown.
//
// MaxFDs and MaxForkRate are not in cyrus.conf(5), but Cyrus's add_daemon
// reads them, so they are accepted here too; MaxForkRate is 10 when not set
// or 0, as in Cyrus, and MaxFDs defaults to 256 like a service's.
type Daemon struct {
	Name, Cmd   string
	Wait        bool // wait=y: master waits for "ok\r\n" on fd 3 before going on
	MaxFDs      int
	MaxForkRate int
	Line        int // line of the entry in the file
}

// ParseError is an error at a place in a cyrus.conf file. Its text is
// "file:line: message", or "file: message" when it concerns the whole file.
type ParseError struct {
	File string
	Line int // 0 when the error is not about one line
	Err  error
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Load reads and parses the cyrus.conf at path. Errors name the path.
func Load(path string, logger *slog.Logger) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load master config: %w", err)
	}
	defer f.Close()
	return Parse(f, path, logger)
}

// Parse reads a cyrus.conf from r. name is the file name used in errors and
// warnings. Things Cyrus accepts but which are probably mistakes (unknown
// keys, a key given twice, duplicate START or EVENTS names) are logged as
// warnings on logger, or on slog.Default() when logger is nil. Errors are
// *ParseError values.
func Parse(r io.Reader, name string, logger *slog.Logger) (*Config, error) {
	if logger == nil {
		logger = slog.Default()
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, &ParseError{File: name, Err: fmt.Errorf("read: %w", err)}
	}
	if len(data) > MaxFileSize {
		return nil, &ParseError{File: name, Err: fmt.Errorf("file is larger than %d bytes", MaxFileSize)}
	}
	p := newParser(name, logger)
	if err := p.parse(data); err != nil {
		return nil, err
	}
	return &p.cfg, nil
}
