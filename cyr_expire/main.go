// Command cyr_expire is a drop-in for Cyrus's cyr_expire(8), run from
// cyrus.conf's EVENTS:
//
//	cyr_expire [-C imapd.conf] [-E dur] [-X dur] [-D dur] [-p prefix]
//	           [-u userid] [-v] [-x] [-a] [-c] [-t] [-A dur]
//
// -X removes records expunged longer ago than the duration, with their
// message files, and repacks each index (mailbox.Store.ExpireExpunged);
// -D purges delayed-delete mailboxes deleted longer ago than the duration;
// -E prunes the duplicate delivery database. Durations are days, or a
// number with a d, h, m or s suffix ("1.5d", "36h"), as in Cyrus. -p and
// -u limit -X and -D to mailboxes under a prefix or of one user; -x skips
// -X; -v prints what is done on stderr. -a and -c are accepted (there are
// no expire annotations and no conversations database); -A (archive) and
// -t (user flag cleanup) are not implemented and say so.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/duplicate"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/mboxname"
	"github.com/cyrusgo/cyrusgo/libcyrus/tool"
)

const program = "cyr_expire"

func main() {
	os.Exit(run(os.Args[1:], os.Stderr, tool.Options{}, time.Now))
}

func usage(stderr io.Writer) int {
	fmt.Fprintf(stderr, "usage: %s [-C <alt_config>] [-A <archive-duration>] [-D <delete-duration>] [-E <expire-duration>] [-X <expunge-duration>] [-p prefix] [-u username] [-a] [-c] [-t] [-x] [-v]\n", program)
	return tool.ExitUsage
}

// durationFlag is a Cyrus duration: days, or a number with a unit suffix.
type durationFlag struct {
	d   time.Duration
	set bool
}

func (f *durationFlag) String() string {
	if !f.set {
		return ""
	}
	return f.d.String()
}

func (f *durationFlag) Type() string { return "duration" }

func (f *durationFlag) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	f.d, f.set = d, true
	return nil
}

// parseDuration reads "60" (days), "1.5d", "36h", "30m", "10s".
func parseDuration(s string) (time.Duration, error) {
	unit := 24 * time.Hour
	num := s
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'd':
			num = s[:n-1]
		case 'h':
			unit, num = time.Hour, s[:n-1]
		case 'm':
			unit, num = time.Minute, s[:n-1]
		case 's':
			unit, num = time.Second, s[:n-1]
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || v > 1e6 {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	return time.Duration(v * float64(unit)), nil
}

func run(args []string, stderr io.Writer, o tool.Options, now func() time.Time) int {
	fs, confPath := tool.Flags(program, stderr)
	var archive, del, expire, expunge durationFlag
	fs.VarP(&archive, "archive", "A", "archive messages older than this (not implemented)")
	fs.VarP(&del, "delete", "D", "purge mailboxes deleted longer ago than this")
	fs.VarP(&expire, "expire", "E", "prune duplicate delivery records older than this")
	fs.VarP(&expunge, "expunge", "X", "remove messages expunged longer ago than this")
	prefix := fs.StringP("prefix", "p", "", "only mailboxes under this prefix")
	userid := fs.StringP("user", "u", "", "only mailboxes of this user")
	verbose := fs.CountP("verbose", "v", "say what is done")
	noExpunge := fs.BoolP("no-expunge", "x", false, "do not remove expunged messages")
	fs.BoolP("skip-annotate", "a", false, "ignore expire annotations (there are none)")
	fs.BoolP("no-conversations", "c", false, "no conversations database to expire")
	userFlags := fs.BoolP("userflags", "t", false, "remove unused user flags (not implemented)")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return usage(stderr)
	}
	// As Cyrus: at least one of -A -D -E -X -t.
	if fs.NArg() != 0 || !archive.set && !del.set && !expire.set && !expunge.set && !*userFlags {
		return usage(stderr)
	}
	env, code := tool.OpenStore(program, *confPath, stderr, o)
	if env == nil {
		return code
	}
	defer env.Close()
	s, logger := env.Store, env.Logger
	x := &expirer{s: s, log: logger, stderr: stderr, verbose: *verbose > 0, now: now()}
	x.prefix = *prefix
	if *userid != "" {
		ns := s.Namespace()
		id, err := ns.CanonicalUserID(*userid)
		if err != nil {
			env.Report(err)
			return tool.ExitUsage
		}
		x.prefix = mboxname.UserInbox(id)
	} else if x.prefix != "" {
		ns := s.Namespace()
		ns.Admin = true
		if in, err := ns.ToInternal(x.prefix, ""); err == nil && mboxname.Validate(x.prefix) != nil {
			x.prefix = in
		}
	}
	if archive.set {
		x.say("archiving (-A) is not supported: there are no archive partitions")
	}
	if *userFlags {
		x.say("user flag cleanup (-t) is not supported")
	}
	code = 0
	if expunge.set && !*noExpunge {
		if err := x.expunged(expunge.d); err != nil {
			env.Report(err)
			code = 1
		}
	}
	if del.set {
		if err := x.deleted(del.d); err != nil {
			env.Report(err)
			code = 1
		}
	}
	if expire.set {
		db, err := env.DBs.DB(cyrusdb.Deliver)
		if err == nil {
			_, _, err = duplicate.Expire(db, expire.d, time.Now(), logger)
		}
		if err != nil {
			env.Report(err)
			code = 1
		}
	}
	return code
}

