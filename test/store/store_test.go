// Package store runs the mailbox admin tools as an administrator would,
// against a real master that serves the databases: reconstruct,
// ctl_mboxlist, quota, mbpath, tls_prune and cyr_expire. The test itself
// reaches the databases through master's socket, as master's children
// do, to create and fill mailboxes and to check what the tools did.
package store

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/quota"
	"github.com/cyrusgo/cyrusgo/test/harness"
)

const cyrusConf = `START {
  recover cmd="ctl_cyrusdb -C @ROOT@/imapd.conf -r"
}
SERVICES {
}
EVENTS {
}
`

const imapdConf = harness.BaseImapdConf + `admins: cyrus
delete_mode: delayed
expunge_mode: delayed
`

// clientDBs is the store's view of master's database server.
type clientDBs struct{ c *cyrusdb.Client }

func (d clientDBs) DB(name string) (cyrusdb.DB, error) { return d.c.DB(name), nil }

type env struct {
	t   *testing.T
	srv *harness.Server
	s   *mailbox.Store
}

// tool runs one of the built tools with -C and returns its exit status,
// stdout and stderr (where its log lines go too).
func (e *env) tool(name string, args ...string) (int, string, string) {
	e.t.Helper()
	cmd := exec.Command(filepath.Join(e.srv.Bin, name), append([]string{"-C", e.srv.Path("imapd.conf")}, args...)...)
	cmd.Env = append(os.Environ(), logging.EnvStderr+"=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			e.t.Fatalf("%s: %v", name, err)
		}
		code = ee.ExitCode()
	}
	return code, out.String(), errb.String()
}

func (e *env) mustTool(name string, args ...string) string {
	e.t.Helper()
	code, out, errs := e.tool(name, args...)
	if code != 0 {
		e.t.Fatalf("%s %q: exit %d\nstdout: %s\nstderr: %s", name, args, code, out, errs)
	}
	return out
}

func (e *env) open(name string) *mailbox.Mailbox {
	e.t.Helper()
	owner := strings.Split(name, ".")[1]
	m, err := e.s.Open(acl.Identity{UserID: owner}, name, mailbox.OpenOptions{})
	if err != nil {
		e.t.Fatalf("open %s: %v", name, err)
	}
	return m
}

func (e *env) fill(name string, n int) {
	e.t.Helper()
	m := e.open(name)
	defer m.Close()
	for i := 0; i < n; i++ {
		body := "From: a@example.com\r\nSubject: " + name + " " + strings.Repeat("x", i) + "\r\n\r\nhello\r\n"
		if _, err := m.AppendReader(strings.NewReader(body), []string{`\Seen`}, time.Time{}, 0); err != nil {
			e.t.Fatal(err)
		}
	}
}

