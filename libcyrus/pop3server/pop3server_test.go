package pop3server

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/tlsconf"
)

// Cyrus's log lines: login, badlogin and the counts at the end.
func TestLogLines(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.dial(t)
	c.cmd("USER alice")
	c.cmd("PASS wrong")
	c.login()
	mustOK(t, "RETR", c.cmd("RETR 1"))
	c.multi()
	mustOK(t, "TOP", c.cmd("TOP 1 0"))
	c.multi()
	mustOK(t, "DELE", c.cmd("DELE 2"))
	mustOK(t, "QUIT", c.cmd("QUIT"))
	c.wait()
	log := e.log.String()
	for _, want := range []string{
		"badlogin: [local] plaintext (alice) [SASL(-13): authentication failure: checkpass failed]",
		"login: [local] alice plaintext User logged in SESSIONID=<pop.example.org-",
		"counts: retr=<1> top=<1> dele=<1>",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// Each session works on the snapshot it took at login, as Cyrus's do:
// mail delivered meanwhile waits for the next session, and a message the
// other session expunged stays listed.
func TestSnapshot(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"delayed", "immediate"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, map[string]string{"expunge_mode": mode})
			a, b := e.dial(t), e.dial(t)
			a.login()
			b.login()
			e.deliver(t, "user.alice", "Subject: late\r\n\r\nlate\r\n")
			mustOK(t, "DELE", a.cmd("DELE 1"))
			mustOK(t, "QUIT", a.cmd("QUIT"))
			a.wait()
			if r := b.cmd("STAT"); r != "+OK 5 421" {
				t.Fatalf("b STAT after a's QUIT: %s", r)
			}
			r := b.cmd("RETR 1")
			switch mode {
			case "delayed":
				// The file stays until cyr_expire.
				mustOK(t, "RETR of a message expunged elsewhere", r)
				b.multi()
			case "immediate":
				if r != "-ERR [SYS/PERM] Could not read message file" {
					t.Fatalf("RETR of a removed message: %s", r)
				}
			}
			mustOK(t, "DELE", b.cmd("DELE 1"))
			mustOK(t, "DELE", b.cmd("DELE 2"))
			mustOK(t, "QUIT", b.cmd("QUIT"))
			b.wait()
			c := e.dial(t)
			c.login()
			if r := c.cmd("STAT"); !strings.HasPrefix(r, "+OK 4 ") {
				t.Fatalf("third session: %s", r)
			}
			c.cmd("UIDL")
			if got := strings.Join(c.multi(), ","); !strings.HasSuffix(got, ".6") || strings.Contains(got, ".2,") {
				t.Fatalf("third session UIDL: %s", got)
			}
		})
	}
}

// An IMAP session that has the INBOX open sees the POP3 deletions as
// expunges once the POP3 session has quit, and not before.
func TestExpungeVisibleToIMAP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	m, err := e.store.Open(e.store.Identity("alice"), "user.alice", mailbox.OpenOptions{ClaimRecent: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c := e.dial(t)
	c.login()
	mustOK(t, "DELE", c.cmd("DELE 2"))
	mustOK(t, "DELE", c.cmd("DELE 3"))
	if u, err := m.Sync(true); err != nil || len(u.Expunged) != 0 {
		t.Fatalf("before QUIT: %+v %v", u, err)
	}
	mustOK(t, "QUIT", c.cmd("QUIT"))
	c.wait()
	u, err := m.Sync(true)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.ExpungedUIDs) != 2 || u.Exists != 3 || m.SeqOf(2) != 0 || m.SeqOf(3) != 0 {
		t.Fatalf("after QUIT: %+v", u)
	}
	// The expunge was one commit: no \Deleted flag was ever stored.
	for seq := uint32(1); seq <= uint32(m.Count()); seq++ {
		r, _ := m.Record(seq)
		if r.Flags&mailbox.FlagDeleted != 0 {
			t.Fatalf("message %d marked \\Deleted", r.UID)
		}
	}
}

// A session that ends without QUIT commits nothing (RFC 1939 6).
func TestNoQuitNoUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.dial(t)
	c.login()
	mustOK(t, "DELE", c.cmd("DELE 1"))
	c.close()
	c = e.dial(t)
	c.login()
	if r := c.cmd("STAT"); r != "+OK 5 421" {
		t.Fatalf("after a session without QUIT: %s", r)
	}
}

