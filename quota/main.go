// Command quota is a drop-in for Cyrus's quota(8): it reports quota roots
// and, with -f, fixes their usage.
//
//	quota [-C imapd.conf] [-d domain] [-f] [-n] [-q] [-u] [root...]
//
// The report has Cyrus's columns and one line per resource (STORAGE in
// KiB, MESSAGE, X-ANNOTATION-STORAGE, X-NUM-FOLDERS) for each root whose
// name starts with one of the given prefixes (all roots without any).
// -f reads the index header of every mailbox under each root, writes each
// mailbox's usage (absolute values, as the store does) and removes stale
// entries, printing on stderr, as Cyrus does, "<root>: <resource> usage
// was X, now Y" where a total changes; -n with -f only reports. -q leaves
// out the report, -u takes userids instead of roots, -d limits to a
// domain.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/mboxname"
	"github.com/cyrusgo/cyrusgo/libcyrus/quota"
	"github.com/cyrusgo/cyrusgo/libcyrus/tool"
)

const program = "quota"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, tool.Options{}))
}

func usage(stderr io.Writer) int {
	fmt.Fprintf(stderr, "usage: %s [-C <alt_config>] [-d <domain>] [-f] [-n] [-q] [-u] [prefix]...\n", program)
	return tool.ExitUsage
}

func run(args []string, stdout, stderr io.Writer, o tool.Options) int {
	fs, confPath := tool.Flags(program, stderr)
	fix := fs.BoolP("fix", "f", false, "fix the usage of the quota roots")
	reportOnly := fs.BoolP("report-only", "n", false, "with -f: report what is wrong, change nothing")
	quiet := fs.BoolP("quiet", "q", false, "do not print the quota report")
	users := fs.BoolP("users", "u", false, "the arguments are userids")
	domain := fs.StringP("domain", "d", "", "only roots of this domain")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return usage(stderr)
	}
	if *reportOnly && !*fix {
		return usage(stderr)
	}
	env, code := tool.OpenStore(program, *confPath, stderr, o)
	if env == nil {
		return code
	}
	defer env.Close()
	s := env.Store
	q := &quotaTool{s: s, q: s.Quota(), ns: s.Namespace(), stdout: stdout, stderr: stderr}
	q.ns.Admin = true
	prefixes, err := q.prefixes(fs.Args(), *users, *domain)
	if err != nil {
		env.Report(err)
		return tool.ExitUsage
	}
	roots, err := q.roots(prefixes)
	if err != nil {
		env.Report(err)
		return 1
	}
	if *fix {
		for _, r := range roots {
			if err := q.fix(r, !*reportOnly); err != nil {
				env.Report(err)
				return 1
			}
		}
	}
	if !*quiet {
		if err := q.report(roots); err != nil {
			env.Report(err)
			return 1
		}
	}
	return 0
}

type quotaTool struct {
	s              *mailbox.Store
	q              *quota.Quota
	ns             mboxname.Namespace
	stdout, stderr io.Writer
}

// prefixes turns the arguments into internal name prefixes of roots.
func (t *quotaTool) prefixes(args []string, users bool, domain string) ([]string, error) {
	dom := ""
	if domain != "" {
		dom = strings.ToLower(domain) + "!"
	}
	if len(args) == 0 {
		return []string{dom}, nil
	}
	var out []string
	for _, a := range args {
		if users {
			id, err := t.ns.CanonicalUserID(a)
			if err != nil {
				return nil, err
			}
			out = append(out, mboxname.UserInbox(id))
			continue
		}
		// External names as Cyrus's quota takes them, and the internal
		// form admins often type (user.alice under unixhierarchysep).
		in, err := t.ns.ToInternal(a, "")
		if err == nil {
			out = append(out, dom+in)
		}
		if in != a && mboxname.Validate(a) == nil {
			out = append(out, dom+a)
		} else if err != nil {
			return nil, err
		}
	}
	return out, nil
}

