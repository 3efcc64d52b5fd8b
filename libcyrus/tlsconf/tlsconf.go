// Package tlsconf builds the server-side crypto/tls configuration of a
// cyrusgo service from imapd.conf, as Cyrus's tls_init_serverengine does
// from the same options: tls_server_cert and tls_server_key (the value
// "disabled" or nothing turns TLS off), tls_client_ca_file and
// tls_client_certs (client certificates), tls_versions and tls_ciphers.
// The Config it reads is already resolved for the service, so
// imaps_tls_server_cert wins over tls_server_cert for service imaps, and
// the old names (tls_cert_file, tls_key_file, tls_ca_file,
// tls_cipher_list) are aliases the config package resolves.
//
// Certificates are re-read when their files change: GetCertificate checks
// the files' modification times and sizes at each handshake and loads them
// again when they differ, so a renewed certificate is served without a
// restart, by a long-lived process as well as by services that master
// re-executes on SIGHUP. A renewal caught half-written (a new certificate
// with the old key) keeps the old pair in use and logs a warning, until
// both files agree. The client CA file is read once, at Load.
//
// SelfSigned makes the certificate make run's demo uses.
//
// The package holds no state between calls; each Load returns a config of
// its own, safe for concurrent use.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
)

// ErrNoTLS is returned by Load when TLS is not configured for the service:
// tls_server_cert is empty or "disabled". The protocol then offers no
// STARTTLS, and a service started with -s cannot run.
var ErrNoTLS = errors.New("tls: tls_server_cert not set or disabled")

// disabled is the value by which Cyrus turns a TLS file option off.
const disabled = "disabled"

// Load returns the server TLS configuration of cfg's service, or ErrNoTLS.
// Problems Cyrus would only warn about (an unknown cipher name, a
// tls_versions list with a gap Go cannot express) are logged on logger and
// not fatal; files that cannot be read are errors.
func Load(cfg *config.Config, logger *slog.Logger) (*tls.Config, error) {
	if logger == nil {
		logger = slog.Default()
	}
	certs := splitFiles(cfg.String(config.TLSServerCert))
	if len(certs) == 0 || certs[0] == disabled {
		return nil, ErrNoTLS
	}
	keys := splitFiles(cfg.String(config.TLSServerKey))
	if len(keys) > 0 && keys[0] == disabled {
		return nil, ErrNoTLS
	}
	if len(keys) == 0 {
		// Cyrus: "If not set, tls_server_cert must contain both private
		// and public key."
		keys = certs
	}
	if len(keys) != len(certs) {
		return nil, fmt.Errorf("tls_server_key names %d files for the %d of tls_server_cert", len(keys), len(certs))
	}
	store := &certStore{logger: logger}
	for i := range certs {
		store.pairs = append(store.pairs, &certPair{certFile: certs[i], keyFile: keys[i]})
	}
	if err := store.loadAll(); err != nil {
		return nil, err
	}

	tc := &tls.Config{GetCertificate: store.getCertificate}
	lo, hi, err := versions(cfg, logger)
	if err != nil {
		return nil, err
	}
	tc.MinVersion, tc.MaxVersion = lo, hi
	tc.CipherSuites = cipherSuites(cfg.String(config.TLSCiphers), logger)

	switch mode := cfg.Enum(config.TLSClientCerts); {
	case mode == "off":
		tc.ClientAuth = tls.NoClientCert
	default:
		caFile := cfg.String(config.TLSClientCAFile)
		if caFile == "" || caFile == disabled {
			if mode == "require" {
				return nil, fmt.Errorf("tls_client_certs: require needs tls_client_ca_file")
			}
			break
		}
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("tls_client_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls_client_ca_file %s: no PEM certificate", caFile)
		}
		tc.ClientCAs = pool
		// "optional", the default: a client may present a certificate,
		// which must then verify.
		tc.ClientAuth = tls.VerifyClientCertIfGiven
		if mode == "require" {
			tc.ClientAuth = tls.RequireAndVerifyClientCert
		}
	}
	return tc, nil
}