type expirer struct {
	s       *mailbox.Store
	log     *slog.Logger
	stderr  io.Writer
	verbose bool
	now     time.Time
	prefix  string
}

func (x *expirer) say(format string, args ...any) {
	if x.verbose {
		fmt.Fprintf(x.stderr, format+"\n", args...)
	}
}

// under reports whether name is the prefix mailbox or below it.
func (x *expirer) under(name string) bool {
	p := x.prefix
	return p == "" || name == p || strings.HasPrefix(name, p+".")
}

// expunged is -X: every mailbox, delayed-delete ones included (their
// expunged messages go too, as in Cyrus).
func (x *expirer) expunged(d time.Duration) error {
	x.say("Expunging deleted messages in mailboxes older than %0.2f days", d.Hours()/24)
	cutoff := x.now.Add(-d)
	var names []string
	collect := func(e *mailbox.Entry) error {
		if x.under(e.Name) || e.Deleted && x.under(strings.TrimPrefix(e.Name, "DELETED.")) {
			names = append(names, e.Name)
		}
		return nil
	}
	if err := x.s.Entries("", collect); err != nil {
		return err
	}
	var removed, failed int
	for _, name := range names {
		n, err := x.s.ExpireExpunged(name, cutoff)
		if err != nil {
			failed++
			x.log.Error(fmt.Sprintf("expunge %s: %v", name, err))
			fmt.Fprintf(x.stderr, "%s: %s: %v\n", program, name, err)
			continue
		}
		if n > 0 {
			x.say("%s: removed %d expunged messages", name, n)
		}
		removed += n
	}
	msg := fmt.Sprintf("Expired 0 and expunged %d messages from %d mailboxes", removed, len(names))
	x.log.Log(context.Background(), logging.LevelNotice, msg)
	x.say("\n%s", msg)
	if failed > 0 {
		return fmt.Errorf("%d mailboxes could not be expunged", failed)
	}
	return nil
}

// deleted is -D: purge delayed-delete mailboxes deleted before the
// cutoff.
func (x *expirer) deleted(d time.Duration) error {
	x.say("Removing deleted mailboxes older than %0.2f days", d.Hours()/24)
	cutoff := x.now.Add(-d).Unix()
	var victims []*mailbox.Entry
	err := x.s.ListDeleted(func(e *mailbox.Entry) error {
		when := e.DeletedAt
		if when == 0 {
			when = e.Created // deleted before the time was kept
		}
		if when <= cutoff && x.under(deletedOrigin(e.Name)) {
			victims = append(victims, e)
		}
		return nil
	})
	if err != nil {
		return err
	}
	count := 0
	for _, e := range victims {
		x.say("Removing: %s", e.Name)
		if err := x.s.Purge(e); err != nil {
			x.log.Error(fmt.Sprintf("purge %s: %v", e.Name, err))
			fmt.Fprintf(x.stderr, "%s: %s: %v\n", program, e.Name, err)
			continue
		}
		count++
	}
	if count == 1 {
		x.say("Removed 1 deleted mailbox")
	} else {
		x.say("Removed %d deleted mailboxes", count)
	}
	x.log.Log(context.Background(), logging.LevelNotice, fmt.Sprintf("Removed %d deleted mailboxes", count))
	return nil
}

// deletedOrigin is the original name in DELETED.<name>.<uniqueid>.
func deletedOrigin(name string) string {
	n := strings.TrimPrefix(name, "DELETED.")
	if i := strings.LastIndexByte(n, '.'); i >= 0 {
		n = n[:i]
	}
	return n
}
