package smtptest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// sendmailScript is the server side of "sendmail -bs": RFC 5321 4.5.1's
// minimum (EHLO, HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), each message
// written to a file of its own in the capture directory.
const sendmailScript = `#!/usr/bin/env python3
import os, sys, time
DIR = %q
args = " ".join(sys.argv[1:])
inp, out = sys.stdin.buffer, sys.stdout.buffer
def reply(s):
    out.write(s.encode() + b"\r\n")
    out.flush()
reply("220 capture ESMTP")
mail, rcpts = None, []
while True:
    line = inp.readline()
    if not line:
        break
    cmd = line.decode("utf-8", "replace").rstrip("\r\n")
    verb = cmd[:4].upper()
    if verb == "EHLO":
        reply("250-capture")
        reply("250-AUTH PLAIN")
        reply("250-DSN")
        reply("250-SIZE 10000000")
        reply("250 8BITMIME")
    elif verb == "HELO":
        reply("250 capture")
    elif verb == "MAIL":
        if os.path.exists(os.path.join(DIR, "fail")):
            reply("554 5.7.1 refused by the test")
            continue
        mail, rcpts = cmd, []
        reply("250 2.1.0 ok")
    elif verb == "RCPT":
        if mail is None:
            reply("503 5.5.1 MAIL first")
            continue
        rcpts.append(cmd)
        reply("250 2.1.5 ok")
    elif verb == "DATA":
        if not rcpts:
            reply("503 5.5.1 RCPT first")
            continue
        reply("354 go ahead")
        data = []
        while True:
            l = inp.readline()
            if not l:
                sys.exit(1)
            if l in (b".\r\n", b".\n"):
                break
            if l.startswith(b"."):
                l = l[1:]
            data.append(l)
        head = "Argv: %%s\r\nMail: %%s\r\n" %% (args, mail) + "".join("Rcpt: %%s\r\n" %% r for r in rcpts) + "\r\n"
        name = "%%020d.%%d" %% (time.time_ns(), os.getpid())
        tmp = os.path.join(DIR, "tmp." + name)
        with open(tmp, "wb") as f:
            f.write(head.encode() + b"".join(data))
        os.rename(tmp, os.path.join(DIR, "msg." + name))
        mail, rcpts = None, []
        reply("250 2.0.0 queued")
    elif verb == "RSET":
        mail, rcpts = None, []
        reply("250 2.0.0 ok")
    elif verb == "NOOP":
        reply("250 2.0.0 ok")
    elif verb == "QUIT":
        reply("221 2.0.0 bye")
        break
    else:
        reply("502 5.5.2 unknown command")
`

// Sendmail writes the "sendmail -bs" stand-in into a new temporary
// directory and returns its path (for the sendmail option) and the
// directory its captures go to, which anyone may write (lmtpd may run as
// another user).
func Sendmail(t testing.TB) (program, dir string) {
	t.Helper()
	dir = t.TempDir()
	os.Chmod(dir, 0o777)
	program = filepath.Join(t.TempDir(), "sendmail")
	if err := os.WriteFile(program, fmt.Appendf(nil, sendmailScript, dir), 0o755); err != nil {
		t.Fatal(err)
	}
	return program, dir
}
