package imapserver

import (
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
)

// eachMatch evaluates a search program over the whole view, as SEARCH
// does, and calls fn for every matching message with its sequence number,
// its record and the evaluator positioned on it, so that fn can take the
// cached summary the evaluation may already have loaded. SORT and THREAD
// (RFC 5256 3: "first searches the mailbox") collect their messages with
// it.
func (ss *session) eachMatch(prog *searchKey, fn func(seq uint32, r *mailbox.Record, ev *searchEval) error) error {
	m := ss.mbox
	uids := m.UIDs()
	lastUID := uint32(0)
	if len(uids) > 0 {
		lastUID = uids[len(uids)-1]
	}
	prog.prepare(uint32(len(uids)), lastUID)
	ev := searchEval{ss: ss, m: m}
	defer ev.release()
	for i := range uids {
		seq := uint32(i + 1)
		r, err := m.Record(seq)
		if err != nil || r.Expunged() {
			// Expunged by another session and not yet reported: it is
			// still numbered, but there is nothing left to match.
			continue
		}
		ev.start(seq, &r)
		matched := ev.match(prog)
		ev.release()
		if !matched {
			continue
		}
		if err := fn(seq, &r, &ev); err != nil {
			return err
		}
	}
	return nil
}

// readSearchCriteria reads what SORT and THREAD share after their first
// argument (RFC 5256 5): SP charset 1*(SP search-key) and the end of the
// line. The charset is mandatory here, unlike SEARCH's CHARSET prefix;
// UTF-8 and US-ASCII are accepted, anything else is NO [BADCHARSET]. When
// ok is false, res is the answer and the line has been dealt with.
func (ss *session) readSearchCriteria() (prog *searchKey, res result, ok bool) {
	r := ss.r
	if err := r.SP(); err != nil {
		return nil, wireErr(err), false
	}
	cs, err := r.ReadAString()
	if err != nil {
		return nil, wireErr(err), false
	}
	if !strings.EqualFold(cs, "UTF-8") && !strings.EqualFold(cs, "US-ASCII") {
		r.SkipLine()
		// RFC 3501 6.4.4: NO [BADCHARSET] lists what is supported.
		return nil, no("BADCHARSET (UTF-8 US-ASCII)", "Unrecognized character set "+cs), false
	}
	p := searchParser{r: r}
	prog = &searchKey{op: sAnd}
	for {
		if err := r.SP(); err != nil {
			return nil, wireErr(err), false
		}
		k, err := p.key(false)
		if err != nil {
			return nil, wireErr(err), false
		}
		prog.kids = append(prog.kids, k)
		if !r.PeekSP() {
			break
		}
	}
	if err := r.ReadEOL(); err != nil {
		return nil, wireErr(err), false
	}
	if p.dollar {
		// RFC 5182 2.1: "$" may appear wherever a sequence set may,
		// SORT's and THREAD's criteria included.
		ss.substituteDollar(prog)
	}
	if p.modseq {
		ss.enableCondstore()
	}
	return prog, result{}, true
}
