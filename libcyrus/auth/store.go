package auth

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/xdg-go/scram"

	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
)

// The native user store ("auxprop") lives in the cyrusdb database
// cyrusdb.Users: the key is the canonical userid (CanonUser), the value a
// versioned JSON record. Callers canonicalise names before calling the
// functions below; the store keeps names exactly as given, so that the
// tool, the services and make run's demo agree on one spelling.
//
// What a record keeps, and why:
//   - "plain": PBKDF2-SHA256 of the password bytes as typed, for PLAIN,
//     LOGIN and the LOGIN/USER+PASS commands. The raw bytes are hashed (no
//     SASLprep) because those commands carry whatever bytes the client
//     sends, and Cyrus compared them byte for byte.
//   - "scram-sha-1", "scram-sha-256": the RFC 5802 section 3 verifiers
//     (salt, iteration count, StoredKey, ServerKey) of the SASLprep'd
//     password, so SCRAM works without the plaintext. A password SASLprep
//     refuses (RFC 4013: unassigned code points such as emoji) gets none,
//     and that user can use PLAIN and LOGIN only.
//
// Nothing here is enough for CRAM-MD5 or DIGEST-MD5, which need the
// plaintext (or an MD5 of it); those mechanisms are therefore not offered.

// recordVersion is the version written; a record with a higher version was
// written by a newer cyrusgo and is refused rather than misread.
const recordVersion = 1

const (
	// plainIterations makes one PLAIN/LOGIN check cost tens of
	// milliseconds: slow for a password guesser with a stolen database,
	// fast enough for a login. Stored per record, so it can be raised.
	plainIterations = 100_000
	// scramIterations is RFC 7677's recommended minimum, which is also the
	// minimum common SCRAM clients (and xdg-go/scram) accept; the client
	// repeats this work on every login.
	scramIterations = 4096
	saltLen         = 16
	plainAlg        = "pbkdf2-sha256"
	// maxIterations bounds the work a damaged or hostile record can make
	// one login do.
	maxIterations = 10_000_000
)

// hashParams are the costs SetPassword uses; tests lower them.
type hashParams struct {
	plainIter int
	scramIter int
}

func defaultParams() hashParams {
	return hashParams{plainIter: plainIterations, scramIter: scramIterations}
}

type record struct {
	V       int        `json:"v"`
	Changed string     `json:"changed,omitempty"`
	Plain   *plainHash `json:"plain,omitempty"`
	SHA1    *scramKeys `json:"scram-sha-1,omitempty"`
	SHA256  *scramKeys `json:"scram-sha-256,omitempty"`
}

type plainHash struct {
	Alg  string `json:"alg"`
	Iter int    `json:"iter"`
	Salt []byte `json:"salt"`
	Hash []byte `json:"hash"`
}

type scramKeys struct {
	Iter      int    `json:"iter"`
	Salt      []byte `json:"salt"`
	StoredKey []byte `json:"stored"`
	ServerKey []byte `json:"server"`
}

// SetPassword creates user, or replaces the password of an existing one.
func SetPassword(db cyrusdb.DB, user, password string) error {
	return setPassword(db, user, password, defaultParams(), false)
}

// AddUser creates user with password; it fails with ErrUserExists when
// the user is already in the store.
func AddUser(db cyrusdb.DB, user, password string) error {
	return setPassword(db, user, password, defaultParams(), true)
}

func setPassword(db cyrusdb.DB, user, password string, p hashParams, create bool) error {
	if err := validUser(user); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if password == "" {
		return fmt.Errorf("set password for %s: empty password", user)
	}
	rec, err := newRecord(password, p, time.Now(), rand.Reader)
	if err != nil {
		return fmt.Errorf("set password for %s: %w", user, err)
	}
	val, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("set password for %s: %w", user, err)
	}
	if create {
		ok, err := db.PutIfAbsent([]byte(user), val)
		if err != nil {
			return fmt.Errorf("add user %s: %w", user, err)
		}
		if !ok {
			return fmt.Errorf("add user %s: %w", user, ErrUserExists)
		}
		return nil
	}
	if err := db.Put([]byte(user), val); err != nil {
		return fmt.Errorf("set password for %s: %w", user, err)
	}
	return nil
}

