// Command bench measures an IMAP/POP3/LMTP server: cyrusgo, which it
// starts itself in a temporary directory when given no address, or any
// other (Cyrus, Dovecot) by host and port. With --vs it measures two
// servers workload by workload and prints their ratio, which holds on a
// noisy machine where absolute figures do not. Results go to stdout as a
// table or JSON; a progress bar goes to stderr when it is a terminal.
//
// The go test -bench benchmarks of this directory (imap_test.go) are a
// separate, older set that runs through test/harness.
package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/pflag"
)

const program = "bench"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// endpoint is how one server is given on the command line.
type endpoint struct {
	name, imap, pop3, lmtp, user, pass, rcpt string
}

func (e endpoint) empty() bool { return e.imap == "" && e.pop3 == "" && e.lmtp == "" }

// options are the parsed flags.
type options struct {
	a, b      endpoint
	vs        string
	bin       string
	keep      bool
	workloads []string
	sz        sizes
	format    string
	jsonPath  string
	progress  bool
}

// defaultSizes finish in a few minutes on a small machine, the
// million-message mailbox apart, whose setup takes most of the time.
func defaultSizes() sizes {
	return sizes{LMTPMessages: 2000, LMTPConns: 8, LargeMessages: 20, LargeSize: 1 << 20,
		Clients: 8, Sessions: 400, MixMessages: 1000, Idle: 200,
		Big: 1000000, Search: 100000, POP3: 1000, Repeat: 3}
}

