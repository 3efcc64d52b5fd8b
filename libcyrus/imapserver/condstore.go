package imapserver

// CONDSTORE and QRESYNC (RFC 7162): the enabling rules, the SELECT and
// EXAMINE parameters, VANISHED (EARLIER) for SELECT (QRESYNC ...) and UID
// FETCH (CHANGEDSINCE n VANISHED). Mod-sequences themselves live in the
// store (package mailbox, modseq.go), which also says how long expunges
// are remembered: until cyr_expire -X removes the expunged records.

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/imapwire"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
)

// condstore reports whether the client is CONDSTORE-aware (RFC 7162 3.1):
// untagged FETCH responses then carry MODSEQ and, this server having
// QRESYNC, the UID (3.2.4).
func (ss *session) condstore() bool { return ss.enabled["CONDSTORE"] }

// qresync reports whether ENABLE QRESYNC was accepted (RFC 7162 3.2.3):
// VANISHED replaces EXPUNGE.
func (ss *session) qresync() bool { return ss.enabled["QRESYNC"] }

// enableCondstore is a CONDSTORE enabling command (RFC 7162 3.1): the
// first one with a mailbox selected reports its HIGHESTMODSEQ, as Cyrus
// does.
func (ss *session) enableCondstore() {
	if ss.enabled["CONDSTORE"] {
		return
	}
	ss.enabled["CONDSTORE"] = true
	if ss.mbox != nil {
		ss.w.Raw(fmt.Sprintf("* OK [HIGHESTMODSEQ %d] Ok\r\n", ss.mbox.HighestModseq()))
	}
}

// enableResync handles ENABLE CONDSTORE and ENABLE QRESYNC (QRESYNC
// implies CONDSTORE, RFC 7162 3.2.3). It returns what became enabled, in
// the order Cyrus lists it.
func (ss *session) enableResync(want map[string]bool) []string {
	before := map[string]bool{"CONDSTORE": ss.condstore(), "QRESYNC": ss.qresync()}
	if want["QRESYNC"] {
		ss.enabled["QRESYNC"] = true
	}
	if want["CONDSTORE"] || want["QRESYNC"] {
		ss.enableCondstore()
	}
	var out []string
	for _, e := range []string{"CONDSTORE", "QRESYNC"} {
		if ss.enabled[e] && !before[e] {
			out = append(out, e)
		}
	}
	return out
}

// qresyncParams is the QRESYNC select parameter (RFC 7162 3.2.5).
type qresyncParams struct {
	uidValidity uint32
	modseq      uint64
	knownUIDs   imapwire.SeqSet // empty: 1 to UIDNEXT-1
	haveKnown   bool
	matchSeqs   imapwire.SeqSet // seq-match-data, when haveMatch
	matchUIDs   imapwire.SeqSet
	haveMatch   bool
}

// selectParams are the select-params of SELECT and EXAMINE (RFC 4466 2.1).
type selectParams struct {
	condstore bool
	qresync   *qresyncParams
}

// readSelectParams reads "(" select-param *(SP select-param) ")". A
// QRESYNC parameter without ENABLE QRESYNC is a BAD (RFC 7162 3.2.5).
func (ss *session) readSelectParams() (selectParams, error) {
	var p selectParams
	err := ss.r.ReadList(func(r *imapwire.Reader) error {
		name, err := r.ReadAtom()
		if err != nil {
			return err
		}
		switch strings.ToUpper(name) {
		case "CONDSTORE":
			p.condstore = true
			return nil
		case "QRESYNC":
			if !ss.qresync() {
				return syntax("QRESYNC not enabled")
			}
			if err := r.SP(); err != nil {
				return err
			}
			q, err := readQresync(r)
			if err != nil {
				return err
			}
			p.qresync = q
			return nil
		}
		return syntax("Invalid Select modifier " + name)
	})
	return p, err
}

