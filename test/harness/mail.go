package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Mail is a running master with every protocol service on loopback.
// Services whose binaries are not built yet are disabled by master, so
// tests of one protocol do not wait for the others.
type Mail struct {
	*Server
	IMAP, IMAPS, POP3, POP3S, LMTP, LMTPAuth, Sieve int
	LMTPSocket                                      string
}

// MailOptions shape a Mail server.
type MailOptions struct {
	// ImapdConf is appended to the base imapd.conf (later lines win).
	ImapdConf string
	// Users get auxprop passwords set with cyrpasswd before master starts.
	Users map[string]string
	// TLS generates a self-signed certificate and configures it.
	TLS bool
}

// mailImapdConf is the imapd.conf of every protocol test: classic Cyrus
// namespace as the reference transcripts use, auxprop users, admin cyrus.
const mailImapdConf = BaseImapdConf + `admins: cyrus
sasl_pwcheck_method: auxprop
allowplaintext: yes
altnamespace: no
unixhierarchysep: no
autocreate_quota: 0
lmtpsocket: @ROOT@/run/socket/lmtp
imap_client_limit: 4
`

// StartMail starts master with imap, imaps, pop3, pop3s, lmtp (-a),
// lmtpauth, lmtpunix and sieve services.
func StartMail(t testing.TB, o MailOptions) *Mail {
	t.Helper()
	m := &Mail{
		IMAP: FreePort(t), IMAPS: FreePort(t), POP3: FreePort(t), POP3S: FreePort(t),
		LMTP: FreePort(t), LMTPAuth: FreePort(t), Sieve: FreePort(t),
	}
	conf := mailImapdConf
	if o.TLS {
		conf += "tls_server_cert: @ROOT@/conf/tls/server.pem\ntls_server_key: @ROOT@/conf/tls/server.key\n"
	}
	conf += o.ImapdConf
	c := "@ROOT@/imapd.conf"
	cyrus := fmt.Sprintf(`SERVICES {
  imap      cmd="imapd -C %[1]s" listen="127.0.0.1:%[2]d"
  imaps     cmd="imapd -s -C %[1]s" listen="127.0.0.1:%[3]d"
  pop3      cmd="pop3d -C %[1]s" listen="127.0.0.1:%[4]d"
  pop3s     cmd="pop3d -s -C %[1]s" listen="127.0.0.1:%[5]d"
  lmtp      cmd="lmtpd -a -C %[1]s" listen="127.0.0.1:%[6]d"
  lmtpauth  cmd="lmtpd -C %[1]s" listen="127.0.0.1:%[7]d"
  lmtpunix  cmd="lmtpd -C %[1]s" listen="@ROOT@/run/socket/lmtp"
  sieve     cmd="timsieved -C %[1]s" listen="127.0.0.1:%[8]d"
}
`, c, m.IMAP, m.IMAPS, m.POP3, m.POP3S, m.LMTP, m.LMTPAuth, m.Sieve)
	m.Server = Start(t, Config{
		ImapdConf: conf,
		CyrusConf: cyrus,
		Setup: func(root string) {
			if o.TLS {
				writeCert(t, filepath.Join(root, "conf", "tls"))
			}
			if len(o.Users) > 0 {
				imapd := strings.ReplaceAll(conf, "@ROOT@", root)
				os.WriteFile(filepath.Join(root, "imapd.conf"), []byte(imapd), 0o644)
				for u, p := range o.Users {
					SetPassword(t, Bin(t), filepath.Join(root, "imapd.conf"), u, p)
				}
			}
		},
	})
	m.LMTPSocket = m.Path("run/socket/lmtp")
	return m
}

// SetPassword creates or updates an auxprop user with the cyrpasswd tool
// (which opens the databases directly: master must not be running yet, or
// it goes through master's socket).
func SetPassword(t testing.TB, bin, imapdConf, user, pass string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "cyrpasswd"), "-C", imapdConf, "add", user)
	cmd.Stdin = strings.NewReader(pass + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		cmd = exec.Command(filepath.Join(bin, "cyrpasswd"), "-C", imapdConf, "passwd", user)
		cmd.Stdin = strings.NewReader(pass + "\n")
		if out2, err2 := cmd.CombinedOutput(); err2 != nil {
			t.Fatalf("cyrpasswd %s: %v %s / %v %s", user, err, out, err2, out2)
		}
	}
}

// writeCert makes a self-signed certificate for 127.0.0.1 and localhost
// with openssl-free Go code in the tlsconf package, through the tool.
func writeCert(t testing.TB, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(Bin(t), "mkcert"), filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkcert: %v %s", err, out)
	}
}
