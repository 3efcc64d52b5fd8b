package mailbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/fsutil"
)

// headerMagic starts cyrusgo.header, so no tool mistakes it for Cyrus's
// cyrus.header (DESIGN.md 1).
const headerMagic = "cyrusgo mailbox header v1\n"

// MaxUserFlags is how many keywords one mailbox can define (128 bits per
// record).
const MaxUserFlags = 128

// mailboxHeader is cyrusgo.header: the mailbox's identity and keyword
// names. It changes rarely (a new keyword) and is replaced atomically.
type mailboxHeader struct {
	Name        string   `json:"name"`
	UniqueID    string   `json:"uniqueid"`
	UIDValidity uint32   `json:"uidvalidity"`
	UserFlags   []string `json:"userflags"`
}

func readMailboxHeader(dir string) (*mailboxHeader, error) {
	p := filepath.Join(dir, headerFileName)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	rest, ok := bytes.CutPrefix(b, []byte(headerMagic))
	if !ok {
		return nil, fmt.Errorf("%s: bad magic: %w", p, ErrCorrupt)
	}
	var h mailboxHeader
	if err := json.Unmarshal(rest, &h); err != nil {
		return nil, fmt.Errorf("%s: %v: %w", p, err, ErrCorrupt)
	}
	if len(h.UserFlags) > MaxUserFlags {
		return nil, fmt.Errorf("%s: %d keywords: %w", p, len(h.UserFlags), ErrCorrupt)
	}
	return &h, nil
}

func writeMailboxHeader(dir string, h *mailboxHeader) error {
	b, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("encode mailbox header: %w", err)
	}
	return fsutil.WriteFile(filepath.Join(dir, headerFileName), append([]byte(headerMagic), b...), 0o600)
}

// flagIndex returns the keyword's number, matching case-insensitively as
// IMAP keywords do (RFC 3501 2.3.2), or -1.
func (h *mailboxHeader) flagIndex(name string) int {
	for i, f := range h.UserFlags {
		if strings.EqualFold(f, name) {
			return i
		}
	}
	return -1
}
