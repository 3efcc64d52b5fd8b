// Command mkcert writes a self-signed certificate and key for localhost
// and 127.0.0.1 (mkcert CERT KEY), unless they exist: for the demo and
// for tests, or a first start before a real certificate is installed.
package main

import (
	"fmt"
	"os"

	"github.com/cyrusgo/cyrusgo/libcyrus/tlsconf"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: mkcert cert.pem key.pem")
		os.Exit(64)
	}
	if err := tlsconf.SelfSigned(os.Args[1], os.Args[2], []string{"localhost", "127.0.0.1"}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
