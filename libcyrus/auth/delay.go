package auth

import (
	"context"
	"time"
)

// Delay spaces out failed authentications on one connection: nothing
// after the first failure, so a mistyped password costs nothing, then
// Base, twice Base, and so on up to Max for each failure after; with the
// defaults, a guesser on one connection gets about fifteen tries a minute.
// Cyrus instead sleeps failedloginpause (3s) after every failure, the
// first included. Neither survives a reconnect: a guesser that opens a new
// connection for each try is held back by connection setup and the
// service's process limits, not by this.
//
// The zero value uses DefaultDelayBase and DefaultDelayMax. A Delay
// belongs to one connection and is not safe for concurrent use.
type Delay struct {
	// Base is the wait after the second failure; zero means
	// DefaultDelayBase, a negative value no waits at all (tests).
	Base time.Duration
	// Max caps the wait; zero means DefaultDelayMax.
	Max time.Duration
	// Sleep waits; nil means a timer that ends early with ctx.
	Sleep func(ctx context.Context, d time.Duration) error

	failures int
}

// Defaults of Delay: 0s, 1s, 2s, 4s, 4s, ...
const (
	DefaultDelayBase = time.Second
	DefaultDelayMax  = 4 * time.Second
)

// Next returns how long the next Fail will wait.
func (d *Delay) Next() time.Duration {
	base, limit := d.Base, d.Max
	if base == 0 {
		base = DefaultDelayBase
	}
	if limit == 0 {
		limit = DefaultDelayMax
	}
	if base < 0 || d.failures == 0 {
		return 0
	}
	w := base
	for i := 1; i < d.failures && w < limit; i++ {
		w *= 2
	}
	return min(w, limit)
}

// Fail records a failed authentication and waits before the protocol
// answers it. It returns ctx's error if ctx ends first (the connection is
// closing).
func (d *Delay) Fail(ctx context.Context) error {
	w := d.Next()
	d.failures++
	if w <= 0 {
		return ctx.Err()
	}
	if d.Sleep != nil {
		return d.Sleep(ctx, w)
	}
	t := time.NewTimer(w)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Failures returns the number of failures recorded.
func (d *Delay) Failures() int { return d.failures }