// smokeSizes run every workload once in seconds.
func smokeSizes() sizes {
	return sizes{LMTPMessages: 20, LMTPConns: 8, LargeMessages: 2, LargeSize: 1 << 20,
		Clients: 2, Sessions: 6, MixMessages: 30, Idle: 10,
		Big: 500, Search: 300, POP3: 20, Repeat: 1}
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := pflag.NewFlagSet(program, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	def := defaultSizes()
	fs.StringVar(&o.a.imap, "imap", "", "IMAP server host:port (no address at all: start cyrusgo)")
	fs.StringVar(&o.a.pop3, "pop3", "", "POP3 server host:port")
	fs.StringVar(&o.a.lmtp, "lmtp", "", "LMTP server host:port (must not need AUTH)")
	fs.StringVar(&o.a.user, "user", "bench", "account to log in as")
	fs.StringVar(&o.a.pass, "password", "bench", "its password")
	fs.StringVar(&o.a.rcpt, "rcpt", "", "LMTP recipient (default: --user)")
	fs.StringVar(&o.a.name, "name", "", "label of the server in the results (default: cyrusgo or its IMAP address)")
	fs.StringVar(&o.vs, "vs", "", `second server: "self" for another self-started cyrusgo, or a host whose standard ports (143, 110, 24) are used unless --vs-imap and the like say otherwise`)
	fs.StringVar(&o.b.imap, "vs-imap", "", "second server's IMAP host:port")
	fs.StringVar(&o.b.pop3, "vs-pop3", "", "second server's POP3 host:port")
	fs.StringVar(&o.b.lmtp, "vs-lmtp", "", "second server's LMTP host:port")
	fs.StringVar(&o.b.user, "vs-user", "", "second server's account (default: --user)")
	fs.StringVar(&o.b.pass, "vs-password", "", "its password (default: --password)")
	fs.StringVar(&o.b.rcpt, "vs-rcpt", "", "second server's LMTP recipient (default: its user)")
	fs.StringVar(&o.b.name, "vs-name", "", "label of the second server")
	fs.StringVar(&o.bin, "bin", "", "directory of cyrusgo's binaries for a self-started server (default: beside this program, else go build)")
	fs.BoolVar(&o.keep, "keep", false, "keep the self-started servers' directories")
	fs.StringSliceVar(&o.workloads, "workloads", nil, "workloads to run, comma-separated (default all: "+strings.Join(workloadNames(), ",")+")")
	fs.IntVar(&o.sz.LMTPMessages, "lmtp-messages", def.LMTPMessages, "messages of lmtp1 and of lmtp8")
	fs.IntVar(&o.sz.LMTPConns, "lmtp-conns", def.LMTPConns, "connections of lmtp8")
	fs.IntVar(&o.sz.LargeMessages, "large-messages", def.LargeMessages, "messages of lmtp1mb")
	fs.IntVar(&o.sz.LargeSize, "large-size", def.LargeSize, "bytes of each lmtp1mb message")
	fs.IntVar(&o.sz.Clients, "clients", def.Clients, "concurrent clients of imap-mix")
	fs.IntVar(&o.sz.Sessions, "sessions", def.Sessions, "imap-mix sessions in all")
	fs.IntVar(&o.sz.MixMessages, "mix-messages", def.MixMessages, "messages of the imap-mix mailbox")
	fs.IntVar(&o.sz.Idle, "idle", def.Idle, "connections of imap-idle")
	fs.IntVar(&o.sz.Big, "big", def.Big, "messages of the select-big mailbox")
	fs.IntVar(&o.sz.Search, "search-messages", def.Search, "messages of the search mailbox")
	fs.IntVar(&o.sz.POP3, "pop3-messages", def.POP3, "messages INBOX is topped up to before pop3")
	fs.IntVar(&o.sz.Repeat, "repeat", def.Repeat, "times select-big and search run each command")
	smoke := fs.Bool("smoke", false, "tiny sizes: every workload once, in seconds (size flags given too still apply)")
	fs.StringVar(&o.format, "format", "table", "stdout format: table or json")
	fs.StringVar(&o.jsonPath, "json", "", "also write the results as JSON to this file")
	noProgress := fs.Bool("no-progress", false, "no progress bar even on a terminal")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	o.progress = !*noProgress
	if *smoke {
		// Smoke sizes, except where a size flag was given.
		s := smokeSizes()
		set := map[string]*int{"lmtp-messages": &s.LMTPMessages, "lmtp-conns": &s.LMTPConns,
			"large-messages": &s.LargeMessages, "large-size": &s.LargeSize, "clients": &s.Clients,
			"sessions": &s.Sessions, "mix-messages": &s.MixMessages, "idle": &s.Idle, "big": &s.Big,
			"search-messages": &s.Search, "pop3-messages": &s.POP3, "repeat": &s.Repeat}
		fs.Visit(func(f *pflag.Flag) {
			if p, ok := set[f.Name]; ok {
				fmt.Sscan(f.Value.String(), p)
			}
		})
		o.sz = s
	}
	for name, v := range map[string]int{"lmtp-messages": o.sz.LMTPMessages, "lmtp-conns": o.sz.LMTPConns,
		"large-size": o.sz.LargeSize, "clients": o.sz.Clients, "sessions": o.sz.Sessions,
		"mix-messages": o.sz.MixMessages, "idle": o.sz.Idle, "big": o.sz.Big,
		"search-messages": o.sz.Search, "repeat": o.sz.Repeat} {
		if v <= 0 {
			return nil, fmt.Errorf("--%s %d: want a positive number", name, v)
		}
	}
	if o.sz.LargeMessages < 0 || o.sz.POP3 < 0 {
		return nil, fmt.Errorf("--large-messages and --pop3-messages may not be negative")
	}
	if o.format != "table" && o.format != "json" {
		return nil, fmt.Errorf("--format %q: want table or json", o.format)
	}
	known := workloadNames()
	for _, w := range o.workloads {
		if !slices.Contains(known, w) {
			return nil, fmt.Errorf("unknown workload %q (have %s)", w, strings.Join(known, ", "))
		}
	}
	if o.a.rcpt == "" {
		o.a.rcpt = o.a.user
	}
	if o.b.user == "" {
		o.b.user = o.a.user
	}
	if o.b.pass == "" {
		o.b.pass = o.a.pass
	}
	if o.b.rcpt == "" {
		o.b.rcpt = o.b.user
	}
	if o.vs != "" && o.vs != "self" && o.b.empty() {
		o.b.imap, o.b.pop3, o.b.lmtp = o.vs+":143", o.vs+":110", o.vs+":24"
	}
	if o.vs == "self" && !o.b.empty() {
		return nil, fmt.Errorf("--vs self starts a server: give no --vs-imap, --vs-pop3 or --vs-lmtp with it")
	}
	return o, nil
}

func workloadNames() []string {
	var out []string
	for _, w := range allWorkloads() {
		out = append(out, w.name)
	}
	return out
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if err == pflag.ErrHelp {
			return 0
		}
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return 2
	}
	// The servers are stopped and their directories removed after the
	// error is printed: removing a million message files takes a while.
	// A signal during the cleanup waits for it too.
	cl := &cleanup{}
	stopSignals := cl.onSignal(stderr)
	defer stopSignals()
	defer cl.run()
	rep, err := measure(o, cl, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return 1
	}
	if o.jsonPath != "" {
		f, err := os.Create(o.jsonPath)
		if err == nil {
			err = rep.writeJSON(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", program, err)
			return 1
		}
	}
	if o.format == "json" {
		err = rep.writeJSON(stdout)
	} else {
		err = rep.writeTable(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return 1
	}
	return 0
}

// selected are the workloads to run, in their fixed order.
func (o *options) selected() []workload {
	var out []workload
	for _, w := range allWorkloads() {
		if len(o.workloads) == 0 || slices.Contains(o.workloads, w.name) {
			out = append(out, w)
		}
	}
	return out
}

// measure sets the servers up, runs the workloads and builds the report.
func measure(o *options, cl *cleanup, stderr io.Writer) (*report, error) {
	b := &bench{sz: o.sz, pr: newProgress(o.progress), run: fmt.Sprintf("%x", time.Now().UnixNano())}
	works := o.selected()
	rep := &report{Machine: machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Started: time.Now().UTC().Format(time.RFC3339)}, Sizes: o.sz}
	a, err := b.setup(o, o.a, !o.a.empty(), "cyrusgo", works, cl, stderr)
	if err != nil {
		return nil, err
	}
	servers := []*server{a}
	if o.vs != "" || !o.b.empty() {
		name := "cyrusgo-2"
		if a.self == nil {
			name = "cyrusgo"
		}
		bs, err := b.setup(o, o.b, o.vs != "self", name, works, cl, stderr)
		if err != nil {
			return nil, err
		}
		if bs.name == a.name {
			bs.name += "-2"
		}
		servers = append(servers, bs)
	}
	for _, s := range servers {
		rep.Servers = append(rep.Servers, serverInfo{Name: s.name, IMAP: s.imap, POP3: s.pop3, LMTP: s.lmtp, SelfStarted: s.self != nil})
	}
	for _, w := range works {
		var got []result
		for _, s := range servers {
			if !w.runsOn(s) {
				rep.Skipped = append(rep.Skipped, skippedWork{w.name, s.name, "needs " + strings.Join(w.needs, " and ")})
				continue
			}
			res, err := w.fn(b, s)
			if err != nil {
				return nil, fmt.Errorf("%s on %s: %w", w.name, s.name, err)
			}
			got = append(got, res...)
		}
		rep.Results = append(rep.Results, groupByWorkload(got)...)
	}
	if len(servers) == 2 {
		rep.Ratios = ratios(rep.Results, servers[0].name, servers[1].name)
	}
	return rep, nil
}

// setup makes one server ready: started (unless remote) and its bench
// mailboxes filled.
func (b *bench) setup(o *options, e endpoint, remote bool, defName string, works []workload, cl *cleanup, stderr io.Writer) (*server, error) {
	s := &server{name: e.name, imap: e.imap, pop3: e.pop3, lmtp: e.lmtp, user: e.user, pass: e.pass, rcpt: e.rcpt, proc: procFS{root: "/proc"}}
	var fills []fill
	for _, w := range works {
		for _, f := range w.fills {
			if !slices.ContainsFunc(fills, func(x fill) bool { return x.name == f }) {
				fills = append(fills, b.fillOf(f))
			}
		}
	}
	if !remote {
		if err := b.startSelf(o, s, fills, cl, stderr); err != nil {
			return nil, err
		}
		if s.name == "" {
			s.name = defName
		}
	} else if s.name == "" {
		s.name = s.imap
		if s.name == "" {
			s.name = s.lmtp + s.pop3
		}
	}
	if err := s.connect(); err != nil {
		return nil, err
	}
	if s.imap == "" {
		return s, nil
	}
	ic, err := loginIMAP(s.imap, s.user, s.pass)
	if err != nil {
		return nil, err
	}
	defer ic.logout()
	for _, f := range fills {
		if err := populateIMAP(ic, s.mailbox(f.name), f, b.pr); err != nil {
			return nil, fmt.Errorf("populate %s on %s: %w", f.name, s.name, err)
		}
	}
	return s, nil
}

// startSelf starts a cyrusgo in a temporary directory, with its bench
// mailboxes filled through the store before master runs.
func (b *bench) startSelf(o *options, s *server, fills []fill, cl *cleanup, stderr io.Writer) error {
	dir, err := os.MkdirTemp("", "cyrusbench-")
	if err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	if o.keep {
		fmt.Fprintf(stderr, "%s: server directory %s\n", program, dir)
	} else {
		cl.add(func() { os.RemoveAll(dir) })
	}
	bin, err := findBin(o.bin, dir)
	if err != nil {
		return err
	}
	self, err := prepareSelf(filepath.Join(dir, "server"), bin, s.user, s.pass)
	if err != nil {
		return err
	}
	if err := populateStore(self.conf, s.user, fills, b.pr); err != nil {
		return err
	}
	cl.add(self.stop)
	if err := self.start(); err != nil {
		return err
	}
	s.self = self
	s.imap = fmt.Sprintf("127.0.0.1:%d", self.imap)
	s.pop3 = fmt.Sprintf("127.0.0.1:%d", self.pop3)
	s.lmtp = fmt.Sprintf("127.0.0.1:%d", self.lmtp)
	s.rcpt = s.user
	return nil
}

// cleanup runs its functions last-added first, once: at the end of the
// run or on SIGINT/SIGTERM, so no self-started server outlives the run.
// A second caller waits for the first to finish (sync.Once).
type cleanup struct {
	mu   sync.Mutex
	fns  []func()
	once sync.Once
}

func (c *cleanup) add(fn func()) {
	c.mu.Lock()
	c.fns = append(c.fns, fn)
	c.mu.Unlock()
}

func (c *cleanup) run() {
	c.once.Do(func() {
		c.mu.Lock()
		fns := c.fns
		c.fns = nil
		c.mu.Unlock()
		for i := len(fns) - 1; i >= 0; i-- {
			fns[i]()
		}
	})
}

// onSignal cleans up and exits on SIGINT or SIGTERM; the returned
// function stops listening.
func (c *cleanup) onSignal(stderr io.Writer) func() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			fmt.Fprintf(stderr, "\n%s: %v: stopping the servers\n", program, sig)
			c.run()
			os.Exit(130)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}

// groupByWorkload orders the results of one workload (which may give
// several, as select-big does) so that each figure's rows, one per
// server, are together; the order is otherwise kept.
func groupByWorkload(rs []result) []result {
	var names []string
	for _, r := range rs {
		if !slices.Contains(names, r.Workload) {
			names = append(names, r.Workload)
		}
	}
	out := make([]result, 0, len(rs))
	for _, n := range names {
		for _, r := range rs {
			if r.Workload == n {
				out = append(out, r)
			}
		}
	}
	return out
}
