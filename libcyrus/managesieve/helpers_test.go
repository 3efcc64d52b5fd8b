package managesieve

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/auth"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
	"github.com/cyrusgo/cyrusgo/libcyrus/sievescript"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata")

// logBuffer collects log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Reset()
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type testServer struct {
	srv   *Server
	store *sievescript.Store
	dir   string
	log   *logBuffer
}

// newTestServer is a server over an in-memory user store holding alice
// (password "pass") and the admin cyrus ("secret"), with sievedir in a
// temporary directory. kv adds or overrides imapd.conf options.
func newTestServer(t testing.TB, kv map[string]string, withTLS bool) *testServer {
	t.Helper()
	dir := t.TempDir()
	base := map[string]string{
		"configdirectory":     dir,
		"sievedir":            filepath.Join(dir, "sieve"),
		"sasl_pwcheck_method": "auxprop",
		"allowplaintext":      "yes",
		"admins":              "cyrus",
		"sasl_mech_list":      "PLAIN LOGIN",
		"sieve_maxscripts":    "3",
	}
	for k, v := range kv {
		base[k] = v
	}
	cfg, err := config.FromMap(base, "sieve")
	if err != nil {
		t.Fatal(err)
	}
	lb := &logBuffer{}
	logger := logging.New(logging.Options{Ident: "sieve", Writer: lb, Level: logging.LevelDebug})
	db := cyrusdb.NewMem()
	for u, p := range map[string]string{"alice": "pass", "cyrus": "secret"} {
		if err := auth.AddUser(db, u, p); err != nil {
			t.Fatal(err)
		}
	}
	a := auth.NewAuthenticator(cfg, auth.NewChecker(cfg, db, logger), logger, "sieve")
	store := sievescript.FromConfig(cfg, logger)
	o := Options{
		Config:    cfg,
		Auth:      a,
		Scripts:   store,
		Logger:    logger,
		AuthDelay: func() *auth.Delay { return &auth.Delay{Base: -1} },
	}
	if withTLS {
		o.TLS = testTLS(t)
	}
	return &testServer{srv: New(o), store: store, dir: base["sievedir"], log: lb}
}

// testTLS makes a self-signed certificate for the server.
func testTLS(t testing.TB) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// client drives a session over net.Pipe and records the transcript in
// the form of managesieve_session.txt: "C:" client lines, "S:" server
// lines, "S|" lines inside a server literal.
type client struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	tr   strings.Builder
	done chan struct{}
	// any makes the next response end after one line (with its
	// literals): a SASL challenge.
	any bool
}

func (ts *testServer) dial(t *testing.T) *client {
	t.Helper()
	cs, ss := net.Pipe()
	c := &client{t: t, conn: cs, br: bufio.NewReader(cs), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		ts.srv.ServeConn(context.Background(), ss)
		ss.Close()
	}()
	t.Cleanup(func() {
		cs.Close()
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			t.Error("session did not end")
		}
	})
	return c
}

// send writes raw client input, recording it line by line.
func (c *client) send(s string) {
	c.t.Helper()
	for _, l := range strings.SplitAfter(s, "\r\n") {
		if l != "" {
			c.tr.WriteString("C: " + strings.TrimSuffix(l, "\r\n") + "\n")
		}
	}
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// response reads one complete server response: lines, with literals,
// up to and including the OK, NO or BYE line. It returns the raw text.
func (c *client) response() string {
	c.t.Helper()
	var raw strings.Builder
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		line, err := c.br.ReadString('\n')
		if err != nil {
			c.t.Fatalf("read: %v (so far %q)", err, raw.String())
		}
		raw.WriteString(line)
		l := strings.TrimSuffix(line, "\r\n")
		start := l
		c.tr.WriteString("S: " + l + "\n")
		for {
			n, ok := trailingLiteral(l)
			if !ok {
				break
			}
			buf := make([]byte, n)
			if _, err := io.ReadFull(c.br, buf); err != nil {
				c.t.Fatalf("read literal: %v", err)
			}
			raw.Write(buf)
			for _, ll := range strings.SplitAfter(string(buf), "\r\n") {
				if ll != "" {
					c.tr.WriteString("S| " + strings.TrimSuffix(ll, "\r\n") + "\n")
				}
			}
			rest, err := c.br.ReadString('\n')
			if err != nil {
				c.t.Fatalf("read after literal: %v", err)
			}
			raw.WriteString(rest)
			l = strings.TrimSuffix(rest, "\r\n")
			c.tr.WriteString("S: " + l + "\n")
		}
		if c.any || strings.HasPrefix(start, "OK") || strings.HasPrefix(start, "NO") || strings.HasPrefix(start, "BYE") {
			c.any = false
			return raw.String()
		}
	}
}

func trailingLiteral(l string) (int, bool) {
	if !strings.HasSuffix(l, "}") {
		return 0, false
	}
	i := strings.LastIndexByte(l, '{')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(l[i+1 : len(l)-1])
	return n, err == nil
}

// do sends a command and reads its response.
func (c *client) do(cmd string) string {
	c.t.Helper()
	c.send(cmd)
	return c.response()
}

// challenge sends a command and reads a SASL challenge (or the result).
func (c *client) challenge(cmd string) string {
	c.t.Helper()
	c.send(cmd)
	c.any = true
	return c.response()
}

// golden compares the transcript with testdata/name.txt.
func (c *client) golden(name string) {
	c.t.Helper()
	path := filepath.Join("testdata", name+".txt")
	got := c.tr.String()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			c.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		c.t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		c.t.Errorf("transcript differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func plain(user, pass string) string {
	return b64("\x00" + user + "\x00" + pass)
}

func b64(s string) string { return auth.EncodeChallenge([]byte(s)) }

func lit(s string) string { return fmt.Sprintf("{%d+}\r\n%s", len(s), s) }
