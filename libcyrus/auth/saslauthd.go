package auth

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// The saslauthd protocol, as libsasl's saslauthd_verify_password speaks it
// (lib/checkpw.c) and saslauthd serves it on <run_path>/mux: the request
// is four counted strings, login, password, service and realm, each a
// 2-byte big-endian length and the bytes; the reply is one counted string
// that starts with "OK" or "NO" (the rest is a reason, e.g. "NO
// authentication failed"). One request per connection.

const (
	// saslauthdMaxRequest is libsasl's request buffer; it refuses bigger
	// requests, so saslauthd has never seen one.
	saslauthdMaxRequest = 8192
	// saslauthdMaxReply is libsasl's reply buffer; longer replies are cut.
	saslauthdMaxReply = 1024
	// saslauthdTimeout bounds a check when the caller's context has no
	// deadline: a hung saslauthd must not hang a login forever.
	saslauthdTimeout = 30 * time.Second
)

// errSaslauthdNo is saslauthd's "NO": wrong password or unknown user, it
// does not say which.
var errSaslauthdNo = errors.New("saslauthd said NO")

// saslauthdVerify asks the saslauthd listening on path whether password is
// user's. Like libsasl, it sends "user@realm" as login "user" and realm
// "realm" (the last "@" splits), and the realm argument otherwise. It
// returns nil for OK, errSaslauthdNo (with the reply) for NO, and another
// error when saslauthd could not be asked.
func saslauthdVerify(ctx context.Context, path, user, password, service, realm string) error {
	if i := strings.LastIndexByte(user, '@'); i >= 0 {
		user, realm = user[:i], user[i+1:]
	}
	if service == "" {
		service = "imap" // libsasl's default
	}
	req, err := saslauthdRequest(user, password, service, realm)
	if err != nil {
		return err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return fmt.Errorf("cannot connect to saslauthd server: %w", err)
	}
	defer conn.Close()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(saslauthdTimeout)
	}
	if err := conn.SetDeadline(deadline); err != nil {
		return fmt.Errorf("saslauthd: %w", err)
	}
	// Closing the connection when ctx ends unblocks the read below.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if _, err := conn.Write(req); err != nil {
		return fmt.Errorf("saslauthd: write failed: %w", err)
	}
	reply, err := readSaslauthdReply(conn)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("saslauthd: %w", ctx.Err())
		}
		return err
	}
	if strings.HasPrefix(reply, "OK") {
		return nil
	}
	return fmt.Errorf("%w: %q", errSaslauthdNo, reply)
}

// saslauthdRequest encodes the four counted strings.
func saslauthdRequest(fields ...string) ([]byte, error) {
	n := 0
	for _, f := range fields {
		n += 2 + len(f)
	}
	if n > saslauthdMaxRequest {
		return nil, fmt.Errorf("saslauthd request too large")
	}
	req := make([]byte, 0, n)
	for _, f := range fields {
		req = binary.BigEndian.AppendUint16(req, uint16(len(f)))
		req = append(req, f...)
	}
	return req, nil
}

// readSaslauthdReply reads the counted reply string.
func readSaslauthdReply(r io.Reader) (string, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return "", fmt.Errorf("saslauthd: size read failed: %w", err)
	}
	count := int(binary.BigEndian.Uint16(hdr[:]))
	if count < 2 { // it must hold at least "OK" or "NO"
		return "", fmt.Errorf("bad response from saslauthd")
	}
	count = min(count, saslauthdMaxReply-1)
	buf := make([]byte, count)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", fmt.Errorf("saslauthd: read failed: %w", err)
	}
	return string(buf), nil
}
