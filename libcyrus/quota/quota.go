// Package quota keeps Cyrus quota roots in the quota database: the limits
// of each root (STORAGE in KiB and MESSAGE, RFC 9208) and the usage of each
// mailbox under it. Usage is stored per mailbox, as the absolute values of
// that mailbox's index header, written while the mailbox lock is held; the
// root's usage is their sum. An absolute write is idempotent, so a crash
// between the index commit and the quota write is repaired by the next
// write for that mailbox, and processes appending to different mailboxes of
// one root never race on a shared counter: usage stays exact.
package quota

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
)

// Unlimited is the value of a limit that is not set.
const Unlimited = -1

// Limits of one quota root.
type Limits struct {
	Storage int64 `json:"storage"` // KiB, or Unlimited
	Message int64 `json:"message"` // messages, or Unlimited
}

// Usage of a mailbox or a root.
type Usage struct {
	Bytes    int64
	Messages int64
}

// ErrOverQuota is returned by Check when an addition would pass a limit.
var ErrOverQuota = errors.New("over quota")

// Quota reads and writes the quota database.
type Quota struct {
	db cyrusdb.DB
}

// New wraps the quota database.
func New(db cyrusdb.DB) *Quota { return &Quota{db: db} }

func limitKey(root string) []byte { return []byte("R" + root) }
func usagePrefix(root string) []byte {
	return []byte("U" + root + "\x00")
}
func usageKey(root, mailbox string) []byte { return []byte("U" + root + "\x00" + mailbox) }

// Limits returns root's limits; ok is false when root is not a quota root.
func (q *Quota) Limits(root string) (Limits, bool, error) {
	b, err := q.db.Get(limitKey(root))
	if errors.Is(err, cyrusdb.ErrNotFound) {
		return Limits{Unlimited, Unlimited}, false, nil
	}
	if err != nil {
		return Limits{}, false, fmt.Errorf("quota root %s: %w", root, err)
	}
	var l Limits
	if err := json.Unmarshal(b, &l); err != nil {
		return Limits{}, false, fmt.Errorf("quota root %s: %w", root, err)
	}
	return l, true, nil
}

// SetLimits makes root a quota root with l; both limits Unlimited removes
// the root (and its usage entries).
func (q *Quota) SetLimits(root string, l Limits) error {
	if l.Storage < 0 && l.Message < 0 {
		ops := []cyrusdb.Op{{Key: limitKey(root)}}
		err := q.db.Scan(usagePrefix(root), func(k, _ []byte) error {
			ops = append(ops, cyrusdb.Op{Key: append([]byte(nil), k...)})
			return nil
		})
		if err != nil {
			return fmt.Errorf("remove quota root %s: %w", root, err)
		}
		return q.db.Batch(ops)
	}
	b, _ := json.Marshal(l)
	if err := q.db.Put(limitKey(root), b); err != nil {
		return fmt.Errorf("set quota root %s: %w", root, err)
	}
	return nil
}

// Ancestors returns name and its parents, nearest first, as quota roots
// may sit on any of them; the domain part of a virtual-domain name and the
// bare "user" level are never roots.
func Ancestors(name string) []string {
	domain := ""
	if i := strings.IndexByte(name, '!'); i >= 0 {
		domain, name = name[:i+1], name[i+1:]
	}
	var out []string
	for {
		if name != "user" && name != "" {
			out = append(out, domain+name)
		}
		i := strings.LastIndexByte(name, '.')
		if i < 0 {
			return out
		}
		name = name[:i]
	}
}

// Root returns the quota root governing mailbox, if any.
func (q *Quota) Root(mailbox string) (string, bool, error) {
	for _, a := range Ancestors(mailbox) {
		_, ok, err := q.Limits(a)
		if err != nil {
			return "", false, err
		}
		if ok {
			return a, true, nil
		}
	}
	return "", false, nil
}

// Usage sums the usage of every mailbox under root.
func (q *Quota) Usage(root string) (Usage, error) {
	var u Usage
	err := q.db.Scan(usagePrefix(root), func(_, v []byte) error {
		if len(v) != 16 {
			return nil
		}
		u.Bytes += int64(binary.LittleEndian.Uint64(v[0:]))
		u.Messages += int64(binary.LittleEndian.Uint64(v[8:]))
		return nil
	})
	if err != nil {
		return u, fmt.Errorf("quota usage %s: %w", root, err)
	}
	return u, nil
}

// SetMailboxUsage records mailbox's current usage under root.
func (q *Quota) SetMailboxUsage(root, mailbox string, u Usage) error {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(u.Bytes))
	binary.LittleEndian.PutUint64(b[8:], uint64(u.Messages))
	if err := q.db.Put(usageKey(root, mailbox), b[:]); err != nil {
		return fmt.Errorf("quota usage %s: %w", mailbox, err)
	}
	return nil
}

// RemoveMailbox forgets mailbox's usage under root.
func (q *Quota) RemoveMailbox(root, mailbox string) error {
	return q.db.Delete(usageKey(root, mailbox))
}

// Check reports ErrOverQuota if adding bytes and messages under root
// would pass one of its limits. Additions that do not grow usage (a move
// within the root, an expunge) always pass, so a full mailbox can always
// be cleaned up.
func (q *Quota) Check(root string, addBytes, addMessages int64) error {
	if addBytes <= 0 && addMessages <= 0 {
		return nil
	}
	l, ok, err := q.Limits(root)
	if err != nil || !ok {
		return err
	}
	u, err := q.Usage(root)
	if err != nil {
		return err
	}
	if l.Storage >= 0 && addBytes > 0 && u.Bytes+addBytes > l.Storage*1024 {
		return ErrOverQuota
	}
	if l.Message >= 0 && addMessages > 0 && u.Messages+addMessages > l.Message {
		return ErrOverQuota
	}
	return nil
}

// Roots calls fn for every quota root whose name starts with prefix.
func (q *Quota) Roots(prefix string, fn func(root string, l Limits) error) error {
	return q.db.Scan(limitKey(prefix), func(k, v []byte) error {
		var l Limits
		if err := json.Unmarshal(v, &l); err != nil {
			return nil
		}
		return fn(string(k[1:]), l)
	})
}

// Mailboxes calls fn for every mailbox with recorded usage under root.
func (q *Quota) Mailboxes(root string, fn func(mailbox string, u Usage) error) error {
	p := usagePrefix(root)
	return q.db.Scan(p, func(k, v []byte) error {
		if len(v) != 16 {
			return nil
		}
		return fn(string(k[len(p):]), Usage{int64(binary.LittleEndian.Uint64(v[0:])), int64(binary.LittleEndian.Uint64(v[8:]))})
	})
}