// popuseimapflags: \Deleted messages are not offered, RETR sets \Seen at
// QUIT; without it neither happens.
func TestPopUseIMAPFlags(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprint(on), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, map[string]string{"popuseimapflags": fmt.Sprint(on)})
			m, err := e.store.Open(e.store.Identity("alice"), "user.alice", mailbox.OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if _, err := m.StoreFlags([]uint32{2}, mailbox.FlagsAdd, []string{`\Deleted`}, 0); err != nil {
				t.Fatal(err)
			}
			c := e.dial(t)
			c.login()
			want := "+OK 5 421"
			if on {
				want = "+OK 4 336"
			}
			if r := c.cmd("STAT"); r != want {
				t.Fatalf("STAT: %s, want %s", r, want)
			}
			mustOK(t, "RETR", c.cmd("RETR 1"))
			c.multi()
			mustOK(t, "TOP", c.cmd("TOP 3 0"))
			c.multi()
			mustOK(t, "QUIT", c.cmd("QUIT"))
			c.wait()
			if _, err := m.Sync(true); err != nil {
				t.Fatal(err)
			}
			for seq := uint32(1); seq <= uint32(m.Count()); seq++ {
				r, _ := m.Record(seq)
				seen := r.Flags&mailbox.FlagSeen != 0
				if seen != (on && r.UID == 1) {
					t.Errorf("uid %d: \\Seen %v", r.UID, seen)
				}
			}
		})
	}
}

// popuseacl: the ACL decides; without it the owner reaches the maildrop
// whatever the ACL says, as with Cyrus.
func TestPopUseACL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		useACL bool
		rights string
		login  string // first line of the PASS answer
		dele   string
	}{
		{false, "", "+OK Mailbox locked and ready", "+OK message deleted"},
		{false, "lr", "+OK Mailbox locked and ready", "+OK message deleted"},
		{true, "lr", "+OK Mailbox locked and ready", "-ERR [SYS/PERM] Permission denied"},
		{true, "lrt", "+OK Mailbox locked and ready", "+OK message deleted"},
		// The owner keeps l through implicit_owner_rights, as in Cyrus.
		{true, "", "-ERR [SYS/TEMP] Unable to open maildrop: Permission denied", ""},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%v-%s", tc.useACL, tc.rights), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, map[string]string{"popuseacl": fmt.Sprint(tc.useACL)})
			if err := e.store.SetACL(admin, "user.alice", "alice", tc.rights); err != nil {
				t.Fatal(err)
			}
			c := e.dial(t)
			c.cmd("USER alice")
			if r := c.cmd("PASS pass"); !strings.HasPrefix(r, tc.login) {
				t.Fatalf("PASS: %s, want %s", r, tc.login)
			}
			if tc.dele == "" {
				return
			}
			if r := c.cmd("DELE 1"); r != tc.dele {
				t.Fatalf("DELE: %s, want %s", r, tc.dele)
			}
			mustOK(t, "QUIT", c.cmd("QUIT"))
			c.wait()
			want := 5
			if strings.HasPrefix(tc.dele, "+OK") {
				want = 4
			}
			m, err := e.store.OpenForDelivery("user.alice")
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if m.Count() != want {
				t.Fatalf("%d messages after QUIT, want %d", m.Count(), want)
			}
		})
	}
}

// popminpoll refuses logins closer together than it says, counted from
// the last session that ended with QUIT (RFC 2449 8.1.1 LOGIN-DELAY).
func TestLoginDelay(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"popminpoll": "5"})
	session := func(quit bool) string {
		c := e.dial(t)
		c.cmd("USER alice")
		r := c.cmd("PASS pass")
		if quit && strings.HasPrefix(r, "+OK") {
			mustOK(t, "QUIT", c.cmd("QUIT"))
			c.wait()
		}
		c.close()
		return r
	}
	mustOK(t, "first login", session(true))
	e.clock.Add(60)
	if r := session(true); r != "-ERR [LOGIN-DELAY] Logins must be at least 5 minutes apart" {
		t.Fatalf("second login a minute later: %s", r)
	}
	e.clock.Add(5 * 60)
	mustOK(t, "login six minutes later", session(false))
	e.clock.Add(60)
	// The session before did not QUIT, so it does not count.
	mustOK(t, "login after a session without QUIT", session(true))
	if !strings.Contains(e.log.String(), "user.alice: Logins must be at least 5 minutes apart") {
		t.Fatalf("log:\n%s", e.log.String())
	}
}

