package lmtpserver

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzSession drives whole sessions with arbitrary client input, over a
// Unix socket (pre-authorized) or dressed as TCP (AUTH needed): the
// session must end when the input does, without a panic, and every reply
// line must look like an LMTP reply. The seeds are the client side of
// every golden transcript, and testdata/fuzz/FuzzSession.
func FuzzSession(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.txt"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var in strings.Builder
		tcp := false
		for _, line := range strings.Split(string(b), "\n") {
			switch {
			case strings.HasPrefix(line, "@conn tcp"):
				tcp = true
			case strings.HasPrefix(line, "C:"):
				in.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "C:"), " ") + "\r\n")
			case strings.HasPrefix(line, "L:"):
				in.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "L:"), " ") + "\n")
			}
		}
		f.Add([]byte(in.String()), tcp)
	}
	e := newTestEnv(f, map[string]string{"maxmessagesize": "65536"})
	e.create("user.alice.sub")
	srv := e.server(func(o *Options) { o.Timeout = 5 * time.Second })
	f.Fuzz(func(t *testing.T, input []byte, tcp bool) {
		start := time.Now()
		defer func() {
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("slow (%v): %q %v", d, input, tcp)
			}
		}()
		client, server := socketPair(t)
		if tcp {
			server = tcpConn{server}
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer server.Close()
			srv.ServeConn(context.Background(), server)
		}()
		go func() {
			client.Write(input)
			if cw, ok := client.(interface{ CloseWrite() error }); ok {
				cw.CloseWrite()
			}
		}()
		client.SetReadDeadline(time.Now().Add(20 * time.Second))
		out, err := io.ReadAll(client)
		client.Close()
		if err != nil {
			t.Fatalf("reading replies: %v", err)
		}
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("session did not end")
		}
		for _, l := range strings.Split(strings.TrimSuffix(string(out), "\r\n"), "\r\n") {
			if l == "" {
				continue
			}
			if len(l) < 4 || l[0] < '2' || l[0] > '5' || (l[3] != ' ' && l[3] != '-') {
				t.Fatalf("not an LMTP reply: %q", l)
			}
		}
	})
}
