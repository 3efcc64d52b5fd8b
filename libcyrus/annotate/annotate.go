// Package annotate keeps server and mailbox annotations (RFC 5464
// METADATA) in the annotations database that master owns (DESIGN.md 4).
//
// It is storage only: names are checked and ACLs applied by the mail store
// (package mailbox), which is the one caller that knows who may read or
// write what.
//
// A value is keyed by its scope (the server, or a mailbox by its unique
// id, so a RENAME keeps a mailbox's annotations without rewriting them),
// the user it belongs to ("" for a shared value) and the entry name
// without its /shared or /private prefix, as Cyrus files them:
//
//	S \x00 <userid> \x00 <entry>
//	M <uniqueid> \x00 <userid> \x00 <entry>
//
// so one scope's shared or one user's private values are a prefix scan.
// Every change of one command is one atomic batch.
package annotate

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
)

// Server is the scope of server annotations (the "" mailbox of RFC 5464).
const Server = ""

// DB is the annotations database.
type DB struct {
	db cyrusdb.DB
}

// New wraps the annotations database.
func New(db cyrusdb.DB) *DB { return &DB{db: db} }

// scopeKey is the key prefix of a scope: "S" for the server, "M" and the
// unique id for a mailbox.
func scopeKey(mailbox string) string {
	if mailbox == Server {
		return "S"
	}
	return "M" + mailbox
}

func ownerPrefix(mailbox, userid string) []byte {
	return []byte(scopeKey(mailbox) + "\x00" + userid + "\x00")
}

func key(mailbox, userid, entry string) []byte {
	return append(ownerPrefix(mailbox, userid), entry...)
}

// valid rejects what cannot be part of a key: a NUL would let one user's
// key pose as another's.
func valid(parts ...string) error {
	for _, p := range parts {
		if strings.IndexByte(p, 0) >= 0 {
			return fmt.Errorf("annotation key part %q: contains NUL", p)
		}
	}
	return nil
}

// Get returns the value of entry for userid ("" for the shared value) in
// a scope; ok is false when there is none.
func (d *DB) Get(mailbox, userid, entry string) (value []byte, ok bool, err error) {
	if err := valid(mailbox, userid, entry); err != nil {
		return nil, false, err
	}
	v, err := d.db.Get(key(mailbox, userid, entry))
	if errors.Is(err, cyrusdb.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read annotation %s: %w", entry, err)
	}
	return v, true, nil
}

// Scan calls fn, in entry order, for each value of userid in a scope
// whose entry starts with prefix. fn must not keep value.
func (d *DB) Scan(mailbox, userid, prefix string, fn func(entry string, value []byte) error) error {
	if err := valid(mailbox, userid, prefix); err != nil {
		return err
	}
	p := ownerPrefix(mailbox, userid)
	err := d.db.Scan(append(p, prefix...), func(k, v []byte) error {
		return fn(string(k[len(p):]), v)
	})
	if err != nil {
		return fmt.Errorf("scan annotations: %w", err)
	}
	return nil
}

// Count returns how many values userid has in a scope.
func (d *DB) Count(mailbox, userid string) (int, error) {
	n := 0
	err := d.Scan(mailbox, userid, "", func(string, []byte) error { n++; return nil })
	return n, err
}

// Change is one write of Apply: Value nil removes the entry.
type Change struct {
	Mailbox string // unique id, or Server
	UserID  string // "" for the shared value
	Entry   string
	Value   []byte
}

// Apply writes every change atomically: all or none (RFC 5464 4.3).
func (d *DB) Apply(changes []Change) error {
	ops := make([]cyrusdb.Op, 0, len(changes))
	for _, c := range changes {
		if err := valid(c.Mailbox, c.UserID, c.Entry); err != nil {
			return err
		}
		op := cyrusdb.Op{Key: key(c.Mailbox, c.UserID, c.Entry)}
		if c.Value != nil {
			op.Value = c.Value
		}
		ops = append(ops, op)
	}
	if len(ops) == 0 {
		return nil
	}
	if err := d.db.Batch(ops); err != nil {
		return fmt.Errorf("store annotations: %w", err)
	}
	return nil
}

