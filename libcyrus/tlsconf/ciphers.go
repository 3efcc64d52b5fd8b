package tlsconf

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"
)

// opensslSuites maps OpenSSL cipher names (ciphers(1)) to the TLS 1.0-1.2
// suites crypto/tls implements. TLS 1.3 suites are not configurable in Go,
// nor by tls_ciphers in Cyrus (OpenSSL keeps them apart), so they are not
// here. RC4 and 3DES are left out on purpose: Go only has them as
// "insecure" suites, and a configuration naming them gets a warning.
var opensslSuites = map[string]uint16{
	"ECDHE-ECDSA-AES128-GCM-SHA256": tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-RSA-AES128-GCM-SHA256":   tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-ECDSA-AES256-GCM-SHA384": tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-RSA-AES256-GCM-SHA384":   tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-ECDSA-CHACHA20-POLY1305": tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	"ECDHE-RSA-CHACHA20-POLY1305":   tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	"ECDHE-ECDSA-AES128-SHA256":     tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
	"ECDHE-RSA-AES128-SHA256":       tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	"ECDHE-ECDSA-AES128-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	"ECDHE-RSA-AES128-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	"ECDHE-ECDSA-AES256-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	"ECDHE-RSA-AES256-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	"AES128-GCM-SHA256":             tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
	"AES256-GCM-SHA384":             tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	"AES128-SHA256":                 tls.TLS_RSA_WITH_AES_128_CBC_SHA256,
	"AES128-SHA":                    tls.TLS_RSA_WITH_AES_128_CBC_SHA,
	"AES256-SHA":                    tls.TLS_RSA_WITH_AES_256_CBC_SHA,
}

// cipherSuites maps a tls_ciphers value, in OpenSSL's cipher-list syntax,
// to crypto/tls suites, best effort. Explicit cipher names are kept in the
// order given; keywords and group names ("DEFAULT", "HIGH", "!aNULL",
// "@STRENGTH", "kRSA", ...) have no Go equivalent and are skipped, and a
// list made only of them gives nil: Go's default suites, which are what
// "DEFAULT" and "HIGH" mean in practice. Names Go does not implement (DHE,
// CAMELLIA, ARIA, RC4, 3DES, ...) are reported in one warning. A list
// whose names all fail falls back to Go's defaults, with a warning, rather
// than leaving TLS 1.2 without a suite.
func cipherSuites(list string, logger *slog.Logger) []uint16 {
	var suites []uint16
	var unknown []string
	named := false
	for _, tok := range strings.FieldsFunc(list, func(r rune) bool {
		return r == ':' || r == ',' || r == ' ' || r == '\t'
	}) {
		if strings.HasPrefix(tok, "!") || strings.HasPrefix(tok, "-") || strings.HasPrefix(tok, "@") {
			continue // removals, orderings and levels: Go's defaults already exclude the weak
		}
		tok = strings.TrimPrefix(tok, "+")
		if strings.HasPrefix(tok, "TLS_") {
			continue // TLS 1.3 suite names: always on in Go
		}
		if id, ok := opensslSuites[strings.ToUpper(tok)]; ok {
			named = true
			suites = append(suites, id)
			continue
		}
		if isCipherName(tok) {
			named = true
			unknown = append(unknown, tok)
		}
	}
	if len(unknown) > 0 {
		logger.Warn(fmt.Sprintf("tls_ciphers: %s not supported, ignored", strings.Join(unknown, ", ")))
	}
	if !named {
		return nil
	}
	if len(suites) == 0 {
		logger.Warn("tls_ciphers names no cipher this server supports; using the default suites")
		return nil
	}
	return suites
}

// isCipherName tells an OpenSSL cipher name ("DHE-RSA-AES128-SHA",
// "CAMELLIA256-SHA", "RC4-MD5") from a keyword or combination ("HIGH",
// "aNULL", "AES256", "ECDHE+AESGCM"): every cipher name has a hyphen, no
// keyword has one.
func isCipherName(tok string) bool {
	return strings.Contains(tok, "-") && !strings.Contains(tok, "+")
}
