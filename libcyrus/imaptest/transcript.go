package imaptest

// A transcript (a .txt file) is read line by line:
//
//	# comment               ignored, as are blank lines
//	@conf KEY VALUE         imapd.conf option (before the first @conn)
//	@create NAME            create mailbox NAME (internal name) as admin
//	@quota ROOT KIB         make ROOT a quota root of KIB KiB
//	@date DATE-TIME         internal date of later @append ("02-Jan-2024 10:00:00 +0100")
//	@append NAME FILE [FLAG ...]
//	                        deliver msg/FILE (beside the transcript; LF made
//	                        CRLF) into NAME, as another process would
//	@conn NAME              open connection NAME (greeting read) or switch to it
//	@login USER             LOGIN on the current connection, answer read
//	C: TEXT                 send TEXT and CRLF (<<NAME>> is a remembered value)
//	S: PATTERN              read one line (CRLF removed) and match it
//
// A PATTERN is literal text with these holes:
//
//	<<*>>        any text
//	<<n>>        a number
//	<<NAME:n>>   a number, remembered as NAME (compared if NAME is known)
//	<<NAME:*>>   any text without spaces, remembered as NAME
//	<<NAME>>     the text remembered as NAME
//
// Server lines inside literals are matched like any other line, so a
// literal's content appears as S: lines of its own.
//
// Transcripts assume the server's defaults of Defaults (classic
// namespace, admin cyrus, any password accepted), whatever runs them.

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/quota"
)

// Defaults are the imapd.conf options every transcript assumes; @conf
// lines add to them and override them.
func Defaults() map[string]string {
	return map[string]string{
		"admins":              "cyrus",
		"sasl_pwcheck_method": "alwaystrue",
		"allowplaintext":      "yes",
		"delete_mode":         "immediate",
		"expunge_mode":        "delayed",
		"servername":          "test.example",
		"imapidlepoll":        "1",
		"altnamespace":        "no",
		"unixhierarchysep":    "no",
	}
}

// Server is what a transcript runs against: the store its fixtures go
// through and the IMAP service.
type Server interface {
	Store() *mailbox.Store
	Dial() (net.Conn, error)
}

// StartFunc starts a server with the transcript's options (Defaults with
// its @conf lines applied). It is called once, at the first directive
// that needs the server.
type StartFunc func(t *testing.T, conf map[string]string) Server

// admin is the identity fixtures use.
var admin = acl.Identity{UserID: "cyrus", Admin: true}

// Run runs the transcript at path against the server start returns.
func Run(t *testing.T, path string, start StartFunc) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tr := &transcript{
		t: t, dir: filepath.Dir(path), start: start, conf: Defaults(),
		conns: map[string]*Conn{}, vars: map[string]string{},
		date: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		if err := tr.step(line); err != nil {
			t.Fatalf("%s:%d: %v", filepath.Base(path), i+1, err)
		}
	}
}

// transcript is the state of one Run.
type transcript struct {
	t     *testing.T
	dir   string
	start StartFunc
	srv   Server
	conf  map[string]string
	conns map[string]*Conn
	cur   *Conn
	vars  map[string]string
	date  time.Time
}

func (tr *transcript) server() Server {
	if tr.srv == nil {
		tr.srv = tr.start(tr.t, tr.conf)
	}
	return tr.srv
}

func (tr *transcript) step(line string) error {
	switch {
	case strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#"):
		return nil
	case strings.HasPrefix(line, "C: "):
		if tr.cur == nil {
			return fmt.Errorf("C: before @conn")
		}
		tr.cur.Send(tr.expand(line[3:]))
		return nil
	case strings.HasPrefix(line, "S:"):
		if tr.cur == nil {
			return fmt.Errorf("S: before @conn")
		}
		want := strings.TrimPrefix(strings.TrimPrefix(line, "S:"), " ")
		got := tr.cur.Line()
		if !tr.match(want, got) {
			return fmt.Errorf("server sent\n\t%q\nwant\n\t%q", got, want)
		}
		return nil
	case strings.HasPrefix(line, "@"):
		return tr.directive(strings.Fields(line))
	}
	return fmt.Errorf("unknown line %q", line)
}

