package imap_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/test/harness"
)

// compressClient is a COMPRESS=DEFLATE client (RFC 4978) in Python: raw
// deflate both ways (zlib with wbits -15), a Z_SYNC_FLUSH after each
// command, and one command at a time, each answered before the next is
// sent, so a server that held back output or read ahead would time out.
// argv: port, mode (plain, starttls, imaps).
const compressClient = `
import socket, ssl, sys, zlib

port, mode = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = socket.create_connection(("127.0.0.1", port), timeout=15)
if mode == "imaps":
    s = ctx.wrap_socket(s)

class Conn:
    def __init__(self, s):
        self.s, self.buf, self.z, self.unz = s, b"", None, None
    def fill(self):
        data = self.s.recv(65536)
        if not data:
            raise EOFError("server closed the connection")
        if self.unz:
            data = self.unz.decompress(data)
        self.buf += data
    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l
    def read(self, n):
        while len(self.buf) < n:
            self.fill()
        b, self.buf = self.buf[:n], self.buf[n:]
        return b
    def send(self, b):
        if self.z:
            b = self.z.compress(b) + self.z.flush(zlib.Z_SYNC_FLUSH)
        self.s.sendall(b)
    def response(self, tag):
        # The lines up to the tagged one, literals inlined.
        out = []
        while True:
            l = self.line()
            while l.endswith(b"}") and b"{" in l:
                n = int(l[l.rindex(b"{") + 1:-1])
                l += b"\r\n" + self.read(n) + self.line()
            out.append(l.decode("utf-8", "replace"))
            if l.startswith(tag.encode() + b" "):
                return out
    def cmd(self, tag, text):
        self.send(("%s %s\r\n" % (tag, text)).encode())
        return self.response(tag)

c = Conn(s)
print("greeting", c.line().decode())
if mode == "starttls":
    print(c.cmd("t", "STARTTLS")[-1])
    c.s = ctx.wrap_socket(c.s)
print(c.cmd("l", "LOGIN alice pass")[-1])
caps = c.cmd("c", "CAPABILITY")[0]
print("offered", "COMPRESS=DEFLATE" in caps.split())
print(c.cmd("z", "COMPRESS DEFLATE")[-1])
c.z = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
c.unz = zlib.decompressobj(-15)
caps = c.cmd("c2", "CAPABILITY")[0]
print("offered after", "COMPRESS=DEFLATE" in caps.split())
print(c.cmd("z2", "COMPRESS DEFLATE")[-1])
body = b"Subject: squeezed\r\n\r\n" + b"all work and no play\r\n" * 500
c.send(b"a APPEND INBOX {%d}\r\n" % len(body))
print("cont", c.line().decode())
c.send(body + b"\r\n")
ok = c.response("a")[-1]
print(ok)
uid = ok.split("]")[0].split()[-1]
print(c.cmd("s", "SELECT INBOX")[-1])
c.send(b"f UID FETCH %s (RFC822.SIZE BODY.PEEK[])\r\n" % uid.encode())
head = c.line()
want = b"(UID %s RFC822.SIZE %d BODY[] {%d}" % (uid.encode(), len(body), len(body))
print("fetched", head.endswith(want), c.read(len(body)) == body, c.line().decode(), c.line().decode())
print("found", uid in c.cmd("q", "UID SEARCH SUBJECT squeezed")[0].split()[2:])
print(c.cmd("n", "NOOP")[-1])
for l in c.cmd("o", "LOGOUT"):
    print("logout", l)
`

func TestCompressDeflate(t *testing.T) {
	t.Parallel()
	m := harness.StartMail(t, harness.MailOptions{TLS: true, Users: map[string]string{"alice": "pass"}})
	for _, tc := range []struct {
		mode string
		port int
	}{
		{"plain", m.IMAP},
		{"starttls", m.IMAP},
		{"imaps", m.IMAPS},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			out := harness.Python(t, compressClient, strconv.Itoa(tc.port), tc.mode)
			for _, want := range []string{
				"offered True",
				"z OK DEFLATE active",
				"offered after False",
				"z2 BAD [COMPRESSIONACTIVE] DEFLATE active via COMPRESS",
				"cont + go ahead",
				"a OK [APPENDUID",
				"s OK [READ-WRITE] Completed",
				"fetched True True ) f OK Completed",
				"found True",
				"n OK Completed",
				"logout * BYE LOGOUT received",
				"logout o OK Completed",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}
