package duplicate

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
)

// Prune deletes the records marked before olderThan, and records that do
// not parse, and returns how many it deleted. A record re-marked while
// the prune runs is kept: each deletion is a compare-and-swap against the
// value that was judged old.
func Prune(db cyrusdb.DB, olderThan time.Time) (int, error) {
	purged, _, err := PruneCount(db, olderThan)
	return purged, err
}

// PruneCount is Prune that also returns how many records it looked at.
func PruneCount(db cyrusdb.DB, olderThan time.Time) (purged, total int, err error) {
	cutoff := olderThan.Unix()
	err = db.Scan(nil, func(key, value []byte) error {
		total++
		_, okKey := ParseKey(key)
		r, verr := parseValue(value)
		if okKey && verr == nil && r.at >= cutoff {
			return nil
		}
		swapped, err := db.CompareAndSwap(key, value, nil)
		if errors.Is(err, cyrusdb.ErrAmbiguous) {
			_, gerr := db.Get(key)
			swapped, err = errors.Is(gerr, cyrusdb.ErrNotFound), nil
		}
		if err != nil {
			return fmt.Errorf("delete duplicate record: %w", err)
		}
		if swapped {
			purged++
		}
		return nil
	})
	if err != nil {
		return purged, total, fmt.Errorf("duplicate_prune: %w", err)
	}
	return purged, total, nil
}

// Expire prunes the records older than age before now and logs it in
// Cyrus's words (duplicate_prune in imap/duplicate.c), for ctl_deliver -E
// and cyr_expire -E.
func Expire(db cyrusdb.DB, age time.Duration, now time.Time, logger *slog.Logger) (purged, total int, err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if age < 0 {
		return 0, 0, errors.New("must specify positive number of days")
	}
	ctx := context.Background()
	logger.Log(ctx, logging.LevelNotice, fmt.Sprintf("duplicate_prune: pruning back %0.2f days", age.Hours()/24))
	purged, total, err = PruneCount(db, now.Add(-age))
	if err != nil {
		return purged, total, err
	}
	logger.Log(ctx, logging.LevelNotice, fmt.Sprintf("duplicate_prune: purged %d out of %d entries", purged, total))
	return purged, total, nil
}

// Dump writes every record to w in the format of Cyrus's ctl_deliver -d
// (duplicate_dump):
//
//	id: <message-id, padded to 40>\tto: <recipient, padded to 20>\tat: <mark>\tuid: <uid>
//
// with an id that is not printable ASCII written in upper-case hex. It
// returns the number of records, counting the unparsable ones it does not
// print, as Cyrus does. A pending claim prints with its claim time and
// uid 0.
func Dump(db cyrusdb.DB, w io.Writer) (int, error) {
	n := 0
	var werr error
	err := db.Scan(nil, func(key, value []byte) error {
		n++
		k, ok := ParseKey(key)
		if !ok {
			return nil
		}
		r, err := parseValue(value)
		if err != nil {
			return nil
		}
		id := k.ID
		if !printable(id) {
			id = strings.ToUpper(hex.EncodeToString([]byte(id)))
		}
		if _, werr = fmt.Fprintf(w, "id: %-40s\tto: %-20s\tat: %d\tuid: %d\n", id, k.To, r.at, r.uid); werr != nil {
			return werr
		}
		return nil
	})
	if werr != nil {
		return n, fmt.Errorf("write dump: %w", werr)
	}
	if err != nil {
		return n, fmt.Errorf("dump duplicate database: %w", err)
	}
	return n, nil
}

// printable is C's isprint over ASCII.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
