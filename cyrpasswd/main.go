// Command cyrpasswd manages the users of cyrusgo's native user store, the
// one sasl_pwcheck_method "auxprop" checks passwords against (it takes the
// place of Cyrus's saslpasswd2 and its sasldb):
//
//	cyrpasswd [-C imapd.conf] add <user>       create a user, with a password
//	cyrpasswd [-C imapd.conf] passwd <user>    change a user's password
//	cyrpasswd [-C imapd.conf] delete <user>    remove a user
//	cyrpasswd [-C imapd.conf] list             print every user, one a line
//
// The password is never taken from the command line, where other users
// could read it in the process list: it is prompted for twice, without
// echo, when standard input is a terminal, and otherwise read as the first
// line of standard input (echo pw | cyrpasswd add alice).
//
// User names are canonicalised as the services canonicalise them at login
// (lower-cased under username_tolower, the default domain dropped under
// virtdomains), so the name stored is the one a login will look up.
//
// The store lives in the cyrusdb database "users" under configdirectory:
// reached through master's database server when master runs, opened
// directly when it does not. Like every cyrusgo tool it refuses to run as
// root unless cyrus_user: root is set; run it as the cyrus user.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/xdg-go/stringprep"
	"golang.org/x/term"

	"github.com/cyrusgo/cyrusgo/libcyrus/auth"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
	"github.com/cyrusgo/cyrusgo/libcyrus/tool"
)

const program = "cyrpasswd"

func main() {
	os.Exit(run(os.Args[1:], ioSet{in: os.Stdin, out: os.Stdout, err: os.Stderr}, tool.Options{}))
}

// ioSet is the tool's standard streams, replaceable in tests.
type ioSet struct {
	in       io.Reader
	out, err io.Writer
}

func usage(w io.Writer) int {
	fmt.Fprintf(w, "usage: %s [-C <alt_config>] add|passwd|delete <user>\n", program)
	fmt.Fprintf(w, "       %s [-C <alt_config>] list\n", program)
	fmt.Fprintf(w, "The password is read from standard input, or prompted for on a terminal.\n")
	return tool.ExitUsage
}

func run(args []string, std ioSet, o tool.Options) int {
	fs, confPath := tool.Flags(program, std.err)
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(std.err, "%s: %v\n", program, err)
		return usage(std.err)
	}
	cmd, rest := fs.Arg(0), fs.Args()
	if len(rest) > 0 {
		rest = rest[1:]
	}
	switch {
	case cmd == "list" && len(rest) == 0:
	case slices.Contains([]string{"add", "passwd", "delete"}, cmd) && len(rest) == 1:
	default:
		return usage(std.err)
	}

	// Not tool.Start: cyrpasswd prints a set-up error on stderr always,
	// and does not log it.
	cfg, logger, err := tool.SetupWith(program, *confPath, o)
	if err != nil {
		fmt.Fprintf(std.err, "%s: %v\n", program, err)
		return tool.SetupStatus(err)
	}

	var user string
	if len(rest) == 1 {
		if user, err = auth.CanonUser(cfg, rest[0]); err != nil {
			fmt.Fprintf(std.err, "%s: %v\n", program, err)
			return tool.ExitUsage
		}
	}
	if cmd != "list" && !slices.Contains(cfg.List(config.SASLPWCheckMethod), auth.MethodAuxprop) {
		fmt.Fprintf(std.err, "%s: note: sasl_pwcheck_method is %q; logins do not use this store until it lists auxprop\n",
			program, strings.Join(cfg.List(config.SASLPWCheckMethod), " "))
	}

	var password string
	if cmd == "add" || cmd == "passwd" {
		if password, err = readPassword(std); err != nil {
			fmt.Fprintf(std.err, "%s: %v\n", program, err)
			return 1
		}
		if _, err := stringprep.SASLprep.Prepare(password); err != nil {
			fmt.Fprintf(std.err, "%s: note: the password is not valid SASLprep (RFC 4013); %s can log in with PLAIN and LOGIN but not SCRAM\n", program, user)
		}
	}

	if err := do(cfg.String(config.ConfigDirectory), cmd, user, password, std.out, logger); err != nil {
		fmt.Fprintf(std.err, "%s: %v\n", program, err)
		return 1
	}
	return 0
}

// do runs the command against the users database.
func do(configDir, cmd, user, password string, out io.Writer, logger *slog.Logger) (err error) {
	h, err := cyrusdb.Open(configDir, logger)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := h.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close databases: %w", cerr)
		}
	}()
	db, err := h.DB(cyrusdb.Users)
	if err != nil {
		return err
	}
	notice := func(msg string) { logger.Log(context.Background(), logging.LevelNotice, msg) }
	switch cmd {
	case "add":
		if err := auth.AddUser(db, user, password); err != nil {
			return err
		}
		notice(fmt.Sprintf("added user %s", user))
	case "passwd":
		ok, err := auth.UserExists(db, user)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("no user %s (use add)", user)
		}
		if err := auth.SetPassword(db, user, password); err != nil {
			return err
		}
		notice(fmt.Sprintf("changed password of %s", user))
	case "delete":
		if err := auth.DeleteUser(db, user); err != nil {
			return err
		}
		notice(fmt.Sprintf("deleted user %s", user))
	case "list":
		users, err := auth.ListUsers(db)
		if err != nil {
			return err
		}
		w := bufio.NewWriter(out)
		for _, u := range users {
			fmt.Fprintln(w, u)
		}
		return w.Flush()
	}
	return nil
}

// readPassword prompts twice with echo off on a terminal, and otherwise
// reads the first line of standard input.
func readPassword(std ioSet) (string, error) {
	if f, ok := std.in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fd := int(f.Fd())
		fmt.Fprint(std.err, "Password: ")
		p1, err := term.ReadPassword(fd)
		fmt.Fprintln(std.err)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(std.err, "Again (for verification): ")
		p2, err := term.ReadPassword(fd)
		fmt.Fprintln(std.err)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(p1) != string(p2) {
			return "", errors.New("passwords do not match")
		}
		if len(p1) == 0 {
			return "", errors.New("empty password")
		}
		return string(p1), nil
	}
	line, err := bufio.NewReader(std.in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("empty password (give it as the first line of standard input)")
	}
	return line, nil
}
