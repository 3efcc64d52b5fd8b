package smtpclient_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/smtpclient"
	"github.com/cyrusgo/cyrusgo/libcyrus/smtpclient/smtptest"
	"github.com/cyrusgo/cyrusgo/libcyrus/tlsconf"
)

const msg = "From: a@example.org\r\nTo: b@example.net\r\nSubject: hi\r\n\r\n.leading dot\r\nbody\r\n"

func TestNewHost(t *testing.T) {
	tests := []struct {
		host, err string
	}{
		{host: "localhost"},
		{host: "mail.example.com:25"},
		{host: "[::1]:2525/tls"},
		{host: "[::1]/noauth"},
		{host: "mx:submission/tls/noauth"},
		{host: "mx/bogus", err: "unknown flag"},
		{host: "", err: "no host"},
		{host: "mx:notaport", err: "bad port"},
	}
	for _, tc := range tests {
		_, err := smtpclient.New(smtpclient.Options{Backend: "host", Host: tc.host})
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q: error %v, want %q", tc.host, err, tc.err)
		}
	}
	if _, err := smtpclient.New(smtpclient.Options{Backend: "lmtp"}); err == nil {
		t.Error("unknown backend accepted")
	}
}

func TestSendmailBackend(t *testing.T) {
	prog, dir := smtptest.Sendmail(t)
	s, err := smtpclient.New(smtpclient.Options{Sendmail: prog})
	if err != nil {
		t.Fatal(err)
	}
	env := smtpclient.Envelope{From: "", To: []string{"b@example.net", "c@example.net"}, AuthID: "alice", Notify: "NEVER", Ret: "HDRS"}
	if err := s.Send(context.Background(), env, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	got := smtptest.Read(t, dir)
	if len(got) != 1 {
		t.Fatalf("%d messages captured", len(got))
	}
	m := got[0]
	if m.Argv != "-bs" {
		t.Errorf("argv %q, want -bs", m.Argv)
	}
	// The stand-in offers AUTH, DSN and SIZE: all parameters go out.
	if m.Mail != "MAIL FROM:<> AUTH=alice RET=HDRS SIZE=75" {
		t.Errorf("MAIL %q", m.Mail)
	}
	if strings.Join(m.Rcpt, "|") != "RCPT TO:<b@example.net> NOTIFY=NEVER|RCPT TO:<c@example.net> NOTIFY=NEVER" {
		t.Errorf("RCPT %q", m.Rcpt)
	}
	if m.Data != msg {
		t.Errorf("data %q, want %q", m.Data, msg)
	}
}

func TestSendmailBackendRefused(t *testing.T) {
	prog, dir := smtptest.Sendmail(t)
	os.WriteFile(filepath.Join(dir, smtptest.FailFile), nil, 0o644)
	s, _ := smtpclient.New(smtpclient.Options{Sendmail: prog})
	err := s.Send(context.Background(), smtpclient.Envelope{From: "a@example.org", To: []string{"b@example.net"}}, []byte(msg))
	if err == nil || !strings.Contains(err.Error(), "554") {
		t.Fatalf("error %v, want the 554", err)
	}
}

func TestSendmailBackendMissing(t *testing.T) {
	s, _ := smtpclient.New(smtpclient.Options{Sendmail: filepath.Join(t.TempDir(), "nope")})
	if err := s.Send(context.Background(), smtpclient.Envelope{To: []string{"b@example.net"}}, []byte(msg)); err == nil {
		t.Fatal("no error for a missing program")
	}
}

// TestSendmailBackendSilent: a program that never answers is given up
// on at the timeout.
func TestSendmailBackendSilent(t *testing.T) {
	prog := filepath.Join(t.TempDir(), "sendmail")
	os.WriteFile(prog, []byte("#!/bin/sh\nexec sleep 60\n"), 0o755)
	s, _ := smtpclient.New(smtpclient.Options{Sendmail: prog, Timeout: 300e6})
	if err := s.Send(context.Background(), smtpclient.Envelope{To: []string{"b@example.net"}}, []byte(msg)); err == nil {
		t.Fatal("no error from a silent program")
	}
}

func TestBadEnvelope(t *testing.T) {
	s, _ := smtpclient.New(smtpclient.Options{Sendmail: "/bin/false"})
	for _, env := range []smtpclient.Envelope{
		{From: "a@b", To: nil},
		{From: "a@b\r\nRCPT TO:<x@y>", To: []string{"c@d"}},
		{From: "a@b", To: []string{"c@d>"}},
	} {
		if err := s.Send(context.Background(), env, []byte(msg)); err == nil {
			t.Errorf("%q accepted", env)
		}
	}
}

func TestHostBackend(t *testing.T) {
	srv := smtptest.Listen(t, smtptest.ServerOptions{})
	s, err := smtpclient.New(smtpclient.Options{Backend: "host", Host: srv.Addr, AuthName: "u", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	// AuthName without AUTH offered: Cyrus's SASL would fail too.
	if err := s.Send(context.Background(), smtpclient.Envelope{From: "a@example.org", To: []string{"b@example.net"}}, []byte(msg)); err == nil {
		t.Error("authentication without AUTH offered succeeded")
	}
	s, _ = smtpclient.New(smtpclient.Options{Backend: "host", Host: srv.Addr + "/noauth", AuthName: "u", Password: "p"})
	if err := s.Send(context.Background(), smtpclient.Envelope{From: "a@example.org", To: []string{"b@example.net"}, AuthID: "alice"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	got := smtptest.Read(t, srv.Dir)
	// No AUTH offered: no AUTH= parameter.
	if len(got) != 1 || got[0].Mail != "MAIL FROM:<a@example.org> SIZE=75" || got[0].Data != msg {
		t.Fatalf("captured %+v", got)
	}
}

func TestHostBackendTLSAuth(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	if err := tlsconf.SelfSigned(cert, key, []string{"localhost", "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	srv := smtptest.Listen(t, smtptest.ServerOptions{TLS: &tls.Config{Certificates: []tls.Certificate{pair}}, User: "relay", Password: "secret"})
	pem, _ := os.ReadFile(cert)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)

	_, port, _ := strings.Cut(srv.Addr, ":")
	s, err := smtpclient.New(smtpclient.Options{Backend: "host", Host: "127.0.0.1:" + port + "/tls",
		AuthName: "relay", Password: "secret", TLS: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), smtpclient.Envelope{From: "a@example.org", To: []string{"b@example.net"}, AuthID: "alice"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	got := smtptest.Read(t, srv.Dir)
	if len(got) != 1 || !got[0].TLS || got[0].Auth != "relay" || got[0].Mail != "MAIL FROM:<a@example.org> AUTH=alice SIZE=75" {
		t.Fatalf("captured %+v", got)
	}

	// A wrong password is an error, and nothing is sent.
	s, _ = smtpclient.New(smtpclient.Options{Backend: "host", Host: "127.0.0.1:" + port + "/tls",
		AuthName: "relay", Password: "wrong", TLS: &tls.Config{RootCAs: pool}})
	if err := s.Send(context.Background(), smtpclient.Envelope{From: "a@example.org", To: []string{"b@example.net"}}, []byte(msg)); err == nil {
		t.Error("wrong password accepted")
	}
	// Without the CA, the certificate does not verify.
	s, _ = smtpclient.New(smtpclient.Options{Backend: "host", Host: "127.0.0.1:" + port + "/tls"})
	if err := s.Send(context.Background(), smtpclient.Envelope{From: "a@example.org", To: []string{"b@example.net"}}, []byte(msg)); err == nil {
		t.Error("unverified certificate accepted")
	}
}
