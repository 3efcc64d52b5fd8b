package imap_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/test/harness"
)

// Sessions in different imapd processes (client_limit 1, as Cyrus) see
// each other's appends, flag changes and expunges at the next command, and
// an IDLE is woken by a change made in another process.
func TestSessionsInSeparateProcesses(t *testing.T) {
	t.Parallel()
	m := harness.StartMail(t, harness.MailOptions{
		Users:     map[string]string{"alice": "pass"},
		ImapdConf: "imap_client_limit: 1\n",
	})
	out := harness.Python(t, `
import imaplib, socket, sys, time
port = int(sys.argv[1])
a = imaplib.IMAP4("127.0.0.1", port); a.login("alice", "pass")
b = imaplib.IMAP4("127.0.0.1", port); b.login("alice", "pass")
a.select("INBOX"); b.select("INBOX")
msg = b"From: x@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
for i in range(3):
    a.append("INBOX", None, None, msg)
typ, data = b.noop()
print("b after append:", b.untagged_responses.get("EXISTS"))
b.untagged_responses.clear()
a.store("2", "+FLAGS", "(\\Deleted)")
a.expunge()
b.noop()
print("b after expunge:", b.untagged_responses.get("EXPUNGE"))
# IDLE in b, woken by an append in a.
tag = b._new_tag().decode()
b.send(("%s IDLE\r\n" % tag).encode())
print("idle:", b.readline().decode().strip())
start = time.time()
a.append("INBOX", None, None, msg)
b.sock.settimeout(5)
line = b.readline().decode().strip()
print("idle woke:", line, "in", "%.1f" % (time.time() - start), "s")
b.send(b"DONE\r\n")
while True:
    l = b.readline().decode()
    if l.startswith(tag):
        print("idle done:", l.strip()); break
a.logout(); b.logout()
`, strconv.Itoa(m.IMAP))
	for _, want := range []string{"b'3']", "b after expunge: [b'2']", "idle: + idling", "EXISTS in", "idle done:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := len(m.ServiceChildren("imap")); n < 2 {
		t.Errorf("%d imap processes, want one per session", n)
	}
}
