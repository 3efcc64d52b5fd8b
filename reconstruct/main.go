// Command reconstruct is a drop-in for Cyrus's reconstruct(8): it checks
// mailboxes against their message files and rebuilds what is wrong (the
// logic is mailbox.Store.Reconstruct):
//
//	reconstruct [-C imapd.conf] [-r] [-f] [-n] [-q] [mailbox...]
//
// -r also does every mailbox below each one named; -f also finds mailbox
// directories on disk that the mailbox list lacks (below the named ones,
// or everywhere) and adds them; -n reports and changes nothing, exiting 1
// when something needs fixing. With no mailbox every mailbox is done.
// Names are internal (user.alice) or as an admin writes them
// (user/alice). Each fix is one line on stdout; a Cyrus spool directory
// is adopted, its flags lost, and the line says so.
package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/tool"
)

const program = "reconstruct"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, tool.Options{}))
}

func usage(stderr io.Writer) int {
	fmt.Fprintf(stderr, "usage: %s [-C <alt_config>] [-r] [-f] [-n] [-q] [mailbox...]\n", program)
	return tool.ExitUsage
}

func run(args []string, stdout, stderr io.Writer, o tool.Options) int {
	fs, confPath := tool.Flags(program, stderr)
	recurse := fs.BoolP("recurse", "r", false, "also reconstruct the mailboxes below each one named")
	find := fs.BoolP("find", "f", false, "add mailbox directories that are not in the mailbox list")
	dryRun := fs.BoolP("dry-run", "n", false, "report what is wrong, change nothing")
	fs.BoolP("quiet", "q", false, "accepted for Cyrus compatibility; only fixes are printed anyway")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return usage(stderr)
	}
	if *recurse && fs.NArg() == 0 {
		// As Cyrus: -r needs a mailbox to recurse from.
		fmt.Fprintf(stderr, "%s: please specify a mailbox to recurse from\n", program)
		return usage(stderr)
	}
	env, code := tool.OpenStore(program, *confPath, stderr, o)
	if env == nil {
		return code
	}
	defer env.Close()
	r := &runner{s: env.Store, log: env.Logger, stdout: stdout, stderr: stderr, opts: mailbox.ReconstructOptions{DryRun: *dryRun}}
	var names []string
	if fs.NArg() == 0 {
		var err error
		names, err = r.listed("")
		if err != nil {
			env.Report(err)
			return tool.Status(err)
		}
		if *find {
			r.adoptUnder("")
		}
	}
	for _, arg := range fs.Args() {
		name := r.internal(arg)
		names = append(names, name)
		if *recurse {
			below, err := r.listed(name + ".")
			if err != nil {
				env.Report(err)
				return tool.Status(err)
			}
			names = append(names, below...)
		}
		if *find {
			r.adoptUnder(name)
		}
	}
	for _, name := range names {
		r.do(name, false, "")
	}
	if r.failed {
		return 1
	}
	if *dryRun && r.fixes > 0 {
		return 1
	}
	return 0
}

type runner struct {
	s              *mailbox.Store
	log            *slog.Logger
	stdout, stderr io.Writer
	opts           mailbox.ReconstructOptions
	fixes          int
	failed         bool
	done           map[string]bool
}

// internal turns a command-line name into an internal one: as given when
// the mailbox list knows it, else read as an admin's external name.
func (r *runner) internal(arg string) string {
	if _, err := r.s.Lookup(arg); err == nil {
		return arg
	}
	ns := r.s.Namespace()
	ns.Admin = true
	in, err := ns.ToInternal(arg, "")
	if err != nil {
		return arg
	}
	if _, err := r.s.Lookup(in); err == nil || strings.ContainsRune(arg, rune(ns.Separator())) && ns.Separator() != '.' {
		return in
	}
	return arg
}

// listed returns every listed mailbox whose name starts with prefix.
func (r *runner) listed(prefix string) ([]string, error) {
	var names []string
	err := r.s.List(acl.Identity{Admin: true}, prefix, func(e *mailbox.Entry, _ acl.Rights) error {
		names = append(names, e.Name)
		return nil
	})
	return names, err
}

// adoptUnder reconstructs, adding to the list, every unlisted mailbox
// directory whose name starts with name.
func (r *runner) adoptUnder(name string) {
	found, err := r.s.FindUnlisted(name)
	if err != nil {
		r.error(name, err)
		return
	}
	for _, u := range found {
		r.do(u.Name, true, u.Partition)
	}
}

func (r *runner) do(name string, adopt bool, partition string) {
	if r.done == nil {
		r.done = map[string]bool{}
	}
	if r.done[name] {
		return
	}
	r.done[name] = true
	opts := r.opts
	opts.Adopt, opts.Partition = adopt, partition
	rep, err := r.s.Reconstruct(name, opts)
	for _, l := range rep.Fixes {
		fmt.Fprintln(r.stdout, l)
		if !opts.DryRun {
			r.log.Info("reconstruct: " + l)
		}
	}
	r.fixes += len(rep.Fixes)
	if err != nil {
		r.error(name, err)
	}
}

func (r *runner) error(name string, err error) {
	r.failed = true
	if errors.Is(err, mailbox.ErrNonexistent) {
		err = errors.New("Mailbox does not exist")
	}
	fmt.Fprintf(r.stderr, "%s: %s: %v\n", program, name, err)
	r.log.Error(fmt.Sprintf("reconstruct %s: %v", name, err))
}
