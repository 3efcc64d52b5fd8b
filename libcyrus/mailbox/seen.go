package mailbox

import (
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
)

// \Seen of a user who does not own the mailbox (a shared folder, another
// user's folder) lives in the seen database, per user and mailbox, as a
// UID set in IMAP syntax ("1:5,7"), like Cyrus's seen state. The owner's
// \Seen lives in the index records.

type uidRange struct{ lo, hi uint32 }

type uidSet []uidRange

func parseUIDSet(s string) uidSet {
	var out uidSet
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			continue
		}
		lo, hi, ok := strings.Cut(part, ":")
		a, err1 := strconv.ParseUint(lo, 10, 32)
		b := a
		var err2 error
		if ok {
			b, err2 = strconv.ParseUint(hi, 10, 32)
		}
		if err1 != nil || err2 != nil {
			continue
		}
		if a > b {
			a, b = b, a
		}
		out = append(out, uidRange{uint32(a), uint32(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].lo < out[j].lo })
	return out
}

func (u uidSet) contains(uid uint32) bool {
	i := sort.Search(len(u), func(i int) bool { return u[i].hi >= uid })
	return i < len(u) && u[i].lo <= uid
}

// fromMap builds a set from explicit UIDs.
func uidSetFrom(uids []uint32) uidSet {
	sort.Slice(uids, func(i, j int) bool { return uids[i] < uids[j] })
	var out uidSet
	for _, x := range uids {
		if n := len(out); n > 0 && (out[n-1].hi == x || out[n-1].hi+1 == x) {
			out[n-1].hi = x
			continue
		}
		out = append(out, uidRange{x, x})
	}
	return out
}

func (u uidSet) String() string {
	var b strings.Builder
	for i, r := range u {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(uint64(r.lo), 10))
		if r.hi != r.lo {
			b.WriteByte(':')
			b.WriteString(strconv.FormatUint(uint64(r.hi), 10))
		}
	}
	return b.String()
}

func (m *Mailbox) seenKey() []byte { return []byte(m.id.UserID + "\x00" + m.entry.UniqueID) }

// loadSeen reads the caller's seen set for a mailbox they do not own.
func (m *Mailbox) loadSeen() error {
	m.seenSet = nil
	if m.id.UserID == "" {
		return nil
	}
	b, err := m.s.seen.Get(m.seenKey())
	if errors.Is(err, cyrusdb.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	m.seenSet = parseUIDSet(string(b))
	return nil
}

// applySeen replaces the record's \Seen with the caller's own.
func (m *Mailbox) applySeen(r *Record) {
	if m.seenSet.contains(r.UID) {
		r.Flags |= FlagSeen
	} else {
		r.Flags &^= FlagSeen
	}
}

func (m *Mailbox) seenUIDLocked(uid uint32) bool { return m.seenSet.contains(uid) }

// seenLocked reports whether r is \Seen for the caller (r already has the
// non-owner's seen state applied by recordLocked).
func (m *Mailbox) seenLocked(r *Record) bool { return r.Flags&FlagSeen != 0 }

// storeSeenLocked applies changes to the caller's seen set and writes it
// with compare-and-swap, so two sessions of one user do not lose updates.
func (m *Mailbox) storeSeenLocked(changes map[uint32]bool) error {
	key := m.seenKey()
	for {
		old, err := m.s.seen.Get(key)
		if errors.Is(err, cyrusdb.ErrNotFound) {
			old = nil
		} else if err != nil {
			return err
		}
		cur := parseUIDSet(string(old))
		var uids []uint32
		for _, r := range cur {
			for x := r.lo; ; x++ {
				if on, ok := changes[x]; !ok || on {
					uids = append(uids, x)
				}
				if x == r.hi {
					break
				}
			}
		}
		for uid, on := range changes {
			if on && !cur.contains(uid) {
				uids = append(uids, uid)
			}
		}
		next := uidSetFrom(uids)
		ok, err := m.s.seen.CompareAndSwap(key, old, []byte(next.String()))
		if err != nil {
			return err
		}
		if ok {
			m.seenSet = next
			return nil
		}
	}
}
