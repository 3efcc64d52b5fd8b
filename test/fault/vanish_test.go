package fault

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/test/harness"
)

// TestVanishingClients drops connections at the worst moments: mid
// literal, mid DATA, mid IDLE, mid TLS handshake, mid AUTHENTICATE, and
// a client that stops reading a large FETCH. While the last one still
// hangs, another session must append to and expunge the same mailbox
// promptly (no lock held across a blocked write). Afterwards no service
// process is left in a session, no staging file remains, no half
// message is visible, and a Message-ID whose DATA was cut short is
// delivered normally later (no duplicate record left claimed).
func TestVanishingClients(t *testing.T) {
	t.Parallel()
	m := harness.StartMail(t, harness.MailOptions{Users: users, ImapdConf: faultConf, TLS: true})
	imapAddr, lmtpAddr := harness.Addr(m.IMAP), harness.Addr(m.LMTP)
	for _, u := range mailUsers {
		mustLogin(t, m, u).ok("LOGOUT")
	}

	// Large messages for the stalled FETCH.
	const big = 1 << 20
	for i := range 4 {
		lc, err := dialLMTP(lmtpAddr)
		if err != nil {
			t.Fatal(err)
		}
		codes, err := lc.deliver("sender@example.com", []string{"alice"}, message(fmt.Sprintf("<big-%d@fault.test>", i), big))
		lc.Close()
		if err != nil || codes["alice"] != 250 {
			t.Fatalf("big delivery: %v %v", codes, err)
		}
	}

	t.Run("append mid literal", func(t *testing.T) {
		for _, lit := range []string{"{%d}", "{%d+}"} {
			ic := mustLogin(t, m, "bob")
			msg := message("<half-append@fault.test>", 4000)
			sync := !strings.HasSuffix(lit, "+}")
			fmt.Fprintf(ic.c, "h1 APPEND INBOX "+lit+"\r\n", len(msg))
			if sync {
				if l, err := ic.readResp(); err != nil || !strings.HasPrefix(l, "+") {
					t.Fatalf("APPEND: %q %v, want a continuation", l, err)
				}
			}
			ic.c.Write(msg[:len(msg)/2])
			time.Sleep(50 * time.Millisecond)
			ic.Close()
		}
	})

	t.Run("lmtp mid data", func(t *testing.T) {
		lc, err := dialLMTP(lmtpAddr)
		if err != nil {
			t.Fatal(err)
		}
		lc.cmd("MAIL FROM:<sender@example.com>")
		lc.cmd("RCPT TO:<bob>")
		if code, _, err := lc.cmd("DATA"); err != nil || code != 354 {
			t.Fatalf("DATA: %d %v", code, err)
		}
		msg := dotStuff(message("<half-data@fault.test>", 200_000))
		lc.c.Write(msg[:len(msg)/2])
		time.Sleep(50 * time.Millisecond)
		lc.Close()
	})

	t.Run("mid idle", func(t *testing.T) {
		ic := mustLogin(t, m, "bob")
		ic.ok("SELECT INBOX")
		fmt.Fprintf(ic.c, "i1 IDLE\r\n")
		if l, err := ic.readResp(); err != nil || !strings.HasPrefix(l, "+") {
			t.Fatalf("IDLE: %q %v", l, err)
		}
		ic.Close()
	})

	t.Run("mid tls handshake", func(t *testing.T) {
		c := harness.Dial(t, "tcp", harness.Addr(m.IMAPS))
		// A TLS 1.2 record header announcing 512 bytes of handshake and
		// the first bytes of a ClientHello.
		c.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0xaa, 0xbb})
		time.Sleep(50 * time.Millisecond)
		c.Close()
	})

	t.Run("mid authenticate", func(t *testing.T) {
		for _, mech := range []string{"PLAIN", "SCRAM-SHA-256"} {
			ic, err := dialIMAP(imapAddr)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(ic.c, "u1 AUTHENTICATE %s\r\n", mech)
			if l, err := ic.readResp(); err != nil || !strings.HasPrefix(l, "+") {
				t.Fatalf("AUTHENTICATE %s: %q %v", mech, l, err)
			}
			if mech != "PLAIN" {
				// The client-first message; the server's challenge is
				// never answered.
				fmt.Fprintf(ic.c, "biwsbj1ib2Iscj1meXpjbG5vbmNlMTIzNA==\r\n")
				ic.readResp()
			}
			ic.Close()
		}
	})

	t.Run("stalled fetch", func(t *testing.T) {
		stalled := mustLogin(t, m, "alice")
		if _, err := stalled.ok("SELECT INBOX"); err != nil {
			t.Fatal(err)
		}
		// Far more than the socket buffers hold, never read.
		for i := range 8 {
			fmt.Fprintf(stalled.c, "f%d FETCH 1:* BODY[]\r\n", i)
		}
		time.Sleep(500 * time.Millisecond)

		// Another session appends and expunges in the same mailbox.
		other := mustLogin(t, m, "alice")
		start := time.Now()
		other.c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := other.ok("SELECT INBOX"); err != nil {
			t.Fatalf("SELECT while a FETCH is stalled: %v", err)
		}
		if tagged, err := other.append("INBOX", message("<beside-stalled@fault.test>", 500)); err != nil || !strings.HasPrefix(tagged, "OK") {
			t.Fatalf("APPEND while a FETCH is stalled: %q %v", tagged, err)
		}
		u, err := other.ok("SEARCH HEADER Message-ID beside-stalled")
		if err != nil {
			t.Fatal(err)
		}
		var seq string
		for _, l := range u {
			if f := strings.Fields(l); len(f) == 3 && f[1] == "SEARCH" {
				seq = f[2]
			}
		}
		if seq == "" {
			t.Fatalf("appended message not found: %q", u)
		}
		if _, err := other.ok("STORE %s +FLAGS (\\Deleted)", seq); err != nil {
			t.Fatal(err)
		}
		if _, err := other.ok("EXPUNGE"); err != nil {
			t.Fatalf("EXPUNGE while a FETCH is stalled: %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("append and expunge beside a stalled FETCH took %v", d)
		}
		other.ok("LOGOUT")
		other.Close()
		// The stalled client vanishes without reading.
		if tc, ok := stalled.c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		stalled.Close()
	})

	// Every session above is over: each service process must have
	// noticed and gone back to waiting.
	deadline := time.Now().Add(15 * time.Second)
	for {
		busy := busySessions(m)
		if len(busy) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("service processes still in a session after their clients left: %v", busy)
		}
		time.Sleep(100 * time.Millisecond)
	}
	checkNoStage(t, m.Path("spool"))
	checkStore(t, m)
	inv := inventory(t, m, "bob")
	for _, f := range inv["INBOX"] {
		if strings.Contains(f.messageID, "half-") {
			t.Errorf("a cut-short message is visible: %+v", f)
		}
	}
	for _, u := range mailUsers {
		checkQuota(t, m, u, inventory(t, m, u))
	}

	// The Message-ID whose DATA was cut short was never delivered, so it
	// must not be suppressed as a duplicate now.
	lc, err := dialLMTP(lmtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := lc.deliver("sender@example.com", []string{"bob"}, message("<half-data@fault.test>", 2000))
	lc.Close()
	if err != nil || codes["bob"] != 250 {
		t.Fatalf("delivery of the cut-short message: %v %v", codes, err)
	}
	n := 0
	for _, f := range inventory(t, m, "bob")["INBOX"] {
		if f.messageID == "<half-data@fault.test>" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("<half-data@fault.test> delivered in full is there %d times, want 1", n)
	}
}

// busySessions lists service processes that still hold a client
// connection.
func busySessions(m *harness.Mail) []string {
	var out []string
	for _, svc := range []string{"imap", "imaps", "lmtp"} {
		for _, p := range m.ServiceChildren(svc) {
			if n := harness.TCPConns(p.Pid); n > 0 {
				out = append(out, fmt.Sprintf("%s pid %d: %d connections", svc, p.Pid, n))
			}
		}
	}
	return out
}
