package tlsconf

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
)

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newLog() (*slog.Logger, *logBuf) {
	lb := &logBuf{}
	return slog.New(slog.NewTextHandler(lb, nil)), lb
}

// demoCert makes a self-signed pair in a temporary directory.
func demoCert(t *testing.T) (cert, key string) {
	t.Helper()
	dir := t.TempDir()
	cert, key = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	if err := SelfSigned(cert, key, []string{"localhost", "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func load(t *testing.T, kv map[string]string, service string) (*tls.Config, *logBuf, error) {
	t.Helper()
	all := map[string]string{"configdirectory": t.TempDir()}
	for k, v := range kv {
		all[k] = v
	}
	cfg, err := config.FromMap(all, service)
	if err != nil {
		t.Fatal(err)
	}
	logger, lb := newLog()
	tc, err := Load(cfg, logger)
	return tc, lb, err
}

func roots(t *testing.T, certFiles ...string) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	for _, f := range certFiles {
		pem, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pool.AppendCertsFromPEM(pem)
	}
	return pool
}

// handshake runs a real TLS handshake over loopback TCP between a server
// with sc and a client with cc, and returns the client's view.
func handshake(t *testing.T, sc, cc *tls.Config) (tls.ConnectionState, error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	srvErr := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			srvErr <- err
			return
		}
		defer c.Close()
		tc := tls.Server(c, sc)
		_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
		err = tc.Handshake()
		if err == nil {
			// TLS 1.3 client certificates are checked after the
			// client's handshake ends; a read surfaces the verdict.
			_, err = tc.Write([]byte("x"))
		}
		srvErr <- err
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tc := tls.Client(c, cc)
	_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
	err = tc.Handshake()
	if err == nil {
		_, err = tc.Read(make([]byte, 1))
	}
	if serr := <-srvErr; err == nil {
		err = serr
	}
	return tc.ConnectionState(), err
}

func TestSelfSigned(t *testing.T) {
	cert, key := demoCert(t)
	fi, err := os.Stat(key)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, %v", fi.Mode(), err)
	}
	before, _ := os.ReadFile(cert)
	// Present: left alone.
	if err := SelfSigned(cert, key, []string{"other"}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(cert)
	if !bytes.Equal(before, after) {
		t.Error("existing certificate replaced")
	}
	// Half present: refused.
	if err := os.Remove(key); err != nil {
		t.Fatal(err)
	}
	if err := SelfSigned(cert, key, nil); err == nil {
		t.Error("SelfSigned with only the certificate present succeeded")
	}
	// No temporary files left behind.
	if entries, _ := os.ReadDir(filepath.Dir(cert)); len(entries) != 1 {
		t.Errorf("directory holds %d files, want the certificate only", len(entries))
	}
	block, _ := pem.Decode(before)
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || c.Subject.CommonName != "localhost" ||
		len(c.IPAddresses) != 1 || len(c.DNSNames) != 1 {
		t.Errorf("certificate %v %v %v %v", c.PublicKeyAlgorithm, c.Subject, c.DNSNames, c.IPAddresses)
	}
}

func TestLoadDisabled(t *testing.T) {
	cert, key := demoCert(t)
	for _, kv := range []map[string]string{
		{},
		{"tls_server_cert": "disabled", "tls_server_key": key},
		{"tls_server_cert": cert, "tls_server_key": "disabled"},
		{"tls_server_cert": cert, "tls_server_key": key, "imaps_tls_server_cert": "disabled"},
	} {
		if _, _, err := load(t, kv, "imaps"); !errors.Is(err, ErrNoTLS) {
			t.Errorf("%v: err %v, want ErrNoTLS", kv, err)
		}
	}
	if _, _, err := load(t, map[string]string{"tls_server_cert": cert + ".missing", "tls_server_key": key}, "imap"); err == nil || errors.Is(err, ErrNoTLS) {
		t.Errorf("missing file: %v", err)
	}
}

