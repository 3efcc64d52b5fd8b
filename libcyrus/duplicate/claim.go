package duplicate

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
)

// ErrBusy is returned by Claim when another live process has been storing
// the same message to the same mailbox for longer than Options.Wait: the
// caller answers with a temporary failure and the MTA tries again.
var ErrBusy = errors.New("the same message is being delivered to this mailbox by another process")

// Claim is the right to store one message in one mailbox, or the news
// that it was stored already (see the package comment).
type Claim struct {
	// Duplicate is true when the message was delivered before: store
	// nothing, answer success. The Claim holds nothing then.
	Duplicate bool
	// UID is the UID of the earlier delivery when Duplicate (0 if unknown).
	UID uint32
	// Orphan, when set, is the claim of a process that died while storing
	// this message, which this claim took over. If a message with
	// Orphan.GUID is in the mailbox, that process stored it: Commit with
	// its UID and store nothing.
	Orphan *Pending

	s     *Suppressor
	key   []byte
	value []byte
}

// Claim claims k for this process, for a message whose staged content has
// the given GUID. It returns a Claim to Commit or Release, one with
// Duplicate set, or an error (ErrBusy, a database error, ctx's error).
func (s *Suppressor) Claim(ctx context.Context, k Key, guid [20]byte) (*Claim, error) {
	if !k.Valid() {
		return nil, fmt.Errorf("duplicate claim: unusable key for %q", k.ID)
	}
	key := k.Bytes()
	var nonce [8]byte
	rand.Read(nonce[:])
	mine := pendingValue(Pending{At: s.now(), Process: s.self, GUID: guid, Nonce: hex.EncodeToString(nonce[:])})
	deadline := time.Now().Add(s.wait)
	for {
		ok, err := s.db.PutIfAbsent(key, mine)
		if errors.Is(err, cyrusdb.ErrAmbiguous) {
			// The reply was lost: our value is there if the write made it.
			cur, gerr := s.db.Get(key)
			if gerr == nil && bytes.Equal(cur, mine) {
				ok, err = true, nil
			} else if gerr == nil || errors.Is(gerr, cyrusdb.ErrNotFound) {
				ok, err = false, nil
			}
		}
		if err != nil {
			return nil, fmt.Errorf("duplicate claim %s/%s: %w", k.ID, k.To, err)
		}
		if ok {
			return &Claim{s: s, key: key, value: mine}, nil
		}
		cur, err := s.db.Get(key)
		if errors.Is(err, cyrusdb.ErrNotFound) {
			continue // released meanwhile: claim again
		}
		if err != nil {
			return nil, fmt.Errorf("duplicate claim %s/%s: %w", k.ID, k.To, err)
		}
		r, perr := parseValue(cur)
		switch {
		case perr == nil && !r.pending:
			return &Claim{Duplicate: true, UID: r.uid}, nil
		case perr != nil || !s.alive(r.claim.Process) || s.now().Sub(r.claim.At) > s.stale:
			// A broken record or a dead claimant: take over, exactly one
			// process wins the swap.
			swapped, err := s.db.CompareAndSwap(key, cur, mine)
			if errors.Is(err, cyrusdb.ErrAmbiguous) {
				now, gerr := s.db.Get(key)
				swapped, err = gerr == nil && bytes.Equal(now, mine), nil
			}
			if err != nil {
				return nil, fmt.Errorf("duplicate claim %s/%s: %w", k.ID, k.To, err)
			}
			if !swapped {
				continue
			}
			c := &Claim{s: s, key: key, value: mine}
			if perr == nil {
				orphan := r.claim
				c.Orphan = &orphan
				s.log.Warn(fmt.Sprintf("duplicate claim: took over %s/%s from process %d, which died while delivering it", k.ID, k.To, r.claim.Process.PID))
			}
			return c, nil
		}
		// A live process is storing the same message: wait for it.
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("duplicate claim %s/%s held by process %d: %w", k.ID, k.To, r.claim.Process.PID, ErrBusy)
		}
		t := time.NewTimer(s.poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// Commit turns the claim into the mark of a delivery with uid. The
// message is stored already, so a failure here only weakens suppression
// of a later copy; the caller logs it and still reports success.
func (c *Claim) Commit(uid uint32) error {
	if c.Duplicate || c.s == nil {
		return nil
	}
	done := doneValue(c.s.now(), uid)
	swapped, err := c.s.db.CompareAndSwap(c.key, c.value, done)
	if errors.Is(err, cyrusdb.ErrAmbiguous) {
		cur, gerr := c.s.db.Get(c.key)
		swapped, err = gerr == nil && bytes.Equal(cur, done), gerr
	}
	if err != nil {
		return fmt.Errorf("duplicate mark: %w", err)
	}
	if !swapped {
		// Someone took the claim over (we were thought dead or stale):
		// record the delivery anyway, it happened.
		if err := c.s.db.Put(c.key, done); err != nil {
			return fmt.Errorf("duplicate mark: %w", err)
		}
	}
	return nil
}

// Release gives the claim up after a failed delivery, so that a retry can
// store the message.
func (c *Claim) Release() error {
	if c.Duplicate || c.s == nil {
		return nil
	}
	var err error
	for try := 0; try < 3; try++ {
		_, err = c.s.db.CompareAndSwap(c.key, c.value, nil)
		if !errors.Is(err, cyrusdb.ErrAmbiguous) {
			break
		}
		// The reply was lost; swapping again is safe, since it only
		// deletes our own value.
	}
	if err != nil {
		// What is left is our pending record, which a later delivery
		// takes over once this process is gone or the claim is stale.
		return fmt.Errorf("duplicate release: %w", err)
	}
	return nil
}
