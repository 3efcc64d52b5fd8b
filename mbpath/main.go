// Command mbpath is a drop-in for Cyrus's mbpath(8): it prints where a
// mailbox's files are.
//
//	mbpath [-C imapd.conf] [-m] [-q] [-s] [-u] mailbox...
//
// It prints the data directory (the <uid>. message files), or with -m the
// metadata directory (cyrusgo.header, .index, .cache), one line per
// mailbox. -q prints nothing for a mailbox that does not exist, -s stops
// at the first one, -u takes userids and prints their INBOX's path. Names
// are as an admin writes them (user/alice) or internal (user.alice).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/mboxname"
	"github.com/cyrusgo/cyrusgo/libcyrus/tool"
)

const program = "mbpath"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, tool.Options{}))
}

func usage(stderr io.Writer) int {
	fmt.Fprintf(stderr, "usage: %s [-C <alt_config>] [-m] [-q] [-s] [-u] <mailbox name>...\n", program)
	return tool.ExitUsage
}

func run(args []string, stdout, stderr io.Writer, o tool.Options) int {
	fs, confPath := tool.Flags(program, stderr)
	meta := fs.BoolP("metadata", "m", false, "print the metadata directory")
	quiet := fs.BoolP("quiet", "q", false, "say nothing about mailboxes that do not exist")
	stop := fs.BoolP("stop", "s", false, "stop at the first error")
	users := fs.BoolP("users", "u", false, "the arguments are userids")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return usage(stderr)
	}
	if fs.NArg() == 0 {
		return usage(stderr)
	}
	env, code := tool.OpenStore(program, *confPath, stderr, o)
	if env == nil {
		return code
	}
	defer env.Close()
	s := env.Store
	ns := s.Namespace()
	ns.Admin = true
	code = 0
	for _, arg := range fs.Args() {
		e, err := lookup(s, ns, arg, *users)
		if err == nil {
			var data, metaDir string
			data, metaDir, err = s.Dirs(e)
			if err == nil {
				if *meta {
					data = metaDir
				}
				fmt.Fprintln(stdout, data)
				continue
			}
		}
		code = 1
		if !*quiet {
			if errors.Is(err, mailbox.ErrNonexistent) {
				err = errors.New("Mailbox does not exist")
			}
			fmt.Fprintf(stderr, "Invalid mailbox name: %s (%v)\n", arg, err)
		}
		if *stop {
			break
		}
	}
	return code
}

// lookup finds a mailbox by internal name, by an admin's external name,
// or (users) by its owner's userid.
func lookup(s *mailbox.Store, ns mboxname.Namespace, arg string, users bool) (*mailbox.Entry, error) {
	if users {
		id, err := ns.CanonicalUserID(arg)
		if err != nil {
			return nil, err
		}
		return s.Lookup(mboxname.UserInbox(id))
	}
	e, err := s.Lookup(arg)
	if err == nil || !errors.Is(err, mailbox.ErrNonexistent) {
		return e, err
	}
	in, cerr := ns.ToInternal(arg, "")
	if cerr != nil || in == arg {
		return nil, err
	}
	return s.Lookup(in)
}
