// Package smtptest captures the mail a test makes cyrusgo send: a
// "sendmail -bs" stand-in (a Python script speaking the server side of
// SMTP on its standard input and output) and a tiny SMTP listener for
// smtp_backend: host. Both write each accepted message to a file of its
// own in a directory, which Read parses.
package smtptest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Message is one captured message.
type Message struct {
	// Argv is the stand-in's arguments ("-bs"); empty from the listener.
	Argv string
	// Mail is the MAIL command line, Rcpt the RCPT ones.
	Mail string
	Rcpt []string
	// Auth is the AUTH PLAIN identity the client gave, if any; TLS
	// whether STARTTLS was done (listener only).
	Auth string
	TLS  bool
	// Data is the message as received, dot-stuffing undone.
	Data string
}

// From returns the reverse-path of Mail, without brackets.
func (m Message) From() string { return between(m.Mail) }

// To returns the forward-paths, without brackets.
func (m Message) To() []string {
	var out []string
	for _, r := range m.Rcpt {
		out = append(out, between(r))
	}
	return out
}

func between(line string) string {
	i, j := strings.IndexByte(line, '<'), strings.IndexByte(line, '>')
	if i < 0 || j < i {
		return ""
	}
	return line[i+1 : j]
}

// FailFile is the name of a file whose presence in the capture
// directory makes both stand-ins refuse every MAIL command (554).
const FailFile = "fail"

// Read returns the messages captured in dir, oldest first.
func Read(t testing.TB, dir string) []Message {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, "msg.*"))
	sort.Strings(names)
	var out []Message
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		m, err := parse(b)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		out = append(out, m)
	}
	return out
}

// parse reads a capture file: "Key: value" lines, an empty line, data.
func parse(b []byte) (Message, error) {
	var m Message
	i := bytes.Index(b, []byte("\r\n\r\n"))
	if i < 0 {
		return m, fmt.Errorf("no end of capture header")
	}
	for _, l := range strings.Split(string(b[:i]), "\r\n") {
		k, v, _ := strings.Cut(l, ": ")
		switch k {
		case "Argv":
			m.Argv = v
		case "Mail":
			m.Mail = v
		case "Rcpt":
			m.Rcpt = append(m.Rcpt, v)
		case "Auth":
			m.Auth = v
		case "TLS":
			m.TLS = v == "yes"
		}
	}
	m.Data = string(b[i+4:])
	return m, nil
}

// writeCapture stores a message the way parse reads it; the file appears
// whole (renamed into place), named so that names sort by arrival.
func writeCapture(dir string, seq int64, m Message) error {
	var b bytes.Buffer
	if m.Argv != "" {
		fmt.Fprintf(&b, "Argv: %s\r\n", m.Argv)
	}
	fmt.Fprintf(&b, "Mail: %s\r\n", m.Mail)
	for _, r := range m.Rcpt {
		fmt.Fprintf(&b, "Rcpt: %s\r\n", r)
	}
	if m.Auth != "" {
		fmt.Fprintf(&b, "Auth: %s\r\n", m.Auth)
	}
	if m.TLS {
		b.WriteString("TLS: yes\r\n")
	}
	b.WriteString("\r\n")
	b.WriteString(m.Data)
	tmp := filepath.Join(dir, fmt.Sprintf("tmp.%020d", seq))
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, fmt.Sprintf("msg.%020d", seq)))
}