type root struct {
	name   string
	limits quota.Limits
}

func (t *quotaTool) roots(prefixes []string) ([]root, error) {
	var out []root
	seen := map[string]bool{}
	for _, p := range prefixes {
		err := t.q.Roots(p, func(name string, l quota.Limits) error {
			if !seen[name] {
				seen[name] = true
				out = append(out, root{name, l})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// governed lists the mailboxes whose quota root is root: root itself and
// those below it that no nearer root claims.
func (t *quotaTool) governed(root string) ([]string, error) {
	var names []string
	visit := func(e *mailbox.Entry, _ acl.Rights) error {
		if e.Name != root && !strings.HasPrefix(e.Name, root+".") {
			return nil
		}
		r, ok, err := t.q.Root(e.Name)
		if err != nil {
			return err
		}
		if ok && r == root {
			names = append(names, e.Name)
		}
		return nil
	}
	err := t.s.List(acl.Identity{Admin: true}, root, visit)
	return names, err
}

// fix recomputes the usage of every mailbox under root from its index
// header and, with write, stores it and drops entries of mailboxes that
// are gone or now under another root.
func (t *quotaTool) fix(r root, write bool) error {
	names, err := t.governed(r.name)
	if err != nil {
		return err
	}
	want := map[string]quota.Usage{}
	var total quota.Usage
	for _, n := range names {
		u, err := t.s.MailboxUsage(n)
		if err != nil {
			fmt.Fprintf(t.stderr, "%s: %v\n", n, err)
			continue
		}
		want[n] = u
		total.Bytes += u.Bytes
		total.Messages += u.Messages
	}
	have := map[string]quota.Usage{}
	if err := t.q.Mailboxes(r.name, func(mb string, u quota.Usage) error {
		have[mb] = u
		return nil
	}); err != nil {
		return err
	}
	old, err := t.q.Usage(r.name)
	if err != nil {
		return err
	}
	if old.Bytes != total.Bytes {
		fmt.Fprintf(t.stderr, "%s: STORAGE usage was %d, now %d\n", r.name, old.Bytes, total.Bytes)
	}
	if old.Messages != total.Messages {
		fmt.Fprintf(t.stderr, "%s: MESSAGE usage was %d, now %d\n", r.name, old.Messages, total.Messages)
	}
	if !write {
		return nil
	}
	for n, u := range want {
		if h, ok := have[n]; !ok || h != u {
			if err := t.q.SetMailboxUsage(r.name, n, u); err != nil {
				return err
			}
		}
	}
	for n := range have {
		if _, ok := want[n]; !ok {
			if err := t.q.RemoveMailbox(r.name, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// report prints Cyrus's quota table.
func (t *quotaTool) report(roots []root) error {
	fmt.Fprintf(t.stdout, "   Quota   %% Used     Used             Resource Root\n")
	for _, r := range roots {
		u, err := t.q.Usage(r.name)
		if err != nil {
			return err
		}
		folders, err := t.governed(r.name)
		if err != nil {
			return err
		}
		ext, err := t.ns.ToExternal(r.name, "")
		if err != nil {
			ext = r.name
		}
		line := func(limit, used, unit int64, res string) {
			switch {
			case limit > 0:
				fmt.Fprintf(t.stdout, " %7d %8d", limit, used/unit*100/limit)
			case limit == 0:
				fmt.Fprintf(t.stdout, "       0         ")
			default:
				fmt.Fprintf(t.stdout, "                 ")
			}
			fmt.Fprintf(t.stdout, " %8d %20s %s\n", used/unit, res, ext)
		}
		line(r.limits.Storage, u.Bytes, 1024, "STORAGE")
		line(r.limits.Message, u.Messages, 1, "MESSAGE")
		line(quota.Unlimited, 0, 1024, "X-ANNOTATION-STORAGE")
		line(quota.Unlimited, int64(len(folders)), 1, "X-NUM-FOLDERS")
	}
	return nil
}