func TestHandshake(t *testing.T) {
	cert, key := demoCert(t)
	// The per-service name wins, and the old name tls_cert_file is an alias.
	sc, _, err := load(t, map[string]string{"tls_cert_file": "/nonexistent", "imaps_tls_server_cert": cert, "tls_server_key": key}, "imaps")
	if err != nil {
		t.Fatal(err)
	}
	st, err := handshake(t, sc, &tls.Config{RootCAs: roots(t, cert), ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Version != tls.VersionTLS13 {
		t.Errorf("version %s", tls.VersionName(st.Version))
	}
	if _, err := handshake(t, sc, &tls.Config{RootCAs: roots(t, cert), ServerName: "localhost", MaxVersion: tls.VersionTLS11, MinVersion: tls.VersionTLS10}); err == nil {
		t.Error("TLS 1.1 accepted without tls_versions asking for it")
	}
	// The key in the certificate file, as Cyrus allows.
	both := filepath.Join(t.TempDir(), "both.pem")
	c, _ := os.ReadFile(cert)
	k, _ := os.ReadFile(key)
	if err := os.WriteFile(both, append(c, k...), 0o600); err != nil {
		t.Fatal(err)
	}
	sc, _, err = load(t, map[string]string{"tls_server_cert": both}, "imap")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := handshake(t, sc, &tls.Config{RootCAs: roots(t, cert), ServerName: "127.0.0.1"}); err != nil {
		t.Error(err)
	}
}

func TestVersions(t *testing.T) {
	cert, key := demoCert(t)
	for _, c := range []struct {
		versions   string
		lo, hi     uint16
		warn       string
		clientMax  uint16
		wantFail   bool
		negotiated uint16
	}{
		{versions: "tls1_2", lo: tls.VersionTLS12, hi: tls.VersionTLS12, negotiated: tls.VersionTLS12},
		{versions: "tls1_3", lo: tls.VersionTLS13, hi: tls.VersionTLS13, clientMax: tls.VersionTLS12, wantFail: true},
		{versions: "tls1_2 tls1_3", lo: tls.VersionTLS12, hi: tls.VersionTLS13, negotiated: tls.VersionTLS13},
		{versions: "tls1_0 tls1_1 tls1_2 tls1_3", lo: tls.VersionTLS10, hi: tls.VersionTLS13, negotiated: tls.VersionTLS13},
		{versions: "ssl3 tls1_0 tls1_2", lo: tls.VersionTLS10, hi: tls.VersionTLS12, warn: "gap", negotiated: tls.VersionTLS12},
	} {
		sc, lb, err := load(t, map[string]string{"tls_server_cert": cert, "tls_server_key": key, "tls_versions": c.versions}, "imap")
		if err != nil {
			t.Fatal(err)
		}
		if sc.MinVersion != c.lo || sc.MaxVersion != c.hi {
			t.Errorf("%s: range %x-%x", c.versions, sc.MinVersion, sc.MaxVersion)
		}
		if c.warn != "" && !strings.Contains(lb.String(), c.warn) {
			t.Errorf("%s: no warning %q in %s", c.versions, c.warn, lb)
		}
		st, err := handshake(t, sc, &tls.Config{RootCAs: roots(t, cert), ServerName: "localhost", MinVersion: tls.VersionTLS10, MaxVersion: c.clientMax})
		if c.wantFail {
			if err == nil {
				t.Errorf("%s: handshake with client max %x succeeded", c.versions, c.clientMax)
			}
			continue
		}
		if err != nil || st.Version != c.negotiated {
			t.Errorf("%s: version %x, %v", c.versions, st.Version, err)
		}
	}
	if _, _, err := load(t, map[string]string{"tls_server_cert": cert, "tls_server_key": key, "tls_versions": "ssl2 ssl3"}, "imap"); err == nil {
		t.Error("tls_versions without a TLS version accepted")
	}
}

func TestCiphers(t *testing.T) {
	logger, lb := newLog()
	for _, c := range []struct {
		list string
		want []uint16
		warn string
	}{
		{"DEFAULT", nil, ""},
		{"HIGH:!aNULL:!MD5:@STRENGTH", nil, ""},
		{"ECDHE+AESGCM:!aNULL", nil, ""},
		{"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:!aNULL",
			[]uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, ""},
		// Mozilla's intermediate list holds DHE suites Go lacks.
		{"ECDHE-ECDSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256:TLS_AES_128_GCM_SHA256",
			[]uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, "DHE-RSA-AES128-GCM-SHA256 not supported"},
		{"DHE-RSA-AES256-SHA:CAMELLIA256-SHA", nil, "names no cipher this server supports"},
	} {
		lb.b.Reset()
		got := cipherSuites(c.list, logger)
		if !slicesEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.list, got, c.want)
		}
		if c.warn == "" && lb.String() != "" || c.warn != "" && !strings.Contains(lb.String(), c.warn) {
			t.Errorf("%s: log %q, want %q", c.list, lb.String(), c.warn)
		}
	}

	// Honoured in a TLS 1.2 handshake.
	cert, key := demoCert(t)
	sc, _, err := load(t, map[string]string{"tls_server_cert": cert, "tls_server_key": key, "tls_ciphers": "ECDHE-ECDSA-CHACHA20-POLY1305"}, "imap")
	if err != nil {
		t.Fatal(err)
	}
	st, err := handshake(t, sc, &tls.Config{RootCAs: roots(t, cert), ServerName: "localhost", MaxVersion: tls.VersionTLS12})
	if err != nil || st.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 {
		t.Errorf("suite %s, %v", tls.CipherSuiteName(st.CipherSuite), err)
	}
	if _, err := handshake(t, sc, &tls.Config{RootCAs: roots(t, cert), ServerName: "localhost", MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}); err == nil {
		t.Error("a suite outside tls_ciphers was negotiated")
	}
}

