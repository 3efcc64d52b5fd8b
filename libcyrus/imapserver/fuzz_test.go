package imapserver

import (
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// FuzzServer feeds the whole command loop random bytes after LOGIN and
// SELECT: no input may panic the session, hang it, or make it hold on to
// memory (the wire limits are small here, so a literal cannot grow it).
func FuzzServer(f *testing.F) {
	for _, s := range []string{
		"a FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From Subject)] BINARY.SIZE[1])\r\n",
		"a UID FETCH 1:* (BODY[1.2.MIME]<0.10> RFC822.SIZE ENVELOPE BODYSTRUCTURE) (CHANGEDSINCE 1)\r\n",
		"a SEARCH CHARSET UTF-8 OR (FROM alice NOT SEEN) TEXT {5+}\r\nhello SINCE 1-Jan-2024\r\n",
		"a STORE 1:* (UNCHANGEDSINCE 3) +FLAGS.SILENT (\\Seen $Junk)\r\nb EXPUNGE\r\n",
		"a COPY 1:2 INBOX.Work\r\nb UID MOVE 1:* INBOX.Work\r\n",
		"a IDLE\r\nDONE\r\nb NOOP\r\n",
	} {
		f.Add([]byte(s))
	}
	e := newTestEnv(f, map[string]string{"maxliteral": "4096", "maxword": "4096", "maxquoted": "4096"})
	e.create("user.alice")
	e.create("user.alice.Work")
	msgs := []string{}
	for _, n := range []string{"simple.eml", "multipart.eml", "encoded.eml"} {
		m, err := readMessage(n)
		if err != nil {
			f.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	refill := func() error {
		m, err := e.store.OpenForDelivery("user.alice")
		if err != nil {
			return err
		}
		defer m.Close()
		if m.Count() >= len(msgs) {
			return nil
		}
		for _, msg := range msgs {
			if _, err := m.AppendReader(strings.NewReader(msg), nil, time.Time{}, 0); err != nil {
				return fmt.Errorf("refill: %w", err)
			}
		}
		return nil
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := refill(); err != nil {
			t.Fatal(err)
		}
		client, server := socketPair(t)
		defer client.Close()
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer server.Close()
			e.srv.ServeConn(e.ctx, server)
		}()
		var sink io.Writer = io.Discard
		if testing.Verbose() && os.Getenv("FUZZ_SHOW") != "" {
			sink = os.Stderr
		}
		go io.Copy(sink, client)
		client.SetWriteDeadline(time.Now().Add(10 * time.Second))
		input := "L LOGIN alice secret\r\nS SELECT INBOX\r\n" + string(data) + "\r\nZ LOGOUT\r\n"
		client.Write([]byte(input)) // the session may end before reading it all
		client.(*net.UnixConn).CloseWrite()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("session did not end on input %q", data)
		}
	})
}
