package pop3server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata from the server's answers")

// The golden transcripts in testdata/*.txt are sessions with the engine,
// written as Cyrus's reference transcript is: "C: " lines are sent, "S: "
// lines expected, "--- new connection ---" starts another session on the
// same store. Header lines "# config: option: value" set imapd.conf
// options. In a C line, {{c*N}} stands for N copies of c. Session ids and
// UIDVALIDITY values, which change from run to run, are compared as
// "SESSIONID=<...>" and "UV".
//
// With -update the S lines are rewritten from what the server says.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			t.Parallel()
			runGolden(t, f)
		})
	}
}

type step struct {
	client bool
	text   string
}

type transcript struct {
	header   []string
	config   map[string]string
	sessions [][]step
}

const newConnection = "--- new connection ---"

func parseTranscript(t *testing.T, path string) transcript {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tr := transcript{config: map[string]string{}}
	var cur []step
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "#"):
			tr.header = append(tr.header, l)
			if kv, ok := strings.CutPrefix(l, "# config: "); ok {
				k, v, _ := strings.Cut(kv, ":")
				tr.config[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		case l == newConnection:
			tr.sessions = append(tr.sessions, cur)
			cur = nil
		case strings.HasPrefix(l, "C: "):
			cur = append(cur, step{client: true, text: l[3:]})
		case strings.HasPrefix(l, "S: "), l == "S:":
			cur = append(cur, step{text: strings.TrimPrefix(strings.TrimPrefix(l, "S:"), " ")})
		case l == "":
		default:
			t.Fatalf("%s: bad line %q", path, l)
		}
	}
	tr.sessions = append(tr.sessions, cur)
	return tr
}

var repeatMacro = regexp.MustCompile(`\{\{(.)\*(\d+)\}\}`)

func expandMacros(s string) string {
	return repeatMacro.ReplaceAllStringFunc(s, func(m string) string {
		sub := repeatMacro.FindStringSubmatch(m)
		n, _ := strconv.Atoi(sub[2])
		return strings.Repeat(sub[1], n)
	})
}

var sessionIDRe = regexp.MustCompile(`SESSIONID=<[^>]*>`)

func runGolden(t *testing.T, path string) {
	tr := parseTranscript(t, path)
	e := newEnv(t, tr.config)
	uv := strconv.FormatUint(uint64(e.uidValidity(t, "user.alice")), 10)
	uvWork := strconv.FormatUint(uint64(e.uidValidity(t, "user.alice.Work")), 10)
	normalize := func(s string) string {
		s = sessionIDRe.ReplaceAllString(s, "SESSIONID=<...>")
		s = strings.ReplaceAll(s, uv+".", "UV.")
		return strings.ReplaceAll(s, uvWork+".", "UV.")
	}
	var out []string
	out = append(out, tr.header...)
	for i, sess := range tr.sessions {
		if i > 0 {
			out = append(out, newConnection)
		}
		c := e.connect(t)
		if *update {
			out = append(out, recordSession(t, c, sess, normalize)...)
		} else {
			checkSession(t, c, sess, normalize)
		}
		c.close()
	}
	if *update {
		if err := os.WriteFile(path, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkSession plays the client's lines and compares the server's.
func checkSession(t *testing.T, c *client, sess []step, normalize func(string) string) {
	t.Helper()
	for i, st := range sess {
		if st.client {
			c.send(expandMacros(st.text))
			continue
		}
		got, err := readRaw(c)
		if err != nil {
			t.Fatalf("step %d: expected %q, got %v", i, st.text, err)
		}
		if got = normalize(got); got != st.text {
			t.Fatalf("step %d:\n got  %q\n want %q", i, got, st.text)
		}
	}
	// Nothing more may follow what the transcript lists.
	c.conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if l, err := c.r.ReadString('\n'); err == nil {
		t.Fatalf("unexpected line after the transcript: %q", l)
	}
}

func readRaw(c *client) (string, error) {
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer c.conn.SetReadDeadline(time.Time{})
	l, err := c.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(l, "\r\n") {
		return "", fmt.Errorf("line without CRLF: %q", l)
	}
	return strings.TrimSuffix(l, "\r\n"), nil
}

// recordSession plays the client's lines and records the answers,
// knowing which commands have multi-line responses.
func recordSession(t *testing.T, c *client, sess []step, normalize func(string) string) []string {
	t.Helper()
	var out []string
	read := func() (string, bool) {
		l, err := readRaw(c)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Logf("read: %v", err)
			}
			return "", false
		}
		out = append(out, "S: "+normalize(l))
		return l, true
	}
	read() // greeting
	inSASL := false
	for _, st := range sess {
		if !st.client {
			continue
		}
		out = append(out, "C: "+st.text)
		c.send(expandMacros(st.text))
		first, ok := read()
		if !ok {
			break
		}
		if strings.HasPrefix(first, "+ ") {
			inSASL = true
			continue
		}
		wasSASL := inSASL
		inSASL = false
		if wasSASL || !strings.HasPrefix(first, "+OK") || !multiLine(st.text) {
			continue
		}
		for {
			l, ok := read()
			if !ok || l == "." {
				break
			}
		}
	}
	// Whatever the server says unasked (a goodbye) ends the session.
	for {
		c.conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		l, err := c.r.ReadString('\n')
		if err != nil {
			return out
		}
		out = append(out, "S: "+normalize(strings.TrimSuffix(l, "\r\n")))
	}
}

// multiLine reports whether a successful answer to the command line is
// a multi-line response (RFC 1939 3).
func multiLine(line string) bool {
	kw, arg, _ := strings.Cut(line, " ")
	switch strings.ToLower(kw) {
	case "capa", "retr", "top":
		return true
	case "list", "uidl", "auth":
		return strings.TrimSpace(arg) == ""
	}
	return false
}
