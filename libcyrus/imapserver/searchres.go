package imapserver

// SEARCHRES (RFC 5182): SEARCH RETURN (SAVE) keeps its result as UIDs in
// the session, so expunges drop out of it by themselves, and "$" in any
// sequence set stands for it: the UIDs in UID commands and the UID SEARCH
// key, their current sequence numbers elsewhere (2.1). It is emptied when
// a mailbox is selected or closed, and by a SEARCH (SAVE) that fails with
// NO; a BAD SEARCH leaves it alone.

import "github.com/cyrusgo/cyrusgo/libcyrus/imapwire"

// dollarSet substitutes the saved result for "$" (any other set is
// returned as it is). An empty result is a valid set matching nothing.
func (ss *session) dollarSet(set imapwire.SeqSet, byUID bool) imapwire.SeqSet {
	if !set.Dollar {
		return set
	}
	if byUID {
		return imapwire.SeqSetOf(ss.searchRes)
	}
	seqs := make([]uint32, 0, len(ss.searchRes))
	for _, uid := range ss.searchRes {
		if s := ss.mbox.SeqOf(uid); s > 0 {
			seqs = append(seqs, s)
		}
	}
	return imapwire.SeqSetOf(seqs)
}

// substituteDollar replaces "$" in the sequence-set and UID keys of a
// search program.
func (ss *session) substituteDollar(k *searchKey) {
	switch k.op {
	case sSeq:
		k.set = ss.dollarSet(k.set, false)
	case sUID:
		k.set = ss.dollarSet(k.set, true)
	}
	for _, kid := range k.kids {
		ss.substituteDollar(kid)
	}
}
