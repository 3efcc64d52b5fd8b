package imap_test

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/test/harness"
)

const imtest = "/usr/lib/cyrus/bin/imtest"

// runClient runs an interactive client with input, bounded in time.
func runClient(t *testing.T, input string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(input)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() {
		out, err = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s timed out; output:\n%s", name, out)
	}
	_ = err // these clients exit non-zero on a server BYE; the output tells
	return string(out)
}

// Debian's imtest (cyrus-clients) authenticating with SASL PLAIN after
// STARTTLS, and with SCRAM-SHA-256 on the same server.
func TestImtest(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(imtest); err != nil {
		t.Skip("imtest not installed (apt-get install cyrus-clients)")
	}
	m := harness.StartMail(t, harness.MailOptions{TLS: true, Users: map[string]string{"alice": "pass"}, ImapdConf: "allowplaintext: no\n"})
	port := strconv.Itoa(m.IMAP)
	out := runClient(t, "a1 CAPABILITY\r\na2 LOGOUT\r\n", imtest, "-t", "", "-m", "PLAIN", "-a", "alice", "-w", "pass", "-p", port, "127.0.0.1")
	if !strings.Contains(out, "Authenticated.") || !strings.Contains(out, "a2 OK") {
		t.Fatalf("imtest PLAIN over STARTTLS:\n%s", out)
	}
	out = runClient(t, "a2 LOGOUT\r\n", imtest, "-m", "SCRAM-SHA-256", "-a", "alice", "-w", "pass", "-p", port, "127.0.0.1")
	if !strings.Contains(out, "Authenticated.") {
		t.Fatalf("imtest SCRAM-SHA-256:\n%s", out)
	}
	out = runClient(t, "a2 LOGOUT\r\n", imtest, "-m", "SCRAM-SHA-256", "-a", "alice", "-w", "wrong", "-p", port, "127.0.0.1")
	if strings.Contains(out, "Authenticated.") {
		t.Fatalf("imtest SCRAM with a wrong password authenticated:\n%s", out)
	}
}

// openssl s_client -starttls imap and implicit TLS on imaps.
func TestOpenSSLClient(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	m := harness.StartMail(t, harness.MailOptions{TLS: true, Users: map[string]string{"alice": "pass"}})
	out := runClient(t, "a LOGIN alice pass\r\nb LOGOUT\r\n", "openssl", "s_client", "-quiet", "-starttls", "imap", "-connect", "127.0.0.1:"+strconv.Itoa(m.IMAP))
	if !strings.Contains(out, "a OK") {
		t.Fatalf("s_client -starttls imap:\n%s", out)
	}
	out = runClient(t, "a LOGIN alice pass\r\nb LOGOUT\r\n", "openssl", "s_client", "-quiet", "-connect", "127.0.0.1:"+strconv.Itoa(m.IMAPS))
	if !strings.Contains(out, "* OK [CAPABILITY") || !strings.Contains(out, "a OK") {
		t.Fatalf("s_client imaps:\n%s", out)
	}
	// The same certificate and code serve POP3's STLS (RFC 2595).
	out = runClient(t, "USER alice\r\nPASS pass\r\nQUIT\r\n", "openssl", "s_client", "-quiet", "-starttls", "pop3", "-connect", "127.0.0.1:"+strconv.Itoa(m.POP3))
	if !strings.Contains(out, "+OK") || strings.Contains(out, "-ERR") {
		t.Fatalf("s_client -starttls pop3:\n%s", out)
	}
	// TLS 1.0 is refused by the default tls_versions.
	out = runClient(t, "", "openssl", "s_client", "-tls1", "-connect", "127.0.0.1:"+strconv.Itoa(m.IMAPS))
	if strings.Contains(out, "* OK [CAPABILITY") {
		t.Fatalf("TLS 1.0 handshake accepted:\n%s", out)
	}
}

// Bad input gets a clear answer and never a crash: a non-IMAP speaker gets
// BYE, a refused literal's bytes are not run as commands.
func TestBadInput(t *testing.T) {
	t.Parallel()
	m := harness.StartMail(t, harness.MailOptions{Users: map[string]string{"alice": "pass"}, ImapdConf: "maxliteral: 100\n"})
	out := harness.Python(t, `
import socket, sys
def talk(lines):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    f = s.makefile("rb")
    greet = f.readline()
    s.sendall(lines)
    out = []
    try:
        while True:
            l = f.readline()
            if not l:
                break
            out.append(l.decode(errors="replace").rstrip())
            if l.startswith(b"z "):
                break
    except socket.timeout:
        out.append("TIMEOUT")
    s.close()
    return out
print("\n".join(talk(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")))
print("---")
print("\n".join(talk(b"a LOGIN alice pass\r\nb LOGIN {1000}\r\nc LOGIN x y\r\nz LOGOUT\r\n")))
print("---")
# The 200 bytes of the refused non-synchronizing literal look like commands;
# they must be discarded, not run.
payload = b"d DELETE INBOX\r\n" * 12 + b"xxxxxxxx"
assert len(payload) == 200
print("\n".join(talk(b"a LOGIN {5+}\r\nalice pass\r\nb SELECT {200+}\r\n" + payload + b"\r\nz LOGOUT\r\n")))
`, strconv.Itoa(m.IMAP))
	parts := strings.Split(out, "---")
	if !strings.Contains(parts[0], "* BYE") {
		t.Errorf("HTTP request not answered with BYE:\n%s", parts[0])
	}
	if !strings.Contains(parts[1], "a OK") || !strings.Contains(parts[1], "b NO") && !strings.Contains(parts[1], "b BAD") {
		t.Errorf("oversized literal:\n%s", parts[1])
	}
	if strings.Contains(parts[2], "d OK") || strings.Contains(parts[2], "d NO") {
		t.Errorf("bytes of a refused literal ran as commands:\n%s", parts[2])
	}
	if !strings.Contains(parts[2], "z OK") {
		t.Errorf("session did not continue after a refused literal:\n%s", parts[2])
	}
	if strings.Contains(m.Log(), "panic") {
		t.Errorf("panic in log:\n%s", m.Log())
	}
}