// newRecord derives a record for password; salts come from rnd
// (crypto/rand, or a fixed stream in tests that need repeatable records).
func newRecord(password string, p hashParams, now time.Time, rnd io.Reader) (*record, error) {
	rec := &record{V: recordVersion, Changed: now.UTC().Format(time.RFC3339)}
	salt, err := newSalt(rnd)
	if err != nil {
		return nil, err
	}
	h, err := pbkdf2.Key(sha256.New, password, salt, p.plainIter, sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("pbkdf2: %w", err)
	}
	rec.Plain = &plainHash{Alg: plainAlg, Iter: p.plainIter, Salt: salt, Hash: h}
	for _, hf := range []struct {
		fn  scram.HashGeneratorFcn
		dst **scramKeys
	}{{scram.SHA1, &rec.SHA1}, {scram.SHA256, &rec.SHA256}} {
		// NewClient applies SASLprep to the password, as every SCRAM
		// client does before deriving its keys (RFC 5802 section 2.2).
		c, err := hf.fn.NewClient("", password, "")
		if err != nil {
			continue // SASLprep refused the password: PLAIN/LOGIN only
		}
		salt, err := newSalt(rnd)
		if err != nil {
			return nil, err
		}
		sc, err := c.GetStoredCredentialsWithError(scram.KeyFactors{Salt: string(salt), Iters: p.scramIter})
		if err != nil {
			return nil, fmt.Errorf("scram verifiers: %w", err)
		}
		*hf.dst = &scramKeys{Iter: p.scramIter, Salt: salt, StoredKey: sc.StoredKey, ServerKey: sc.ServerKey}
	}
	return rec, nil
}

func newSalt(rnd io.Reader) ([]byte, error) {
	salt := make([]byte, saltLen)
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return nil, fmt.Errorf("salt: %w", err)
	}
	return salt, nil
}

// DeleteUser removes user; it fails with ErrNoUser when there is none.
func DeleteUser(db cyrusdb.DB, user string) error {
	if _, err := db.Get([]byte(user)); err != nil {
		if errors.Is(err, cyrusdb.ErrNotFound) {
			return fmt.Errorf("delete user %s: %w", user, ErrNoUser)
		}
		return fmt.Errorf("delete user %s: %w", user, err)
	}
	if err := db.Delete([]byte(user)); err != nil {
		return fmt.Errorf("delete user %s: %w", user, err)
	}
	return nil
}

// UserExists reports whether user is in the store.
func UserExists(db cyrusdb.DB, user string) (bool, error) {
	_, err := db.Get([]byte(user))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, cyrusdb.ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("look up user %s: %w", user, err)
}

// ListUsers returns every user in the store, in key (byte) order.
func ListUsers(db cyrusdb.DB) ([]string, error) {
	var users []string
	err := db.Scan(nil, func(key, _ []byte) error {
		users = append(users, string(key))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// loadRecord reads user's record; a missing user is cyrusdb.ErrNotFound.
func loadRecord(db cyrusdb.DB, user string) (*record, error) {
	val, err := db.Get([]byte(user))
	if err != nil {
		return nil, err
	}
	var rec record
	if err := json.Unmarshal(val, &rec); err != nil {
		return nil, fmt.Errorf("user record of %s: %w", user, err)
	}
	if rec.V < 1 || rec.V > recordVersion {
		return nil, fmt.Errorf("user record of %s: version %d not supported (this program reads up to %d)", user, rec.V, recordVersion)
	}
	return &rec, nil
}

// verifyPlain reports whether password matches the record's hash.
func (r *record) verifyPlain(password string) (bool, error) {
	if r.Plain == nil {
		return false, nil
	}
	if r.Plain.Alg != plainAlg || r.Plain.Iter < 1 || r.Plain.Iter > maxIterations {
		return false, fmt.Errorf("password hash %q with %d iterations not supported", r.Plain.Alg, r.Plain.Iter)
	}
	h, err := pbkdf2.Key(sha256.New, password, r.Plain.Salt, r.Plain.Iter, len(r.Plain.Hash))
	if err != nil {
		return false, fmt.Errorf("pbkdf2: %w", err)
	}
	return hmac.Equal(h, r.Plain.Hash), nil
}

// dummyHash spends the time verifyPlain would, so that a check for a user
// that does not exist takes as long as one for a user that does.
func dummyHash(password string, p hashParams) {
	var salt [saltLen]byte
	_, _ = pbkdf2.Key(sha256.New, password, salt[:], p.plainIter, sha256.Size)
}

// scramFor returns the verifiers for mech, or nil.
func (r *record) scramFor(mech string) *scramKeys {
	var k *scramKeys
	switch mech {
	case MechSCRAMSHA1:
		k = r.SHA1
	case MechSCRAMSHA256:
		k = r.SHA256
	}
	if k == nil || k.Iter < 1 || k.Iter > maxIterations {
		return nil
	}
	return k
}