// readQresync reads "(" uidvalidity SP mod-sequence-value [SP known-uids]
// [SP seq-match-data] ")" (RFC 7162 7).
func readQresync(r *imapwire.Reader) (*qresyncParams, error) {
	q := &qresyncParams{}
	// Anything unreadable in the list is this one BAD; I/O errors stay.
	bad := func(err error) error {
		if err != nil && !imapwire.IsClientError(err) {
			return err
		}
		return syntax("Invalid QRESYNC parameter list")
	}
	seqSet := func(dst *imapwire.SeqSet) error {
		set, err := r.ReadSequenceSet()
		if err != nil || set.Dollar {
			return bad(err)
		}
		*dst = set
		return nil
	}
	if err := r.Expect('('); err != nil {
		return nil, err
	}
	var err error
	if q.uidValidity, err = r.ReadNumber(); err != nil || q.uidValidity == 0 {
		return nil, bad(err)
	}
	if err := r.SP(); err != nil {
		return nil, err
	}
	if q.modseq, err = r.ReadNumber64(); err != nil || q.modseq == 0 {
		return nil, bad(err)
	}
	if r.PeekSP() {
		r.SP()
		if c, _ := r.Peek(); c != '(' {
			if err := seqSet(&q.knownUIDs); err != nil {
				return nil, err
			}
			q.haveKnown = true
			if r.PeekSP() {
				r.SP()
				if c, _ := r.Peek(); c != '(' {
					return nil, bad(nil)
				}
			}
		}
	}
	if r.Accept('(') {
		if err := seqSet(&q.matchSeqs); err != nil {
			return nil, err
		}
		if err := r.SP(); err != nil {
			return nil, err
		}
		if err := seqSet(&q.matchUIDs); err != nil {
			return nil, err
		}
		if err := r.Expect(')'); err != nil {
			return nil, err
		}
		q.haveMatch = true
	}
	if err := r.Expect(')'); err != nil {
		return nil, err
	}
	return q, nil
}

// qresyncSelect answers the QRESYNC parameter once the mailbox is open
// (RFC 7162 3.2.5): nothing when UIDVALIDITY differs, else VANISHED
// (EARLIER) for what vanished since the client's modseq, then FETCH (UID
// FLAGS MODSEQ) for what changed, as UID FETCH known-uids (FLAGS)
// (CHANGEDSINCE modseq VANISHED) would.
func (ss *session) qresyncSelect(q *qresyncParams) error {
	m := ss.mbox
	if q.uidValidity != m.Entry().UIDValidity {
		return nil
	}
	known := q.knownUIDs
	if !q.haveKnown {
		known = imapwire.SeqSet{Ranges: []imapwire.SeqRange{{Start: 1, Stop: imapwire.Star}}}
	}
	if err := ss.writeVanishedEarlier(known, q.modseq, q); err != nil {
		return err
	}
	args := fetchArgs{flags: true, uid: true, modseq: true}
	uids := m.UIDs()
	last := uint32(0)
	if len(uids) > 0 {
		last = uids[len(uids)-1]
	}
	ranges := known.Resolve(last)
	fx := fetcher{ss: ss, args: &args}
	for i, uid := range uids {
		if !inRanges(ranges, uid) {
			continue
		}
		seq := uint32(i + 1)
		r, err := m.Record(seq)
		if err != nil || r.Modseq <= q.modseq {
			continue
		}
		fx.one(&fetchRec{seq: seq, r: r})
		if err := ss.w.Err(); err != nil {
			return err
		}
	}
	return nil
}

// fetchVanished is the VANISHED modifier of UID FETCH (RFC 7162 3.2.6):
// it needs UID FETCH, CHANGEDSINCE and ENABLE QRESYNC. VANISHED (EARLIER)
// comes before any FETCH response; it leaves out expunges the session
// has not been told of yet, which the VANISHED at the end of the command
// reports (they still hold sequence numbers until then).
func (ss *session) fetchVanished(set imapwire.SeqSet, byUID bool, a *fetchArgs) (result, bool) {
	if !a.vanished {
		return result{}, false
	}
	if !byUID || !a.haveChangedSince || !ss.qresync() {
		return bad("Invalid VANISHED modifier to Fetch"), true
	}
	if err := ss.writeVanishedEarlier(set, a.changedSince, nil); err != nil {
		return storeResult(err), true
	}
	return result{}, false
}

