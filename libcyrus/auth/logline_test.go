package auth

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// The lines are compared with Cyrus 3.6's, from the reference syslog sample.
func TestLogLines(t *testing.T) {
	host := ClientHost("localhost", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 143})
	if host != "localhost [127.0.0.1]" {
		t.Errorf("ClientHost = %q", host)
	}
	for _, c := range []struct{ got, want string }{
		{LoginLine(host, "cyrus", MechPlaintext, false, "cyrus-anchor-1796009548-16964-2-10372630302267379588"),
			"login: localhost [127.0.0.1] cyrus plaintext User logged in SESSIONID=<cyrus-anchor-1796009548-16964-2-10372630302267379588>"},
		{LoginLine(host, "cyrus", MechPlain, false, ""), "login: localhost [127.0.0.1] cyrus PLAIN User logged in"},
		{LoginLine(host, "alice", MechPlain, true, ""), "login: localhost [127.0.0.1] alice PLAIN+TLS User logged in"},
		{BadLoginLine(host, MechPlaintext, newError(ErrBadPassword, "alice", detailCheckpass, nil)),
			"badlogin: localhost [127.0.0.1] plaintext (alice) [SASL(-13): authentication failure: checkpass failed]"},
		{BadLoginLine(host, MechPlain, newError(ErrMalformed, "", "x", nil)),
			"badlogin: localhost [127.0.0.1] PLAIN (-notset-) [SASL(-5): bad protocol / cancel: x]"},
		{BadLoginLine(host, MechPlain, errors.New("boom")),
			"badlogin: localhost [127.0.0.1] PLAIN (-notset-) [SASL(-1): generic failure: boom]"},
		// A hostile name cannot forge a second log line.
		{BadLoginLine(host, MechLogin, newError(ErrBadUser, printable("a\nbadlogin: x"), "bad userid authenticated", nil)),
			"badlogin: localhost [127.0.0.1] LOGIN (a?badlogin: x) [SASL(-13): authentication failure: bad userid authenticated]"},
		{ClientHost("", &net.TCPAddr{IP: net.ParseIP("::1")}), "[::1]"},
		{ClientHost("", &net.UnixAddr{Name: "/run/lmtp", Net: "unix"}), "[local]"},
		{ClientHost("x", nil), "[local]"},
	} {
		if c.got != c.want {
			t.Errorf("got  %q\nwant %q", c.got, c.want)
		}
	}
}

func TestLogLogin(t *testing.T) {
	e := newEnv(t, nil)
	r, err := e.auth.Login(t.Context(), "alice", alicePW, true)
	if err != nil {
		t.Fatal(err)
	}
	e.auth.LogLogin("[10.1.2.3]", r, true, "")
	_, err = e.auth.Login(t.Context(), "alice", "not the password", true)
	e.auth.LogBadLogin("[10.1.2.3]", MechPlaintext, err)
	e.auth.LogBadLogin("[10.1.2.3]", MechPlain, newError(ErrCanceled, "", "", nil))
	out := e.log.String()
	for _, want := range []string{
		"notice: login: [10.1.2.3] alice plaintext+TLS User logged in\n",
		"notice: badlogin: [10.1.2.3] plaintext (alice) [SASL(-13): authentication failure: checkpass failed]\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "not the password") || strings.Contains(out, alicePW) {
		t.Error("a password was logged")
	}
	if strings.Contains(out, "bad protocol") {
		t.Error("a cancel was logged as a bad login")
	}
}

func TestDelay(t *testing.T) {
	var waits []time.Duration
	d := &Delay{Sleep: func(_ context.Context, w time.Duration) error {
		waits = append(waits, w)
		return nil
	}}
	var nexts []time.Duration
	for range 6 {
		nexts = append(nexts, d.Next())
		if err := d.Fail(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	want := []time.Duration{0, time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second, 4 * time.Second}
	for i := range want {
		if nexts[i] != want[i] {
			t.Errorf("wait %d = %v, want %v", i, nexts[i], want[i])
		}
	}
	if len(waits) != 5 || d.Failures() != 6 {
		t.Errorf("slept %v over %d failures", waits, d.Failures())
	}

	// The real timer gives way to a closing connection.
	d = &Delay{Base: time.Hour, Max: time.Hour}
	_ = d.Fail(t.Context())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if err := d.Fail(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Fail with an ending context: %v", err)
	}
	// A negative base turns the delay off.
	d = &Delay{Base: -1}
	for range 3 {
		if d.Next() != 0 {
			t.Error("negative base waits")
		}
		_ = d.Fail(t.Context())
	}
}
