// End-to-end IMAP tests: the real master runs the real imapd; clients are
// Python's imaplib, go-imap and Debian's imtest.
package imap_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/test/harness"
)

func TestLoginSelectLogout(t *testing.T) {
	t.Parallel()
	m := harness.StartMail(t, harness.MailOptions{Users: map[string]string{"alice": "pass", "cyrus": "secret"}})
	out := harness.Python(t, `
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
try:
    m.login("alice", "wrong")
    print("wrong password accepted")
except imaplib.IMAP4.error as e:
    print("refused", e)
typ, data = m.login("alice", "pass")
print(typ, data[0].decode())
typ, data = m.select("INBOX")
print("select", typ, data[0].decode())
m.logout()
`, strconv.Itoa(m.IMAP))
	for _, want := range []string{"refused", "OK [CAPABILITY IMAP4rev1", "User logged in", "select OK 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(m.Log(), "login: ") || !strings.Contains(m.Log(), "badlogin: ") {
		t.Errorf("login lines missing from the log:\n%s", m.Log())
	}
}

func TestPlaintextRefusedWithoutTLS(t *testing.T) {
	t.Parallel()
	m := harness.StartMail(t, harness.MailOptions{
		TLS:       true,
		Users:     map[string]string{"alice": "pass"},
		ImapdConf: "allowplaintext: no\n",
	})
	out := harness.Python(t, `
import imaplib, ssl, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
print("caps", " ".join(m.capabilities))
try:
    m.login("alice", "pass")
    print("plaintext login accepted")
except imaplib.IMAP4.error as e:
    print("refused", e)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
m.starttls(ssl_context=ctx)
typ, data = m.login("alice", "pass")
print("after starttls", typ)
m.logout()
s = imaplib.IMAP4_SSL("127.0.0.1", int(sys.argv[2]), ssl_context=ctx)
typ, data = s.login("alice", "pass")
print("imaps", typ)
s.logout()
`, strconv.Itoa(m.IMAP), strconv.Itoa(m.IMAPS))
	for _, want := range []string{"LOGINDISABLED", "STARTTLS", "refused", "after starttls OK", "imaps OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "plaintext login accepted") {
		t.Error("plaintext login accepted before STARTTLS")
	}
}
