// Command ctl_deliver is a drop-in for Cyrus's ctl_deliver(8), the tool of
// the duplicate delivery database:
//
//	ctl_deliver [-C imapd.conf] -d [-f dbdir]   print every record
//	ctl_deliver [-C imapd.conf] -E days         prune records older than that
//
// -d prints in Cyrus's format (it is NOW, one "id: ... to: ... at: ...
// uid: ..." line per record, got N entries). -E is Cyrus 2.x's pruning,
// which 3.x configurations still run from cron or an EVENTS entry; it
// logs what it pruned as Cyrus's duplicate_prune does. Both work through
// master's database socket while master runs and on the files when it
// does not. -f names a deliver database directory to read instead of
// <configdirectory>/db/deliver.
package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/duplicate"
	"github.com/cyrusgo/cyrusgo/libcyrus/tool"
)

const program = "ctl_deliver"

// exitUsage is Cyrus's exit(-1).
const exitUsage = 255

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr, tool.Options{}, time.Now))
}

func usage(stderr io.Writer) int {
	fmt.Fprintf(stderr, "%s [-C <altconfig>] -d [-f <dbfile>]\n", program)
	return exitUsage
}

type options struct {
	config string
	file   string
	dump   bool
	prune  bool
	days   string
}

// parseArgs is getopt_long with Cyrus's "C:E:df:", --dump and
// --filename; an option given twice, or -d with -E, is a usage error.
func parseArgs(args []string, stderr io.Writer) (options, bool) {
	var o options
	argv0 := program
	if len(args) > 0 {
		argv0, args = args[0], args[1:]
	}
	set := func(dst *string, v string) bool {
		if *dst != "" {
			return false
		}
		*dst = v
		return true
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return o, i+1 == len(args)
		case a == "--dump":
			if o.dump || o.prune {
				return o, false
			}
			o.dump = true
			continue
		case strings.HasPrefix(a, "--filename"):
			v, ok := strings.CutPrefix(a, "--filename=")
			if !ok {
				if a != "--filename" || i+1 >= len(args) {
					fmt.Fprintf(stderr, "%s: option '--filename' requires an argument\n", argv0)
					return o, false
				}
				i++
				v = args[i]
			}
			if !set(&o.file, v) {
				return o, false
			}
			continue
		case !strings.HasPrefix(a, "-") || a == "-" || strings.HasPrefix(a, "--"):
			if strings.HasPrefix(a, "--") {
				fmt.Fprintf(stderr, "%s: unrecognized option '%s'\n", argv0, a)
			}
			return o, false
		}
		for j := 1; j < len(a); j++ {
			c := a[j]
			switch c {
			case 'd':
				if o.dump || o.prune {
					return o, false
				}
				o.dump = true
				continue
			case 'C', 'E', 'f':
			default:
				fmt.Fprintf(stderr, "%s: invalid option -- '%c'\n", argv0, c)
				return o, false
			}
			v := a[j+1:]
			if v == "" {
				if i+1 >= len(args) {
					fmt.Fprintf(stderr, "%s: option requires an argument -- '%c'\n", argv0, c)
					return o, false
				}
				i++
				v = args[i]
			}
			ok := true
			switch c {
			case 'C':
				o.config = v
			case 'f':
				ok = set(&o.file, v)
			case 'E':
				if o.dump || o.prune {
					return o, false
				}
				o.prune, o.days = true, v
			}
			if !ok {
				return o, false
			}
			break
		}
	}
	return o, o.dump || o.prune
}

// parseAge reads -E's argument: days, possibly fractional, or a number
// with a unit (s, m, h, d) as cyr_expire takes it.
func parseAge(s string) (time.Duration, error) {
	unit := 24 * time.Hour
	num := s
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 's':
			unit, num = time.Second, s[:n-1]
		case 'm':
			unit, num = time.Minute, s[:n-1]
		case 'h':
			unit, num = time.Hour, s[:n-1]
		case 'd':
			num = s[:n-1]
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("bad age %q: must specify positive number of days", s)
	}
	return time.Duration(f * float64(unit)), nil
}

func run(args []string, stdout, stderr io.Writer, to tool.Options, now func() time.Time) int {
	o, ok := parseArgs(args, stderr)
	if !ok {
		return usage(stderr)
	}
	var age time.Duration
	if o.prune {
		var err error
		if age, err = parseAge(o.days); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", program, err)
			return usage(stderr)
		}
	}
	confPath := o.config
	if confPath == "" {
		confPath = config.DefaultPath
	}
	env, code := tool.Start(program, confPath, stderr, to)
	if env == nil {
		return code
	}
	cfg, logger := env.Config, env.Logger
	db, closeDB, err := openDeliver(cfg.String(config.ConfigDirectory), o.file, logger)
	if err != nil {
		logger.Error(fmt.Sprintf("DBERROR: opening deliver database: %v", err))
		fmt.Fprintf(stderr, "%s: unable to init duplicate delivery database\n", program)
		return 1
	}
	defer closeDB()
	if o.prune {
		if _, _, err := duplicate.Expire(db, age, now(), logger); err != nil {
			logger.Error(fmt.Sprintf("DBERROR: %v", err))
			fmt.Fprintf(stderr, "%s: %v\n", program, err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stdout, "it is NOW: %d\n", now().Unix())
	n, err := duplicate.Dump(db, stdout)
	if err != nil {
		logger.Error(fmt.Sprintf("DBERROR: %v", err))
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return 1
	}
	fmt.Fprintf(stdout, "got %d entries\n", n)
	return 0
}

// openDeliver opens the deliver database: the one master serves (or the
// files, with master down), or the database directory file.
func openDeliver(configDir, file string, logger *slog.Logger) (cyrusdb.DB, func(), error) {
	if file != "" {
		l, err := cyrusdb.OpenLevel(file, cyrusdb.WithLogger(logger))
		if err != nil {
			return nil, nil, err
		}
		return l, func() { l.Close() }, nil
	}
	h, err := cyrusdb.Open(configDir, logger)
	if err != nil {
		return nil, nil, err
	}
	db, err := h.DB(cyrusdb.Deliver)
	if err != nil {
		h.Close()
		return nil, nil, err
	}
	return db, func() { h.Close() }, nil
}