// autocreate_quota creates the INBOX of a user who has none at login.
func TestAutocreate(t *testing.T) {
	t.Parallel()
	for _, quota := range []string{"-1", "0"} {
		t.Run(quota, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, map[string]string{"autocreate_quota": quota})
			c := e.dial(t)
			c.cmd("USER carol")
			r := c.cmd("PASS pass")
			if quota == "-1" {
				if r != "-ERR [SYS/TEMP] Unable to open maildrop: Mailbox does not exist" {
					t.Fatalf("PASS without autocreate: %s", r)
				}
				return
			}
			mustOK(t, "PASS", r)
			if r := c.cmd("STAT"); r != "+OK 0 0" {
				t.Fatalf("STAT: %s", r)
			}
		})
	}
}

func TestUIDLFormat(t *testing.T) {
	t.Parallel()
	for format, want := range map[string]func(uv uint32) string{
		"cyrus":   func(uv uint32) string { return fmt.Sprintf("+OK 3 %d.3", uv) },
		"uidonly": func(uint32) string { return "+OK 3 3" },
		"dovecot": func(uv uint32) string { return fmt.Sprintf("+OK 3 00000003%08x", uv) },
		"courier": func(uv uint32) string { return fmt.Sprintf("+OK 3 %d-3", uv) },
		"":        func(uv uint32) string { return fmt.Sprintf("+OK 3 %d.3", uv) },
	} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			var extra map[string]string
			if format != "" {
				extra = map[string]string{"uidl_format": format}
			}
			e := newEnv(t, extra)
			c := e.dial(t)
			c.login()
			if r, w := c.cmd("UIDL 3"), want(e.uidValidity(t, "user.alice")); r != w {
				t.Fatalf("UIDL 3: %s, want %s", r, w)
			}
		})
	}
}

// Pipelined commands (RFC 2449 6.6) are answered in order.
func TestPipelining(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.dial(t)
	var cmds strings.Builder
	cmds.WriteString("USER alice\r\nPASS pass\r\n")
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(&cmds, "LIST %d\r\nRETR %d\r\n", i, i)
	}
	cmds.WriteString("STAT\r\nQUIT\r\n")
	go c.conn.Write([]byte(cmds.String()))
	mustOK(t, "USER", c.readLine())
	mustOK(t, "PASS", c.readLine())
	for i := 1; i <= 5; i++ {
		if r := c.readLine(); !strings.HasPrefix(r, fmt.Sprintf("+OK %d ", i)) {
			t.Fatalf("LIST %d: %s", i, r)
		}
		mustOK(t, "RETR", c.readLine())
		if body := c.multi(); len(body) < 3 {
			t.Fatalf("RETR %d: %q", i, body)
		}
	}
	if r := c.readLine(); r != "+OK 5 421" {
		t.Fatalf("STAT: %s", r)
	}
	if r := c.readLine(); r != "+OK" {
		t.Fatalf("QUIT: %s", r)
	}
	c.wait()
}

// A shutting-down process tells its clients and commits nothing.
func TestShutdown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.dial(t)
	c.login()
	mustOK(t, "DELE", c.cmd("DELE 1"))
	c.cancel()
	if r := c.readLine(); r != "-ERR [SYS/TEMP] Server shutting down" {
		t.Fatalf("at shutdown: %s", r)
	}
	c.wait()
	c = e.dial(t)
	c.login()
	if r := c.cmd("STAT"); r != "+OK 5 421" {
		t.Fatalf("after shutdown: %s", r)
	}
}

// tlsEnv is newEnv with a self-signed certificate.
func tlsEnv(t *testing.T, extra map[string]string, implicit bool) *testEnv {
	t.Helper()
	e := newEnv(t, extra)
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := tlsconf.SelfSigned(cert, key, []string{"localhost"}); err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	o := e.srv.opts
	o.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	o.ImplicitTLS = implicit
	e.srv = New(o)
	return e
}

func (c *client) startTLS() {
	c.t.Helper()
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake: %v", err)
	}
	c.conn, c.r = tc, bufio.NewReader(tc)
}

