// Interop with Debian's cyrus-imapd: our master runs Cyrus's imapd and a
// client logs in through it; Cyrus's master runs our service.
package interop_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/test/harness"
)

const (
	cyrusBin    = "/usr/lib/cyrus/bin"
	cyrusMaster = cyrusBin + "/master"
	cyrusImapd  = cyrusBin + "/imapd"
)

func needCyrus(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(cyrusImapd); err != nil {
		t.Skip("Debian's cyrus-imapd is not installed (apt-get install cyrus-imapd)")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: Cyrus's binaries switch to the cyrus user")
	}
	if _, err := user.Lookup("cyrus"); err != nil {
		t.Skip("no cyrus user")
	}
	if _, err := exec.LookPath("saslpasswd2"); err != nil {
		t.Skip("saslpasswd2 missing (apt-get install sasl2-bin)")
	}
}

// cyrusImapdConf serves both directions: Cyrus's binaries need the sasl_
// and path options, ours ignore what they do not use.
const cyrusImapdConf = `configdirectory: @ROOT@/conf
defaultpartition: default
partition-default: @ROOT@/spool
sievedir: @ROOT@/sieve
proc_path: @ROOT@/run/proc
mboxname_lockpath: @ROOT@/run/lock
master_ready_file: @ROOT@/run/master.ready
cyrus_user: cyrus
admins: cyrus
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: @ROOT@/conf/sasldb2
sasl_mech_list: PLAIN LOGIN
servername: localhost
`

func TestOurMasterRunsCyrusImapd(t *testing.T) {
	needCyrus(t)
	p := harness.FreePort(t)
	srv := harness.Start(t, harness.Config{
		NoWait:    true,
		ImapdConf: cyrusImapdConf,
		CyrusConf: fmt.Sprintf("SERVICES {\n  imap cmd=\"%s -C @ROOT@/imapd.conf\" listen=\"127.0.0.1:%d\"\n}\n", cyrusImapd, p),
		Owner:     "cyrus",
		Setup: func(root string) {
			os.MkdirAll(root+"/conf/socket", 0o755)
			cmd := exec.Command("saslpasswd2", "-p", "-c", "-u", "localhost", "-f", root+"/conf/sasldb2", "alice")
			cmd.Stdin = strings.NewReader("pass\n")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("saslpasswd2: %v %s", err, out)
			}
		},
	})
	c := harness.Dial(t, "tcp", harness.Addr(p))
	defer c.Close()
	r := bufio.NewReader(c)
	expect := func(prefix string) string {
		t.Helper()
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("read: %v; log:\n%s", err, srv.Log())
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
	}
	if g := expect("* OK"); !strings.Contains(g, "Cyrus IMAP") {
		t.Fatalf("greeting %q", g)
	}
	fmt.Fprintf(c, "a LOGIN alice pass\r\n")
	if l := expect("a "); !strings.HasPrefix(l, "a OK") {
		t.Fatalf("LOGIN: %q", l)
	}
	fmt.Fprintf(c, "b LOGOUT\r\n")
	expect("b OK")
}

func TestCyrusMasterRunsOurService(t *testing.T) {
	needCyrus(t)
	p := harness.FreePort(t)
	srv := harness.Start(t, harness.Config{
		NoWait:     true,
		MasterPath: cyrusMaster,
		ImapdConf:  cyrusImapdConf,
		CyrusConf:  fmt.Sprintf("SERVICES {\n  lemming cmd=\"@BIN@/lemming -C @ROOT@/imapd.conf\" listen=\"127.0.0.1:%d\" prefork=1\n}\n", p),
		Owner:      "cyrus",
	})
	for i := 0; i < 3; i++ {
		c := harness.Dial(t, "tcp", harness.Addr(p))
		r := bufio.NewReader(c)
		l, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(l, "lemming lemming ") {
			t.Fatalf("greeting %q %v; log:\n%s", l, err, srv.Log())
		}
		fmt.Fprintf(c, "QUIT\r\n")
		if l, _ := r.ReadString('\n'); !strings.HasPrefix(l, "bye") {
			t.Fatalf("QUIT: %q", l)
		}
		c.Close()
	}
}
