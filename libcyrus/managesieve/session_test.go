package managesieve

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xdg-go/scram"

	"github.com/cyrusgo/cyrusgo/libcyrus/auth"
)

const workScript = "require [\"fileinto\"];\r\nif header :contains \"subject\" \"work\" {\r\n  fileinto \"INBOX.Work\";\r\n}\r\n"

// TestSessionGolden replays managesieve_session.txt's conversation.
func TestSessionGolden(t *testing.T) {
	ts := newTestServer(t, nil, false)
	c := ts.dial(t)
	c.response() // greeting
	c.do("CAPABILITY\r\n")
	c.do(`AUTHENTICATE "PLAIN" "` + plain("alice", "pass") + "\"\r\n")
	c.do("CAPABILITY\r\n")
	c.do("HAVESPACE \"work\" 1000\r\n")
	c.do("CHECKSCRIPT " + lit(workScript) + "\r\n")
	c.do("CHECKSCRIPT " + lit("bad stuff") + "\r\n")
	c.do("PUTSCRIPT \"work\" " + lit(workScript) + "\r\n")
	c.do("LISTSCRIPTS\r\n")
	c.do("SETACTIVE \"work\"\r\n")
	c.do("LISTSCRIPTS\r\n")
	c.do("GETSCRIPT \"work\"\r\n")
	c.do("GETSCRIPT \"nope\"\r\n")
	c.do("NOOP\r\n")
	c.do("LOGOUT\r\n")
	c.golden("session")
	if !strings.Contains(ts.log.String(), "login: [local] alice PLAIN User logged in") {
		t.Errorf("no login line in the log:\n%s", ts.log)
	}
	if _, err := os.Stat(filepath.Join(ts.dir, "a", "alice", "work.script")); err != nil {
		t.Errorf("script not in Cyrus's layout: %v", err)
	}
}

// TestSessionCommands covers the other commands and the error answers.
func TestSessionCommands(t *testing.T) {
	ts := newTestServer(t, map[string]string{"sieve_maxscriptsize": "1"}, false)
	c := ts.dial(t)
	c.response()
	c.do("LISTSCRIPTS\r\n")
	c.do("PUTSCRIPT \"x\" " + lit("keep;") + "\r\n")
	c.do("UNAUTHENTICATE\r\n")
	c.do("FROB\r\n")
	c.do(`AUTHENTICATE "PLAIN" "` + plain("alice", "wrong") + "\"\r\n")
	c.do(`AUTHENTICATE "NOSUCH"` + "\r\n")
	c.do(`AUTHENTICATE "PLAIN" "` + plain("alice", "pass") + "\"\r\n")
	c.do(`AUTHENTICATE "PLAIN" "` + plain("alice", "pass") + "\"\r\n")
	c.do("PUTSCRIPT \"a\" {5}\r\nkeep;\r\n") // a non-synchronising literal without "+"
	c.do("PUTSCRIPT \"b\" \"discard;\"\r\n")
	c.do("PUTSCRIPT \"c\" " + lit("stop;") + "\r\n")
	c.do("PUTSCRIPT \"d\" " + lit("stop;") + "\r\n")
	c.do("HAVESPACE \"d\" 10\r\n")
	c.do("HAVESPACE \"a\" 5000\r\n")
	c.do("PUTSCRIPT \"a\" " + lit(strings.Repeat("#", 1100)) + "\r\n")
	c.do("PUTSCRIPT \"a\" " + lit("require \"fileinto\";\r\n\r\nfileint \"x\";\r\nredirect \"nobody\";\r\n") + "\r\n")
	c.do("PUTSCRIPT \"bad/name\" " + lit("keep;") + "\r\n")
	c.do("PUTSCRIPT \"empty\" \"\"\r\n")
	c.do("SETACTIVE \"a\"\r\n")
	c.do("DELETESCRIPT \"a\"\r\n")
	c.do("DELETESCRIPT \"nope\"\r\n")
	c.do("RENAMESCRIPT \"a\" \"b\"\r\n")
	c.do("RENAMESCRIPT \"nope\" \"x\"\r\n")
	c.do("RENAMESCRIPT \"a\" \"renamed\"\r\n")
	c.do("LISTSCRIPTS\r\n")
	c.do("SETACTIVE \"nope\"\r\n")
	c.do("SETACTIVE \"\"\r\n")
	c.do("LISTSCRIPTS\r\n")
	c.do("DELETESCRIPT \"renamed\"\r\n")
	c.do("NOOP \"STARTTLS-SYNC-42\"\r\n")
	c.do("STARTTLS\r\n")
	c.do("GETSCRIPT\r\n")
	c.do("PUTSCRIPT \"x\" {3+}\r\nabc junk\r\n")
	c.do("UNAUTHENTICATE\r\n")
	c.do("CAPABILITY\r\n")
	c.do("LOGOUT\r\n")
	c.golden("commands")
	if !strings.Contains(ts.log.String(), "badlogin: [local] PLAIN (alice) [SASL(-13): authentication failure") {
		t.Errorf("no badlogin line:\n%s", ts.log)
	}
}