func TestAdminTools(t *testing.T) {
	srv := harness.Start(t, harness.Config{CyrusConf: cyrusConf, ImapdConf: imapdConf})
	srv.WaitLog(20*time.Second, "done recovering cyrus databases", 1)
	cfg, err := config.Load(srv.Path("imapd.conf"), "", logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	c, err := cyrusdb.Dial(cyrusdb.SocketPath(cfg.String(config.ConfigDirectory)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := mailbox.New(cfg, clientDBs{c}, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv, s: s}
	admin := acl.Identity{UserID: "cyrus", Admin: true}
	for _, n := range []string{"user.alice", "user.alice.Sent", "user.alice.Trash", "user.bob"} {
		if _, err := s.Create(admin, n, mailbox.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	s.Quota().SetLimits("user.alice", quota.Limits{Storage: 1000, Message: 100})
	e.fill("user.alice", 4)
	e.fill("user.alice.Sent", 2)
	e.fill("user.bob", 1)

	t.Run("reconstruct", func(t *testing.T) {
		if code, out, errs := e.tool("reconstruct", "-n"); code != 0 || out != "" {
			t.Fatalf("consistent store: exit %d\n%s%s", code, out, errs)
		}
		meta := strings.TrimSpace(e.mustTool("mbpath", "-m", "user/alice"))
		if err := os.Remove(filepath.Join(meta, "cyrusgo.index")); err != nil {
			t.Fatal(err)
		}
		code, out, _ := e.tool("reconstruct", "-n", "-r", "user/alice")
		if code != 1 || !strings.Contains(out, "user.alice: cyrusgo.index is missing") {
			t.Fatalf("-n on a broken mailbox: exit %d %q", code, out)
		}
		out = e.mustTool("reconstruct", "-r", "user/alice")
		if !strings.Contains(out, "user.alice: cyrusgo.index is missing; rebuilt from the message files") {
			t.Fatalf("reconstruct said %q", out)
		}
		m := e.open("user.alice")
		defer m.Close()
		if m.Count() != 4 {
			t.Fatalf("%d messages after reconstruct", m.Count())
		}
		// An orphan, as an append that never committed leaves it.
		data := strings.TrimSpace(e.mustTool("mbpath", "user.bob"))
		os.WriteFile(filepath.Join(data, "7."), []byte("Subject: orphan\r\n\r\nx\r\n"), 0o600)
		if out := e.mustTool("reconstruct", "user.bob"); !strings.Contains(out, "user.bob: adopted orphan message 7.") {
			t.Fatalf("orphan: %q", out)
		}
		if code, out, errs := e.tool("reconstruct", "-n"); code != 0 || out != "" {
			t.Fatalf("after the fixes: exit %d\n%s%s", code, out, errs)
		}
	})

	t.Run("quota", func(t *testing.T) {
		out := e.mustTool("quota")
		if !strings.HasPrefix(out, "   Quota   % Used     Used             Resource Root\n") ||
			!strings.Contains(out, "     100        6        6              MESSAGE user/alice\n") {
			t.Fatalf("report:\n%s", out)
		}
		s.Quota().SetMailboxUsage("user.alice", "user.alice.Sent", quota.Usage{Bytes: 1 << 20, Messages: 50})
		code, out, errs := e.tool("quota", "-f")
		if code != 0 || !strings.Contains(errs, "user.alice: MESSAGE usage was 54, now 6") || !strings.Contains(out, "       6              MESSAGE user/alice") {
			t.Fatalf("-f: exit %d\n%s%s", code, out, errs)
		}
		if u, _ := s.Quota().Usage("user.alice"); u.Messages != 6 {
			t.Fatalf("usage after -f %+v", u)
		}
	})

	t.Run("mbpath", func(t *testing.T) {
		if out := e.mustTool("mbpath", "user/alice/Sent"); out != srv.Path("spool/user/alice/Sent")+"\n" {
			t.Fatalf("mbpath %q", out)
		}
		if code, _, errs := e.tool("mbpath", "user/nobody"); code == 0 || !strings.Contains(errs, "user/nobody") {
			t.Fatalf("missing mailbox: exit %d %q", code, errs)
		}
	})

	t.Run("ctl_mboxlist", func(t *testing.T) {
		out := e.mustTool("ctl_mboxlist", "-d")
		var list map[string]map[string]any
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatalf("dump is not JSON: %v\n%s", err, out)
		}
		if len(list) != 4 || list["user.bob"]["partition"] != "default" || strings.Count(out, "\n") != 6 {
			t.Fatalf("dump:\n%s", out)
		}
	})

	t.Run("tls_prune", func(t *testing.T) {
		if code, out, errs := e.tool("tls_prune"); code != 0 || out != "" || errs != "" {
			t.Fatalf("exit %d %q %q", code, out, errs)
		}
	})

	t.Run("cyr_expire", func(t *testing.T) {
		m := e.open("user.alice")
		m.Sync(true)
		uids := m.UIDs()
		m.StoreFlags(uids[:2], mailbox.FlagsAdd, []string{`\Deleted`}, 0)
		if _, err := m.Expunge(nil); err != nil {
			t.Fatal(err)
		}
		m.Close()
		if err := s.Delete(acl.Identity{UserID: "alice"}, "user.alice.Trash"); err != nil {
			t.Fatal(err)
		}
		data := strings.TrimSpace(e.mustTool("mbpath", "user.alice"))
		time.Sleep(1100 * time.Millisecond) // expunge times are in seconds
		code, _, errs := e.tool("cyr_expire", "-X", "0", "-D", "0", "-v")
		if code != 0 || !strings.Contains(errs, "expunged 2 messages") || !strings.Contains(errs, "Removed 1 deleted mailbox") {
			t.Fatalf("exit %d\n%s", code, errs)
		}
		for _, u := range uids[:2] {
			if _, err := os.Stat(filepath.Join(data, strconv.FormatUint(uint64(u), 10)+".")); !os.IsNotExist(err) {
				t.Fatalf("message %d still on disk", u)
			}
		}
		n := 0
		s.ListDeleted(func(*mailbox.Entry) error { n++; return nil })
		if n != 0 {
			t.Fatalf("%d deleted mailboxes left", n)
		}
		if code, out, errs := e.tool("reconstruct", "-n"); code != 0 || out != "" {
			t.Fatalf("after cyr_expire: exit %d\n%s%s", code, out, errs)
		}
		m = e.open("user.alice")
		defer m.Close()
		if m.Count() != 2 {
			t.Fatalf("%d messages left", m.Count())
		}
	})
}