func slicesEqual(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// newCA returns a CA and a client certificate it signed.
func newClientCert(t *testing.T) (caFile string, client tls.Certificate) {
	t.Helper()
	caKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	clKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	cl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "alice"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	clDER, err := x509.CreateCertificate(rand.Reader, cl, caCert, &clKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return caFile, tls.Certificate{Certificate: [][]byte{clDER}, PrivateKey: clKey}
}

func TestClientCerts(t *testing.T) {
	cert, key := demoCert(t)
	caFile, clientCert := newClientCert(t)
	_, otherCert := newClientCert(t) // signed by a CA the server does not know
	base := func(mode string) map[string]string {
		return map[string]string{"tls_server_cert": cert, "tls_server_key": key, "tls_client_ca_file": caFile, "tls_client_certs": mode}
	}
	client := func(c *tls.Certificate) *tls.Config {
		cc := &tls.Config{RootCAs: roots(t, cert), ServerName: "localhost"}
		if c != nil {
			cc.Certificates = []tls.Certificate{*c}
		}
		return cc
	}
	for _, c := range []struct {
		mode   string
		cert   *tls.Certificate
		wantOK bool
	}{
		{"optional", nil, true},
		{"optional", &clientCert, true},
		{"optional", &otherCert, false},
		{"require", nil, false},
		{"require", &clientCert, true},
		{"off", &otherCert, true},
	} {
		sc, _, err := load(t, base(c.mode), "imap")
		if err != nil {
			t.Fatal(err)
		}
		_, err = handshake(t, sc, client(c.cert))
		if (err == nil) != c.wantOK {
			t.Errorf("%s with cert %v: %v", c.mode, c.cert != nil, err)
		}
	}
	if _, _, err := load(t, map[string]string{"tls_server_cert": cert, "tls_server_key": key, "tls_client_certs": "require"}, "imap"); err == nil {
		t.Error("require without a CA file accepted")
	}
}

// A renewed certificate is served at the next handshake; a broken renewal
// keeps the old one.
func TestReload(t *testing.T) {
	cert, key := demoCert(t)
	sc, lb, err := load(t, map[string]string{"tls_server_cert": cert, "tls_server_key": key}, "imap")
	if err != nil {
		t.Fatal(err)
	}
	first, err := handshake(t, sc, &tls.Config{RootCAs: roots(t, cert), ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}

	newCert, newKey := demoCert(t)
	replace := func(src, dst string) {
		t.Helper()
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			t.Fatal(err)
		}
		// Make the change visible even on a file system with coarse
		// timestamps.
		future := time.Now().Add(time.Minute)
		if err := os.Chtimes(dst, future, future); err != nil {
			t.Fatal(err)
		}
	}
	// Half a renewal: new certificate, old key. The old pair stays.
	replace(newCert, cert)
	st, err := handshake(t, sc, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if !st.PeerCertificates[0].Equal(first.PeerCertificates[0]) {
		t.Error("a mismatched pair replaced the working one")
	}
	if !strings.Contains(lb.String(), "keeping the previous one") {
		t.Errorf("no warning: %s", lb)
	}
	// The key arrives: the new pair is served.
	replace(newKey, key)
	st, err = handshake(t, sc, &tls.Config{RootCAs: roots(t, newCert), ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	if st.PeerCertificates[0].Equal(first.PeerCertificates[0]) {
		t.Error("renewed certificate not served")
	}
}

// With an RSA and an EC certificate ("rsa.pem,ec.pem"), each client gets
// one it can use.
func TestTwoCertificates(t *testing.T) {
	ecCert, ecKey := demoCert(t)
	dir := t.TempDir()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &rsaKey.PublicKey, rsaKey)
	rsaCert, rsaKeyFile := filepath.Join(dir, "rsa.pem"), filepath.Join(dir, "rsa.key")
	_ = os.WriteFile(rsaCert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	_ = os.WriteFile(rsaKeyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}), 0o600)

	sc, _, err := load(t, map[string]string{"tls_server_cert": rsaCert + "," + ecCert, "tls_server_key": rsaKeyFile + "," + ecKey}, "imap")
	if err != nil {
		t.Fatal(err)
	}
	pool := roots(t, rsaCert, ecCert)
	st, err := handshake(t, sc, &tls.Config{RootCAs: pool, ServerName: "localhost", MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.PeerCertificates[0].PublicKey.(*ecdsa.PublicKey); !ok {
		t.Error("ECDSA-only client got a non-EC certificate")
	}
	st, err = handshake(t, sc, &tls.Config{RootCAs: pool, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.PeerCertificates[0].PublicKey.(*rsa.PublicKey); !ok {
		t.Error("first certificate not preferred")
	}
}
