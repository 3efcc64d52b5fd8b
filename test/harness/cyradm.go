package harness

import (
	"bytes"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Cyradm runs Debian's cyradm (cyrus-admin) against the IMAP port as
// user (SASL PLAIN, no TLS, no ~/.cyradmrc), types commands at its prompt
// and returns everything it printed, its own errors included. The test is
// skipped when cyradm is not installed.
func Cyradm(t testing.TB, port int, user, password string, commands ...string) string {
	t.Helper()
	cyradm, err := exec.LookPath("cyradm")
	if err != nil {
		t.Skip("cyradm not installed (apt-get install cyrus-admin)")
	}
	cmd := exec.Command(cyradm, "--user", user, "--auth", "plain", "--notls", "--norc",
		"--port", strconv.Itoa(port), "127.0.0.1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	out := &lockedBuffer{}
	done := make(chan struct{})
	go func() {
		io.Copy(out, stdout)
		close(done)
	}()
	// cyradm reads the password from the terminal or, without one, from
	// stdin with its own buffering: the commands go only once it has
	// logged in and shows its prompt, or they would be read with the
	// password and lost.
	io.WriteString(stdin, password+"\n")
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(out.String(), "127.0.0.1> ") {
		if time.Now().After(deadline) {
			t.Fatalf("no cyradm prompt:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	io.WriteString(stdin, strings.Join(commands, "\n")+"\n")
	stdin.Close()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("cyradm did not finish:\n%s", out.String())
	}
	cmd.Wait()
	return out.String()
}

// lockedBuffer is a bytes.Buffer one goroutine writes while another
// reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