// writeVanishedEarlier writes "* VANISHED (EARLIER) uids" for the UIDs of
// known expunged after modseq. When the index has forgotten expunges that
// recent (a repack raised DeletedModseq above modseq), it lists every
// UID of known up to the last one assigned that does not exist, as RFC
// 7162 3.2.6 requires; seq-match-data (3.2.5.2) then spares what the
// client proves it knows.
func (ss *session) writeVanishedEarlier(known imapwire.SeqSet, modseq uint64, q *qresyncParams) error {
	x, err := ss.mbox.ExpungedSince(modseq)
	if err != nil {
		return err
	}
	lowest := uint32(1)
	if q != nil && q.haveMatch {
		lowest = matchedFloor(q.matchSeqs, q.matchUIDs, x.Live)
	}
	var out imapwire.SeqSet
	ranges := known.Resolve(x.LastUID)
	if x.Complete {
		var uids []uint32
		for _, u := range x.UIDs {
			if u >= lowest && inRanges(ranges, u) {
				uids = append(uids, u)
			}
		}
		out = imapwire.SeqSetOf(uids)
	} else {
		out = missingUIDs(ranges, x.Live, lowest, x.LastUID)
	}
	if len(out.Ranges) == 0 {
		return nil
	}
	ss.w.Raw("* VANISHED (EARLIER) ")
	ss.w.SeqSet(out)
	ss.w.CRLF()
	return ss.w.Err()
}

// matchedFloor walks the seq-match-data pairs (RFC 7162 3.2.5.2) while the
// mailbox agrees with them and returns one above the last matching UID:
// the client knows every expunge below it.
func matchedFloor(seqs, uids imapwire.SeqSet, live []uint32) uint32 {
	n := uint32(len(live))
	si := newSetIter(seqs.Resolve(n))
	ui := newSetIter(uids.Resolve(^uint32(0)))
	floor := uint32(1)
	for {
		s, ok1 := si.next()
		u, ok2 := ui.next()
		if !ok1 || !ok2 || s == 0 || s > n || live[s-1] != u {
			return floor
		}
		floor = u + 1
	}
}

// setIter walks resolved ranges number by number, without expanding them.
type setIter struct {
	rs  []imapwire.SeqRange
	cur uint64
}

func newSetIter(rs []imapwire.SeqRange) *setIter {
	it := &setIter{rs: rs}
	if len(rs) > 0 {
		it.cur = uint64(rs[0].Start)
	}
	return it
}

func (it *setIter) next() (uint32, bool) {
	for len(it.rs) > 0 {
		if it.cur <= uint64(it.rs[0].Stop) {
			n := uint32(it.cur)
			it.cur++
			return n, true
		}
		it.rs = it.rs[1:]
		if len(it.rs) > 0 {
			it.cur = uint64(it.rs[0].Start)
		}
	}
	return 0, false
}

// missingUIDs is the part of ranges from lowest to lastUID that holds no
// live message, as ranges: its size is bounded by the ranges and the
// live messages, never by the numbers the ranges span.
func missingUIDs(ranges []imapwire.SeqRange, live []uint32, lowest, lastUID uint32) imapwire.SeqSet {
	var out imapwire.SeqSet
	add := func(lo, hi uint32) {
		if lo > hi {
			return
		}
		if k := len(out.Ranges) - 1; k >= 0 && uint64(out.Ranges[k].Stop)+1 == uint64(lo) {
			out.Ranges[k].Stop = hi
			return
		}
		out.Ranges = append(out.Ranges, imapwire.SeqRange{Start: lo, Stop: hi})
	}
	for _, g := range ranges {
		lo, hi := max(g.Start, lowest), min(g.Stop, lastUID)
		if lo > hi {
			continue
		}
		i := sort.Search(len(live), func(i int) bool { return live[i] >= lo })
		for ; i < len(live) && live[i] <= hi; i++ {
			add(lo, live[i]-1)
			lo = live[i] + 1
		}
		if lo != 0 { // lo wrapped past the last UID
			add(lo, hi)
		}
	}
	return out
}

// writeVanished reports expunges to a QRESYNC client (RFC 7162 3.2.10.2):
// one VANISHED without EARLIER in place of the EXPUNGE responses.
func (ss *session) writeVanished(u *mailbox.Update) {
	ss.w.Raw("* VANISHED ")
	ss.w.SeqSet(imapwire.SeqSetOf(u.ExpungedUIDs))
	ss.w.CRLF()
}