// TestAuthenticateExchange covers a multi-step exchange without an
// initial response, a cancel, and SCRAM's additional data with success.
func TestAuthenticateExchange(t *testing.T) {
	ts := newTestServer(t, map[string]string{"sasl_mech_list": ""}, false)
	c := ts.dial(t)
	c.response()
	c.challenge("AUTHENTICATE \"PLAIN\"\r\n") // empty challenge, as a literal
	c.do("\"*\"\r\n")                         // cancel
	c.challenge("AUTHENTICATE \"LOGIN\"\r\n")
	c.challenge("\"" + b64("alice") + "\"\r\n")
	c.do("{8+}\r\n" + b64("pass") + "\r\n")
	c.do("LOGOUT\r\n")
	c.golden("exchange")

	// SCRAM-SHA-256: the server's final message in OK (SASL "...").
	c = ts.dial(t)
	c.response()
	cl, err := scram.SHA256.NewClient("alice", "pass", "")
	if err != nil {
		t.Fatal(err)
	}
	conv := cl.NewConversation()
	first, _ := conv.Step("")
	resp := c.challenge("AUTHENTICATE \"SCRAM-SHA-256\" \"" + b64(first) + "\"\r\n")
	chal := decodeLiteral(t, resp)
	final, err := conv.Step(chal)
	if err != nil {
		t.Fatal(err)
	}
	resp = c.do("\"" + b64(final) + "\"\r\n")
	if !strings.HasPrefix(resp, "OK (SASL \"") {
		t.Fatalf("SCRAM final: %q", resp)
	}
	serverFinal := strings.TrimSuffix(strings.TrimPrefix(resp, "OK (SASL \""), "\")\r\n")
	sf, err := decodeB64(serverFinal)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conv.Step(sf); err != nil || !conv.Valid() {
		t.Fatalf("server signature not verified: %v", err)
	}
}

func decodeB64(s string) (string, error) {
	b, err := auth.DecodeResponse(s)
	return string(b), err
}