// collect gathers the keys (and values) under prefix whose owner passes
// keep, so they can be rewritten in one batch.
func (d *DB) collect(prefix []byte, keep func(k []byte) bool) (keys, values [][]byte, err error) {
	err = d.db.Scan(prefix, func(k, v []byte) error {
		if keep(k) {
			keys = append(keys, bytes.Clone(k))
			values = append(values, bytes.Clone(v))
		}
		return nil
	})
	return keys, values, err
}

// DeleteMailbox removes every value, shared and private, of a mailbox:
// a mailbox created later under the same name starts bare (RFC 5464 4.1).
func (d *DB) DeleteMailbox(uniqueid string) error {
	if uniqueid == Server {
		return errors.New("delete mailbox annotations: no mailbox")
	}
	keys, _, err := d.collect([]byte(scopeKey(uniqueid)+"\x00"), func([]byte) bool { return true })
	if err != nil {
		return fmt.Errorf("delete annotations of %s: %w", uniqueid, err)
	}
	return d.deleteKeys(keys)
}

func (d *DB) deleteKeys(keys [][]byte) error {
	if len(keys) == 0 {
		return nil
	}
	ops := make([]cyrusdb.Op, len(keys))
	for i, k := range keys {
		ops[i] = cyrusdb.Op{Key: k}
	}
	if err := d.db.Batch(ops); err != nil {
		return fmt.Errorf("delete annotations: %w", err)
	}
	return nil
}

// CopyMailbox copies every value of one mailbox to another, replacing
// what the target had: RENAME INBOX leaves INBOX's annotations in place
// and gives the new mailbox a copy (RFC 5464 4.1).
func (d *DB) CopyMailbox(from, to string) error {
	if from == Server || to == Server {
		return errors.New("copy mailbox annotations: no mailbox")
	}
	src := []byte(scopeKey(from) + "\x00")
	keys, values, err := d.collect(src, func([]byte) bool { return true })
	if err != nil {
		return fmt.Errorf("copy annotations of %s: %w", from, err)
	}
	ops := make([]cyrusdb.Op, len(keys))
	for i, k := range keys {
		ops[i] = cyrusdb.Op{Key: append([]byte(scopeKey(to)+"\x00"), k[len(src):]...), Value: values[i]}
	}
	if len(ops) == 0 {
		return nil
	}
	if err := d.db.Batch(ops); err != nil {
		return fmt.Errorf("copy annotations of %s: %w", from, err)
	}
	return nil
}

// RenameUser gives olduser's private values on a mailbox to newuser, for
// a mailbox that moved with its user (user.a renamed to user.b), as
// Cyrus's annotate_rename_mailbox does.
func (d *DB) RenameUser(uniqueid, olduser, newuser string) error {
	if err := valid(olduser, newuser); err != nil {
		return err
	}
	if olduser == "" || newuser == "" || olduser == newuser {
		return nil
	}
	p := ownerPrefix(uniqueid, olduser)
	keys, values, err := d.collect(p, func([]byte) bool { return true })
	if err != nil {
		return fmt.Errorf("rename annotations of %s: %w", olduser, err)
	}
	var ops []cyrusdb.Op
	for i, k := range keys {
		ops = append(ops, cyrusdb.Op{Key: k}, cyrusdb.Op{Key: key(uniqueid, newuser, string(k[len(p):])), Value: values[i]})
	}
	if len(ops) == 0 {
		return nil
	}
	if err := d.db.Batch(ops); err != nil {
		return fmt.Errorf("rename annotations of %s: %w", olduser, err)
	}
	return nil
}

// DeleteUser removes every private value of userid, on the server and on
// every mailbox. It reads the whole database: users are deleted rarely,
// and the key order serves the frequent reads instead.
func (d *DB) DeleteUser(userid string) error {
	if userid == "" {
		return errors.New("delete annotations: no user")
	}
	if err := valid(userid); err != nil {
		return err
	}
	owner := []byte("\x00" + userid + "\x00")
	keys, _, err := d.collect(nil, func(k []byte) bool {
		i := bytes.IndexByte(k, 0)
		return i >= 0 && bytes.HasPrefix(k[i:], owner)
	})
	if err != nil {
		return fmt.Errorf("delete annotations of %s: %w", userid, err)
	}
	return d.deleteKeys(keys)
}
