package smtptest

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ServerOptions configure Listen.
type ServerOptions struct {
	// TLS, when set, is offered by STARTTLS.
	TLS *tls.Config
	// User and Password, when set, are required with AUTH PLAIN before
	// MAIL.
	User, Password string
}

// Server is a tiny SMTP listener on 127.0.0.1 that captures messages
// into Dir, for smtp_backend: host.
type Server struct {
	Addr string
	Dir  string
	o    ServerOptions
	ln   net.Listener
	seq  atomic.Int64
	wg   sync.WaitGroup
}

// Listen starts a Server; it stops when the test ends.
func Listen(t testing.TB, o ServerOptions) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: ln.Addr().String(), Dir: t.TempDir(), o: o, ln: ln}
	s.seq.Store(time.Now().UnixNano())
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			c.SetDeadline(time.Now().Add(time.Minute))
			s.session(c)
		}()
	}
}

// session serves one connection.
func (s *Server) session(c net.Conn) {
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	reply := func(lines ...string) {
		for _, l := range lines {
			w.WriteString(l + "\r\n")
		}
		w.Flush()
	}
	var (
		m      Message
		authed = s.o.User == ""
		inTLS  bool
	)
	reply("220 listener ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(cmd, " ", 2)[0])
		switch {
		case verb == "EHLO":
			ext := []string{"250-listener", "250-DSN", "250-SIZE 10000000"}
			if s.o.TLS != nil && !inTLS {
				ext = append(ext, "250-STARTTLS")
			}
			if s.o.User != "" {
				ext = append(ext, "250-AUTH PLAIN")
			}
			reply(append(ext, "250 8BITMIME")...)
		case verb == "HELO":
			reply("250 listener")
		case verb == "STARTTLS" && s.o.TLS != nil && !inTLS:
			reply("220 2.0.0 go ahead")
			tc := tls.Server(c, s.o.TLS)
			if tc.Handshake() != nil {
				return
			}
			c, inTLS = tc, true
			r, w = bufio.NewReader(tc), bufio.NewWriter(tc)
			m = Message{}
		case verb == "AUTH":
			f := strings.Fields(cmd)
			if len(f) != 3 || !strings.EqualFold(f[1], "PLAIN") {
				reply("504 5.5.4 PLAIN only, with the initial response")
				continue
			}
			b, _ := base64.StdEncoding.DecodeString(f[2])
			parts := strings.Split(string(b), "\x00")
			if len(parts) != 3 || parts[1] != s.o.User || parts[2] != s.o.Password {
				reply("535 5.7.8 bad credentials")
				continue
			}
			authed, m.Auth = true, parts[1]
			reply("235 2.7.0 ok")
		case verb == "MAIL":
			if _, err := os.Stat(filepath.Join(s.Dir, FailFile)); err == nil {
				reply("554 5.7.1 refused by the test")
				continue
			}
			if !authed {
				reply("530 5.7.0 authentication required")
				continue
			}
			m.Mail, m.Rcpt, m.TLS = cmd, nil, inTLS
			reply("250 2.1.0 ok")
		case verb == "RCPT":
			if m.Mail == "" {
				reply("503 5.5.1 MAIL first")
				continue
			}
			m.Rcpt = append(m.Rcpt, cmd)
			reply("250 2.1.5 ok")
		case verb == "DATA":
			if len(m.Rcpt) == 0 {
				reply("503 5.5.1 RCPT first")
				continue
			}
			reply("354 go ahead")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" || l == ".\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			m.Data = data.String()
			if err := writeCapture(s.Dir, s.seq.Add(1), m); err != nil {
				reply("451 4.3.0 " + err.Error())
				return
			}
			m = Message{Auth: m.Auth}
			reply("250 2.0.0 queued")
		case verb == "RSET":
			m = Message{Auth: m.Auth}
			reply("250 2.0.0 ok")
		case verb == "NOOP":
			reply("250 2.0.0 ok")
		case verb == "QUIT":
			reply("221 2.0.0 bye")
			return
		default:
			reply("502 5.5.2 unknown command")
		}
	}
}
