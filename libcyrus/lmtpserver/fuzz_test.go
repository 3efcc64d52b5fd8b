package lmtpserver

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/sieve"
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

// FuzzEditedMessage: whatever the message, the copy with an edited header
// (RFC 5293) is the new header, the empty line and the original body,
// byte for byte, and staging it records its true size.
func FuzzEditedMessage(f *testing.F) {
	for _, s := range []string{testMessage("<a@x>"), "Subject: a\r\n\r\n", "no header at all", "Subject: x\r\n folded\r\nX: y\r\n",
		"\r\nbody only\r\n", "A: 1\n\nlf body\n", "Long: " + strings.Repeat("x", 5000) + "\r\n\r\nb\r\n"} {
		f.Add([]byte(s))
	}
	e := newTestEnv(f, nil)
	srv := e.server()
	f.Fuzz(func(t *testing.T, data []byte) { checkEdited(t, e, srv, data) })
}

func checkEdited(t *testing.T, e *testEnv, srv *Server, data []byte) {
	sm, err := e.store.Stage("", bytes.NewReader(data), 0)
	if err != nil {
		return
	}
	msg := &Message{Size: sm.Size(), s: srv, staged: map[string]*mailbox.Staged{"default": sm}, first: "default"}
	defer msg.close()
	smsg, err := sieve.NewMessage(msg.Open(), msg.Size)
	if err != nil {
		t.Fatal(err)
	}
	hdr := append([]sieve.Field{{Name: "X-Added", Value: "yes"}}, smsg.Header()...)
	copies := &editedCopies{msg: msg}
	defer copies.close()
	m, err := copies.get(hdr)
	if errors.Is(err, errHeaderTooLong) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(io.NewSectionReader(m.Open(), 0, m.Size))
	if err != nil || int64(len(got)) != m.Size {
		t.Fatalf("read %d of %d bytes: %v", len(got), m.Size, err)
	}
	off, err := bodyOffset(msg)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	sieve.WriteHeader(&want, hdr)
	want.WriteString("\r\n")
	want.Write(data[off:])
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("edited copy\n%q\nwant\n%q", got, want.Bytes())
	}
}
