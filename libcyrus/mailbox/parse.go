package mailbox

import (
	"fmt"
	"io"

	"github.com/cyrusgo/cyrusgo/libcyrus/message"
)

// summarize parses a message once, at append, into the bytes stored in
// the cache file (package message's encoding).
func summarize(r io.Reader) ([]byte, error) {
	sum, err := message.Parse(r, message.Options{})
	if err != nil {
		return nil, fmt.Errorf("parse message: %w", err)
	}
	b, err := sum.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encode message summary: %w", err)
	}
	return b, nil
}