// decodeLiteral extracts a challenge sent as "{n}\r\n<base64>\r\n".
func decodeLiteral(t *testing.T, resp string) string {
	t.Helper()
	_, rest, ok := strings.Cut(resp, "}\r\n")
	if !ok {
		t.Fatalf("not a literal challenge: %q", resp)
	}
	s, err := decodeB64(strings.TrimSuffix(rest, "\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAdminGlobal: an admin authenticating as itself manages the global
// scripts (timsieved(8)).
func TestAdminGlobal(t *testing.T) {
	ts := newTestServer(t, nil, false)
	c := ts.dial(t)
	c.response()
	c.do(`AUTHENTICATE "PLAIN" "` + plain("cyrus", "secret") + "\"\r\n")
	if r := c.do("PUTSCRIPT \"site\" " + lit("keep;") + "\r\n"); r != "OK\r\n" {
		t.Fatalf("put: %q", r)
	}
	if _, err := os.Stat(filepath.Join(ts.dir, "global", "site.script")); err != nil {
		t.Fatalf("global script not stored: %v", err)
	}
}

// TestStartTLS checks the handshake, the capabilities re-sent over TLS
// without STARTTLS, and that pipelined bytes after STARTTLS end the
// session.
func TestStartTLS(t *testing.T) {
	ts := newTestServer(t, map[string]string{"allowplaintext": "no"}, true)
	c := ts.dial(t)
	greet := c.response()
	if !strings.Contains(greet, "\"STARTTLS\"\r\n") || !strings.Contains(greet, "\"SASL\" \"\"\r\n") {
		t.Fatalf("greeting without STARTTLS or with mechanisms before TLS:\n%s", greet)
	}
	if r := c.do(`AUTHENTICATE "PLAIN" "` + plain("alice", "pass") + "\"\r\n"); !strings.HasPrefix(r, "NO (ENCRYPT-NEEDED)") {
		t.Fatalf("plaintext auth before TLS: %q", r)
	}
	if r := c.do("STARTTLS\r\n"); r != "OK \"Begin TLS negotiation now\"\r\n" {
		t.Fatalf("STARTTLS: %q", r)
	}
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.conn, c.br = tc, bufio.NewReader(tc)
	caps := c.response()
	if strings.Contains(caps, "STARTTLS") || !strings.Contains(caps, "\"SASL\" \"PLAIN LOGIN\"") {
		t.Fatalf("capabilities after TLS:\n%s", caps)
	}
	if r := c.do(`AUTHENTICATE "PLAIN" "` + plain("alice", "pass") + "\"\r\n"); r != "OK\r\n" {
		t.Fatalf("auth over TLS: %q", r)
	}
	if !strings.Contains(ts.log.String(), "alice PLAIN+TLS User logged in") {
		t.Errorf("login line lacks +TLS:\n%s", ts.log)
	}

	// Pipelined input after STARTTLS.
	c = ts.dial(t)
	c.response()
	if r := c.do("STARTTLS\r\nNOOP\r\n"); !strings.HasPrefix(r, "BYE") {
		t.Fatalf("pipelined STARTTLS: %q", r)
	}
}

// TestDroppedConnections drops the connection at every byte of an
// authenticated PUTSCRIPT, mid-literal included: the session ends
// without a crash and no script (or temporary file) is left.
func TestDroppedConnections(t *testing.T) {
	// Logins are not the point here: keep them cheap.
	ts := newTestServer(t, map[string]string{"sasl_pwcheck_method": "alwaystrue"}, false)
	authCmd := `AUTHENTICATE "PLAIN" "` + plain("alice", "pass") + "\"\r\n"
	cmd := "PUTSCRIPT \"drop\" " + lit(workScript) + "\r\n"
	for cut := 0; cut < len(cmd); cut += 3 {
		c := ts.dial(t)
		c.response()
		c.do(authCmd)
		c.send(cmd[:cut])
		c.conn.Close()
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			t.Fatalf("session hung after a drop at byte %d", cut)
		}
	}
	userDir := filepath.Join(ts.dir, "a", "alice")
	ents, _ := os.ReadDir(userDir)
	for _, e := range ents {
		t.Errorf("left behind after drops: %s", e.Name())
	}
	// The server still serves.
	c := ts.dial(t)
	c.response()
	c.do(authCmd)
	if r := c.do(cmd); r != "OK\r\n" {
		t.Fatalf("put after drops: %q", r)
	}
	if !strings.Contains(ts.log.String(), "Lost connection to client") {
		t.Errorf("drops not logged:\n%s", ts.log)
	}
}

// TestHugeLiteral: a literal far past any limit ends the session rather
// than being read.
func TestHugeLiteral(t *testing.T) {
	ts := newTestServer(t, nil, false)
	c := ts.dial(t)
	c.response()
	c.do(`AUTHENTICATE "PLAIN" "` + plain("alice", "pass") + "\"\r\n")
	if r := c.do("PUTSCRIPT \"x\" {4000000000+}\r\n"); !strings.HasPrefix(r, "BYE") {
		t.Fatalf("huge literal: %q", r)
	}
}

// TestTimeout: an idle client gets BYE.
func TestTimeout(t *testing.T) {
	ts := newTestServer(t, nil, false)
	ts.srv.preAuthTimeout = 100 * time.Millisecond
	c := ts.dial(t)
	c.response()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(c.br)
	if string(b) != "BYE \"Idle timeout\"\r\n" {
		t.Fatalf("after idling: %q", b)
	}
}

// TestShutdown: a process asked to stop says BYE.
func TestShutdown(t *testing.T) {
	ts := newTestServer(t, nil, false)
	ctx, cancel := context.WithCancel(context.Background())
	cs, ss := net.Pipe()
	done := make(chan struct{})
	go func() { defer close(done); ts.srv.ServeConn(ctx, ss); ss.Close() }()
	br := bufio.NewReader(cs)
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if l == "OK\r\n" {
			break
		}
	}
	cancel()
	l, _ := br.ReadString('\n')
	if l != "BYE \"Server shutting down\"\r\n" {
		t.Fatalf("on shutdown: %q", l)
	}
	<-done
}
