// Command lemming is a tiny service for testing master: it speaks the
// master protocol through libcyrus/service and answers a few line commands,
// so tests can make it sleep, exit, crash or report who it is. Besides the
// service it has helper modes for START, EVENTS and DAEMON entries:
//
//	lemming [service flags] [-m serve|die]    a service (CYRUS_SERVICE set)
//	lemming touch FILE [TAG]                  append "TAG pid" to FILE, exit 0
//	lemming fail                              exit 3
//	lemming daemon FILE [-w]                  append to FILE, (-w: say ok on
//	                                          fd 3), then run until SIGTERM
package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/cyrusgo/cyrusgo/libcyrus/masterproto"
	"github.com/cyrusgo/cyrusgo/libcyrus/service"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "touch":
			os.Exit(touch(os.Args[2:]))
		case "fail":
			os.Exit(3)
		case "daemon":
			os.Exit(daemon(os.Args[2:]))
		}
	}
	var mode string
	service.Main(service.Spec{
		Program: "lemming",
		Flags: func(fs *pflag.FlagSet) {
			fs.StringVarP(&mode, "mode", "m", "serve", "serve, or die at start")
		},
		Init: func(env *service.Env) (service.Handler, error) {
			if mode == "die" {
				return nil, fmt.Errorf("told to die")
			}
			env.Logger.Info("lemming ready")
			return handler{env: env}, nil
		},
	})
}

func appendLine(file, line string) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o666)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(line + "\n")
	return err
}

func touch(args []string) int {
	if len(args) < 1 {
		return 64
	}
	tag := "touch"
	if len(args) > 1 {
		tag = args[1]
	}
	if err := appendLine(args[0], fmt.Sprintf("%s %d", tag, os.Getpid())); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func daemon(args []string) int {
	if len(args) < 1 {
		return 64
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT)
	if err := appendLine(args[0], fmt.Sprintf("start %d", os.Getpid())); err != nil {
		return 1
	}
	if len(args) > 1 && args[1] == "-w" {
		f := os.NewFile(masterproto.StatusFD, "ready")
		if _, err := f.WriteString(masterproto.DaemonReady); err != nil {
			return 1
		}
		f.Close()
	}
	s := <-sigs
	appendLine(args[0], fmt.Sprintf("stop %d %s", os.Getpid(), s))
	return 0
}

type handler struct{ env *service.Env }

// ServeConn greets with "lemming SERVICE PID UID" and then takes commands:
// PID, SLEEP seconds, EXIT code, KILL, PANIC, QUIT.
func (h handler) ServeConn(ctx context.Context, conn net.Conn) {
	fmt.Fprintf(conn, "lemming %s %d %d\r\n", h.env.Service, os.Getpid(), os.Getuid())
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "PID":
			fmt.Fprintf(conn, "%d\r\n", os.Getpid())
		case "SLEEP":
			n, _ := strconv.Atoi(arg(f))
			select {
			case <-time.After(time.Duration(n) * time.Second):
			case <-ctx.Done():
			}
			fmt.Fprintf(conn, "slept\r\n")
		case "EXIT":
			n, _ := strconv.Atoi(arg(f))
			os.Exit(n)
		case "KILL":
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		case "PANIC":
			panic("lemming told to panic")
		case "QUIT":
			fmt.Fprintf(conn, "bye\r\n")
			return
		default:
			fmt.Fprintf(conn, "unknown command\r\n")
		}
	}
}

func arg(f []string) string {
	if len(f) < 2 {
		return ""
	}
	return f[1]
}