func (tr *transcript) directive(f []string) error {
	args := f[1:]
	if min := map[string]int{"@conf": 2, "@create": 1, "@quota": 2, "@append": 2, "@conn": 1, "@login": 1}[f[0]]; len(args) < min {
		return fmt.Errorf("%s needs %d arguments", f[0], min)
	}
	switch f[0] {
	case "@conf":
		if tr.srv != nil {
			return fmt.Errorf("@conf after the server started")
		}
		tr.conf[args[0]] = strings.Join(args[1:], " ")
	case "@create":
		if _, err := tr.server().Store().Create(admin, args[0], mailbox.CreateOptions{}); err != nil {
			return fmt.Errorf("create %s: %w", args[0], err)
		}
	case "@quota":
		kib, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil {
			return err
		}
		return tr.server().Store().Quota().SetLimits(args[0], quota.Limits{Storage: kib, Message: quota.Unlimited})
	case "@date":
		d, err := time.Parse("02-Jan-2006 15:04:05 -0700", strings.Join(args, " "))
		if err != nil {
			return err
		}
		tr.date = d
	case "@append":
		msg, err := ReadMessage(filepath.Join(tr.dir, "msg", args[1]))
		if err != nil {
			return err
		}
		return Deliver(tr.server().Store(), args[0], msg, tr.date, args[2:]...)
	case "@conn":
		if c := tr.conns[args[0]]; c != nil {
			tr.cur = c
			return nil
		}
		nc, err := tr.server().Dial()
		if err != nil {
			return err
		}
		tr.t.Cleanup(func() { nc.Close() })
		c := NewConn(tr.t, nc)
		if g := c.Line(); !strings.HasPrefix(g, "* OK ") {
			return fmt.Errorf("greeting %q", g)
		}
		tr.cur = c
		tr.conns[args[0]] = c
	case "@login":
		if tr.cur == nil {
			return fmt.Errorf("@login before @conn")
		}
		tr.cur.MustOK("L0", "LOGIN "+args[0]+" secret")
	default:
		return fmt.Errorf("unknown directive %s", f[0])
	}
	return nil
}

// Deliver appends msg to the mailbox name as another process would.
func Deliver(s *mailbox.Store, name, msg string, date time.Time, flags ...string) error {
	m, err := s.OpenForDelivery(name)
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	defer m.Close()
	if _, err := m.AppendReader(strings.NewReader(msg), flags, date, 0); err != nil {
		return fmt.Errorf("append to %s: %w", name, err)
	}
	return nil
}

// ReadMessage reads a message file with CRLF line ends.
func ReadMessage(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n"), nil
}

var holeRE = regexp.MustCompile(`<<([A-Za-z0-9_]*)(:?)([^>]*)>>`)

// match matches got against a PATTERN, remembering new variables.
func (tr *transcript) match(pattern, got string) bool {
	var re strings.Builder
	re.WriteString("^")
	var names []string
	last := 0
	for _, loc := range holeRE.FindAllStringSubmatchIndex(pattern, -1) {
		re.WriteString(regexp.QuoteMeta(pattern[last:loc[0]]))
		last = loc[1]
		name := pattern[loc[2]:loc[3]]
		colon := loc[5] > loc[4]
		kind := pattern[loc[6]:loc[7]]
		switch {
		case name == "" && kind == "" && !colon:
			re.WriteString(regexp.QuoteMeta(pattern[loc[0]:loc[1]]))
		case name == "*" || (name == "" && kind == "*"):
			re.WriteString(".*")
		case name == "n" && !colon:
			re.WriteString("[0-9]+")
		case !colon:
			re.WriteString(regexp.QuoteMeta(tr.vars[name]))
		case tr.vars[name] != "":
			re.WriteString(regexp.QuoteMeta(tr.vars[name]))
		case kind == "n":
			re.WriteString("([0-9]+)")
			names = append(names, name)
		default:
			re.WriteString(`(\S+)`)
			names = append(names, name)
		}
	}
	re.WriteString(regexp.QuoteMeta(pattern[last:]))
	re.WriteString("$")
	m := regexp.MustCompile(re.String()).FindStringSubmatch(got)
	if m == nil {
		return false
	}
	for i, n := range names {
		tr.vars[n] = m[i+1]
	}
	return true
}

// expand replaces <<NAME>> in a client line with the remembered value.
func (tr *transcript) expand(s string) string {
	return holeRE.ReplaceAllStringFunc(s, func(h string) string {
		m := holeRE.FindStringSubmatch(h)
		if v, ok := tr.vars[m[1]]; ok && m[2] == "" {
			return v
		}
		return h
	})
}
