// Command ctl_cyrusdb is a drop-in for Cyrus's ctl_cyrusdb(8), run from
// cyrus.conf's START (-r) and EVENTS (-c) sections:
//
//	ctl_cyrusdb [-C imapd.conf] -r [-x]   recover: check every database
//	ctl_cyrusdb [-C imapd.conf] -c        checkpoint
//
// master opens the databases before it runs START, so the tool normally
// works through master's socket; with master down it opens the files.
// What -r and -c do with goleveldb is described at cyrusdb.Handle's Check
// and Checkpoint. -x (skip cleanup) is accepted: there is no mailbox
// cleanup in -r yet, so it changes nothing.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
	"github.com/cyrusgo/cyrusgo/libcyrus/tool"
)

const program = "ctl_cyrusdb"

func main() {
	os.Exit(run(os.Args[1:], os.Stderr, tool.Options{}))
}

func usage(stderr io.Writer) int {
	fmt.Fprintf(stderr, "usage: %s [-C <alt_config>] -c\n", program)
	fmt.Fprintf(stderr, "       %s [-C <alt_config>] -r [-x]\n", program)
	return tool.ExitUsage
}

func run(args []string, stderr io.Writer, o tool.Options) int {
	fs, confPath := tool.Flags(program, stderr)
	doRecover := fs.BoolP("recover", "r", false, "recover (check) the databases")
	doCheckpoint := fs.BoolP("checkpoint", "c", false, "checkpoint the databases")
	noCleanup := fs.BoolP("no-cleanup", "x", false, "with -r: recover only, no cleanup")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return usage(stderr)
	}
	// As Cyrus: exactly one of -r and -c; -x only with -r.
	if *doRecover == *doCheckpoint || *noCleanup && !*doRecover || fs.NArg() != 0 {
		return usage(stderr)
	}

	env, code := tool.Start(program, *confPath, stderr, o)
	if env == nil {
		return code
	}
	cfg, logger := env.Config, env.Logger

	msg := "checkpointing cyrus databases"
	if *doRecover {
		msg = "recovering cyrus databases"
	}
	ctx := context.Background()
	logger.Log(ctx, logging.LevelNotice, msg)
	if err := do(cfg.String(config.ConfigDirectory), *doRecover, logger); err != nil {
		logger.Error("DBERROR: " + err.Error())
		if o.LogWriter == nil && !tool.LogsToStderr() {
			fmt.Fprintf(stderr, "%s: %v\n", program, err)
		}
		return 1
	}
	logger.Log(ctx, logging.LevelNotice, "done "+msg)
	return 0
}

// do opens the databases (through master when it runs) and checks or
// checkpoints them.
func do(configDir string, recoverDBs bool, logger *slog.Logger) error {
	h, err := cyrusdb.Open(configDir, logger)
	if err != nil {
		return err
	}
	defer h.Close()
	if !recoverDBs {
		return h.Checkpoint()
	}
	counts, err := h.Check()
	if err != nil {
		return err
	}
	for _, name := range cyrusdb.Names() {
		logger.Debug("checked database", "db", name, "records", counts[name], "direct", h.Direct())
	}
	return nil
}
