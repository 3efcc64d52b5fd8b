package imapserver

import "github.com/cyrusgo/cyrusgo/libcyrus/mailbox"

// keywordCache holds the mailbox's keyword names for one command, so
// flags are written without asking the store for each message. Keywords
// are only ever added, so a bit past the snapshot means "read it again".
type keywordCache struct {
	names  []string
	loaded bool
}

func (kc *keywordCache) name(m *mailbox.Mailbox, i int) (string, bool) {
	if !kc.loaded || i >= len(kc.names) {
		kc.names, kc.loaded = m.Keywords(), true
	}
	if i < len(kc.names) {
		return kc.names[i], true
	}
	return "", false
}

// writeFlags writes the flag list of r (RFC 3501 7.4.2 FLAGS) in Cyrus's
// order: \Recent, the system flags, then keywords.
func (ss *session) writeFlags(r *mailbox.Record, kc *keywordCache) {
	w := ss.w
	w.Byte('(')
	sep := false
	put := func(s string) {
		if sep {
			w.SP()
		}
		sep = true
		w.Raw(s)
	}
	if !ss.rev2() && ss.mbox.IsRecent(r.UID) { // RFC 9051 E.6: no \Recent
		put(`\Recent`)
	}
	if r.Flags&mailbox.FlagAnswered != 0 {
		put(`\Answered`)
	}
	if r.Flags&mailbox.FlagFlagged != 0 {
		put(`\Flagged`)
	}
	if r.Flags&mailbox.FlagDraft != 0 {
		put(`\Draft`)
	}
	if r.Flags&mailbox.FlagDeleted != 0 {
		put(`\Deleted`)
	}
	if r.Flags&mailbox.FlagSeen != 0 {
		put(`\Seen`)
	}
	for word := 0; word < len(r.UserFlags); word++ {
		bitsLeft := r.UserFlags[word]
		for b := 0; bitsLeft != 0; b++ {
			if bitsLeft&1 != 0 {
				if name, ok := kc.name(ss.mbox, word*64+b); ok {
					put(name)
				}
			}
			bitsLeft >>= 1
		}
	}
	w.Byte(')')
}
