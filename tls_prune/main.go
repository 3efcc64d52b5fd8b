// Command tls_prune stands in for Cyrus's tls_prune(8), which Debian's
// cyrus.conf runs from START and EVENTS to expire the TLS session cache.
// cyrusgo keeps no TLS session cache on disk, so there is nothing to
// prune: it reads the configuration, as every tool does, and exits 0.
//
//	tls_prune [-C imapd.conf]
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/tool"
)

const program = "tls_prune"

func main() {
	os.Exit(run(os.Args[1:], os.Stderr, tool.Options{}))
}

func run(args []string, stderr io.Writer, o tool.Options) int {
	fs := pflag.NewFlagSet(program, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	confPath := fs.StringP("config", "C", config.DefaultPath, "alternate imapd.conf")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		fmt.Fprintf(stderr, "usage: %s [-C <alt_config>]\n", program)
		return tool.ExitUsage
	}
	_, logger, err := tool.SetupWith(program, *confPath, o)
	if err != nil {
		logger.Error(err.Error())
		if o.LogWriter == nil && !tool.LogsToStderr() {
			fmt.Fprintf(stderr, "%s: %v\n", program, err)
		}
		if errors.Is(err, tool.ErrRoot) {
			return tool.ExitNoPerm
		}
		return tool.ExitConfig
	}
	logger.Debug("no TLS session cache to prune")
	return 0
}
