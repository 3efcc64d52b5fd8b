// Command tls_prune stands in for Cyrus's tls_prune(8), which Debian's
// cyrus.conf runs from START and EVENTS to expire the TLS session cache.
// cyrusgo keeps no TLS session cache on disk, so there is nothing to
// prune: it reads the configuration, as every tool does, and exits 0.
//
//	tls_prune [-C imapd.conf]
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/cyrusgo/cyrusgo/libcyrus/tool"
)

const program = "tls_prune"

func main() {
	os.Exit(run(os.Args[1:], os.Stderr, tool.Options{}))
}

func run(args []string, stderr io.Writer, o tool.Options) int {
	fs, confPath := tool.Flags(program, stderr)
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		fmt.Fprintf(stderr, "usage: %s [-C <alt_config>]\n", program)
		return tool.ExitUsage
	}
	env, code := tool.Start(program, *confPath, stderr, o)
	if env == nil {
		return code
	}
	env.Logger.Debug("no TLS session cache to prune")
	return 0
}
