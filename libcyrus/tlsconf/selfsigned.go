package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/fsutil"
)

// selfSignedLifetime is long because the certificate only serves a demo
// and local tests, where an expiry would be a surprise, not a safeguard.
const selfSignedLifetime = 10 * 365 * 24 * time.Hour

// SelfSigned writes an ECDSA P-256 self-signed certificate for hosts (DNS
// names or IP addresses; the first is also the subject's common name) to
// certPath, and its key to keyPath (mode 0600), unless both files exist
// already, which is not an error. Only one of them existing is an error:
// writing a new pair would replace a file someone may care about.
//
// It is meant for make run's demo and for tests, never for production
// service: clients cannot verify the certificate without being told to
// trust it (openssl s_client -CAfile certPath, or adding it to a client's
// roots).
func SelfSigned(certPath, keyPath string, hosts []string) error {
	certOK, err := exists(certPath)
	if err != nil {
		return err
	}
	keyOK, err := exists(keyPath)
	if err != nil {
		return err
	}
	switch {
	case certOK && keyOK:
		return nil
	case certOK || keyOK:
		return fmt.Errorf("self-signed certificate: only one of %s and %s exists; remove it or provide the other", certPath, keyPath)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("self-signed certificate: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return fmt.Errorf("self-signed certificate: %w", err)
	}
	now := time.Now()
	cn := "cyrusgo"
	if len(hosts) > 0 {
		cn = hosts[0]
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"cyrusgo demo"}},
		NotBefore:    now.Add(-time.Hour), // tolerate a client clock a little behind
		NotAfter:     now.Add(selfSignedLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		// A CA flag lets clients (OpenSSL among them) take the
		// certificate as its own trust anchor.
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("self-signed certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("self-signed certificate: %w", err)
	}
	// The key first: a certificate without its key would block the next
	// attempt (see above), a key without its certificate too, but the
	// key is the file that must never be left readable.
	if err := writeFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	if err := writeFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return nil
}

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("self-signed certificate: %w", err)
}

// writeFile writes data to path whole or not at all (fsutil's recipe), so
// a crash never leaves a truncated key or certificate, creating the
// directory if needed.
func writeFile(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := fsutil.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
