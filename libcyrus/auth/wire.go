package auth

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// Every protocol carries SASL data the same way: base64 on its own line
// (RFC 4422 section 4; RFC 3501 6.2.2, RFC 5034, RFC 4954, RFC 5804), "*"
// to cancel, and an initial response on the command line where "=" stands
// for an empty one (RFC 4959 section 3). These helpers decode and encode
// that text so no protocol writes its own.

// MaxResponse bounds one decoded client response. The longest legitimate
// one here is a PLAIN message with two names and a password (under 1 KiB);
// GSSAPI tokens, which run to some kilobytes, are not supported.
const MaxResponse = 16 << 10

// DecodeResponse decodes a client's line in answer to a challenge: "*"
// cancels (ErrCanceled), an empty line is an empty response, anything else
// must be base64. "=" is also an empty response: it is how an initial
// response says so (RFC 4959), is never valid base64, and so cannot mean
// anything else here. Errors are *Error of kind ErrCanceled or
// ErrMalformed.
func DecodeResponse(line string) ([]byte, error) {
	line = strings.TrimRight(line, "\r\n")
	switch line {
	case "*":
		return nil, newError(ErrCanceled, "", "client canceled authentication", nil)
	case "=":
		return []byte{}, nil
	}
	return decode64(line)
}

// DecodeInitialResponse decodes the initial response given with the
// command (SASL-IR, RFC 4959): "=" is an empty response, anything else
// base64. A protocol without an initial response passes nil to the
// session's first Next instead of calling this.
func DecodeInitialResponse(arg string) ([]byte, error) {
	if arg == "=" {
		return []byte{}, nil
	}
	if arg == "" {
		// RFC 4959: an empty initial response is sent as "=", never as
		// nothing; an empty argument is a syntax error.
		return nil, newError(ErrMalformed, "", "empty initial response must be sent as =", nil)
	}
	return decode64(arg)
}

// EncodeChallenge encodes a server challenge (or additional data with
// success) for the wire. An empty challenge is the empty string, which
// IMAP sends as "+ " and POP3 as "+ ".
func EncodeChallenge(challenge []byte) string {
	return base64.StdEncoding.EncodeToString(challenge)
}

func decode64(s string) ([]byte, error) {
	if base64.StdEncoding.DecodedLen(len(s)) > MaxResponse+3 {
		return nil, newError(ErrMalformed, "", fmt.Sprintf("response longer than %d bytes", MaxResponse), nil)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		// Some clients leave out the padding; libsasl's sasl_decode64
		// refuses that, but accepting it costs nothing and is unambiguous.
		var err2 error
		if b, err2 = base64.RawStdEncoding.Strict().DecodeString(s); err2 != nil {
			return nil, newError(ErrMalformed, "", "can't decode base64 string", err)
		}
	}
	if len(b) > MaxResponse {
		return nil, newError(ErrMalformed, "", fmt.Sprintf("response longer than %d bytes", MaxResponse), nil)
	}
	return b, nil
}