// splitFiles splits Cyrus's "file1,file2" (an RSA and an EC certificate).
func splitFiles(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// certPair is one certificate and key and what was loaded from them.
type certPair struct {
	certFile, keyFile string
	stamp             [2]fileStamp
	cert              *tls.Certificate
}

// fileStamp identifies a version of a file well enough to notice a
// replacement: renewals write a new file (new mtime, usually new size).
type fileStamp struct {
	mod  time.Time
	size int64
}

func stat(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{fi.ModTime(), fi.Size()}, nil
}

// certStore serves the certificates and reloads them when files change.
type certStore struct {
	logger *slog.Logger
	mu     sync.Mutex // guards pairs' contents
	pairs  []*certPair
}

// loadAll loads every pair; a failure is an error (at Load).
func (s *certStore) loadAll() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pairs {
		if err := p.load(); err != nil {
			return err
		}
	}
	return nil
}

func (p *certPair) load() error {
	cs, err := stat(p.certFile)
	if err != nil {
		return fmt.Errorf("tls_server_cert: %w", err)
	}
	ks, err := stat(p.keyFile)
	if err != nil {
		return fmt.Errorf("tls_server_key: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(p.certFile, p.keyFile)
	if err != nil {
		return fmt.Errorf("load %s and %s: %w", p.certFile, p.keyFile, err)
	}
	p.cert, p.stamp = &cert, [2]fileStamp{cs, ks}
	return nil
}

// refresh reloads the pairs whose files changed; a pair that fails to load
// keeps its previous certificate.
func (s *certStore) refresh() {
	for _, p := range s.pairs {
		cs, err1 := stat(p.certFile)
		ks, err2 := stat(p.keyFile)
		if err1 != nil || err2 != nil || [2]fileStamp{cs, ks} == p.stamp {
			continue
		}
		if err := p.load(); err != nil {
			s.logger.Warn(fmt.Sprintf("TLS certificate changed but cannot be loaded, keeping the previous one: %v", err))
			continue
		}
		s.logger.Info(fmt.Sprintf("reloaded TLS certificate %s", p.certFile))
	}
}

// getCertificate is tls.Config.GetCertificate: the first pair the client
// supports (RSA or EC), else the first.
func (s *certStore) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.mu.Lock()
	s.refresh()
	certs := make([]*tls.Certificate, len(s.pairs))
	for i, p := range s.pairs {
		certs[i] = p.cert
	}
	s.mu.Unlock()
	if len(certs) > 1 {
		for _, c := range certs {
			if hello.SupportsCertificate(c) == nil {
				return c, nil
			}
		}
	}
	return certs[0], nil
}

// versions maps tls_versions to a range. Cyrus starts from every protocol
// OpenSSL has and removes those not listed; Go takes a range, so a list
// with a gap ("tls1_0 tls1_2") becomes its span, with a warning. SSL 2 and
// 3 are not in Go and are ignored.
//
// When tls_versions is not set, the floor is TLS 1.2 although Cyrus's
// default list starts at tls1_0: Debian's OpenSSL (MinProtocol = TLSv1.2
// in its openssl.cnf) gives Cyrus that floor, and so does Go's own
// default. Setting tls_versions explicitly opens TLS 1.0 and 1.1 again.
func versions(cfg *config.Config, logger *slog.Logger) (uint16, uint16, error) {
	if !cfg.IsSet("tls_versions") {
		return tls.VersionTLS12, tls.VersionTLS13, nil
	}
	ids := map[string]uint16{
		"tls1_0": tls.VersionTLS10, "tls1_1": tls.VersionTLS11,
		"tls1_2": tls.VersionTLS12, "tls1_3": tls.VersionTLS13,
	}
	var got []uint16
	for _, v := range cfg.List(config.TLSVersions) {
		id, ok := ids[v]
		if !ok {
			logger.Warn(fmt.Sprintf("tls_versions: %s is not supported, ignored", v))
			continue
		}
		got = append(got, id)
	}
	if len(got) == 0 {
		return 0, 0, fmt.Errorf("tls_versions %q allows no TLS version this server supports", strings.Join(cfg.List(config.TLSVersions), " "))
	}
	slices.Sort(got)
	lo, hi := got[0], got[len(got)-1]
	if int(hi-lo) != len(got)-1 {
		logger.Warn(fmt.Sprintf("tls_versions %q has a gap; allowing every version from %s to %s",
			strings.Join(cfg.List(config.TLSVersions), " "), tls.VersionName(lo), tls.VersionName(hi)))
	}
	return lo, hi, nil
}