// STLS (RFC 2595 4): USER and PLAIN appear once TLS is on; the STLS
// capability goes away; pipelined commands after STLS are refused.
func TestSTLS(t *testing.T) {
	t.Parallel()
	e := tlsEnv(t, map[string]string{"allowplaintext": "no"}, false)
	c := e.dial(t)
	c.cmd("CAPA")
	caps := strings.Join(c.multi(), ",")
	if !strings.Contains(caps, "STLS") || strings.Contains(caps, "USER") || strings.Contains(caps, "PLAIN") {
		t.Fatalf("CAPA before STLS: %s", caps)
	}
	if r := c.cmd("STLS x"); r != "-ERR Unexpected extra argument" {
		t.Fatalf("STLS x: %s", r)
	}
	if r := c.cmd("STLS"); r != "+OK Begin TLS negotiation now" {
		t.Fatalf("STLS: %s", r)
	}
	c.startTLS()
	c.cmd("CAPA")
	caps = strings.Join(c.multi(), ",")
	if strings.Contains(caps, "STLS") || !strings.Contains(caps, "USER") || !strings.Contains(caps, "PLAIN") {
		t.Fatalf("CAPA after STLS: %s", caps)
	}
	if r := c.cmd("STLS"); r != "-ERR Already successfully executed STLS" {
		t.Fatalf("second STLS: %s", r)
	}
	c.login()
	if !strings.Contains(e.log.String(), "alice plaintext+TLS User logged in") {
		t.Fatalf("log:\n%s", e.log.String())
	}

	// Commands sent with STLS, before the handshake, are an injection.
	c = e.dial(t)
	c.conn.Write([]byte("STLS\r\nUSER alice\r\n"))
	if r := c.readLine(); r != "-ERR [SYS/PERM] Data after STLS" {
		t.Fatalf("pipelined STLS: %s", r)
	}
	c.wait()
}

// pop3d -s: TLS before the greeting.
func TestImplicitTLS(t *testing.T) {
	t.Parallel()
	e := tlsEnv(t, map[string]string{"allowplaintext": "no"}, true)
	c := e.connect(t)
	c.startTLS()
	if g := c.readLine(); g != "+OK pop.example.org Cyrus POP3 cyrusgo server ready" {
		t.Fatalf("greeting: %s", g)
	}
	c.cmd("CAPA")
	if caps := strings.Join(c.multi(), ","); strings.Contains(caps, "STLS") || !strings.Contains(caps, "USER") {
		t.Fatalf("CAPA: %s", caps)
	}
	c.login()
}

// STLS is unknown when no certificate is configured.
func TestSTLSWithoutTLS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.dial(t)
	if r := c.cmd("STLS"); r != "-ERR Unrecognized command" {
		t.Fatalf("STLS: %s", r)
	}
}

// A large message is streamed: RETR sends every byte, and the session
// does not hold the message in memory.
func TestLargeMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("large message skipped in -short")
	}
	t.Parallel()
	e := newEnv(t, nil)
	var b strings.Builder
	b.WriteString("Subject: large\r\n\r\n")
	line := strings.Repeat("x", 76) + "\r\n"
	for b.Len() < 8<<20 {
		b.WriteString(line)
		b.WriteString(".dot\r\n")
	}
	msg := b.String()
	e.deliver(t, "user.alice", msg)
	c := e.dial(t)
	c.login()
	mustOK(t, "RETR", c.cmd("RETR 6"))
	var got strings.Builder
	for _, l := range c.multi() {
		got.WriteString(l + "\r\n")
	}
	if got.String() != msg {
		t.Fatalf("RETR 6: %d bytes, want %d", got.Len(), len(msg))
	}
}

// The idle timer is poptimeout, at least 10 minutes (RFC 1939 3).
func TestTimeout(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]time.Duration{"1": 10 * time.Minute, "30": 30 * time.Minute} {
		e := newEnv(t, map[string]string{"poptimeout": v})
		if e.srv.timeout != want {
			t.Errorf("poptimeout %s: %v, want %v", v, e.srv.timeout, want)
		}
	}
}

// A connection that stops talking is closed at the timeout without a
// word and without an UPDATE.
func TestIdleClose(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.srv.timeout = 200 * time.Millisecond
	c := e.dial(t)
	c.login()
	mustOK(t, "DELE", c.cmd("DELE 1"))
	c.wait()
	c.conn.SetReadDeadline(time.Now().Add(time.Second))
	if l, err := c.r.ReadString('\n'); err == nil {
		t.Fatalf("line at timeout: %q", l)
	}
	e.srv.timeout = time.Minute
	c = e.dial(t)
	c.login()
	if r := c.cmd("STAT"); r != "+OK 5 421" {
		t.Fatalf("after timeout: %s", r)
	}
}
