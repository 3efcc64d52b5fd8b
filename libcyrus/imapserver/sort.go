package imapserver

// SORT and UID SORT (RFC 5256 3) with the sort keys of RFC 5256 and
// DISPLAYFROM/DISPLAYTO (RFC 5957). The messages are chosen by the SEARCH
// criteria parser and evaluator (search.go, search_eval.go); the keys come
// from the cached summary (cyrusgo.cache), never from the message files;
// the order is package msgsort's.
//
// The command is parsed into a sortCmd, the ordered hits are computed,
// and writeSort answers, or with ESORT (RFC 5267 3: SORT RETURN (...))
// the ESEARCH writer with the hits in sort order.

import (
	"fmt"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/imapwire"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/msgsort"
)

// maxSortCriteria bounds a sort program; there are nine keys, each can be
// REVERSEd, so anything longer only repeats itself.
const maxSortCriteria = 64

func cmdSort(ss *session, tag string) result    { return ss.sort(tag, false) }
func cmdUIDSort(ss *session, tag string) result { return ss.sort(tag, true) }

// sortCmd is a parsed SORT command.
type sortCmd struct {
	byUID bool
	ret   searchReturn // RETURN options (ESORT); ret.given when present
	crit  []msgsort.Criterion
	prog  *searchKey
}

// sortHit is one message of the answer.
type sortHit struct {
	seq, uid uint32
}

func (ss *session) sort(tag string, byUID bool) result {
	start := time.Now()
	cmd := sortCmd{byUID: byUID}
	if err := ss.r.SP(); err != nil {
		return wireErr(err)
	}
	ret, err := readSortReturn(ss.r)
	if err != nil {
		return wireErr(err)
	}
	cmd.ret = ret
	crit, err := readSortCriteria(ss.r)
	if err != nil {
		return wireErr(err)
	}
	cmd.crit = crit
	prog, res, ok := ss.readSearchCriteria()
	if !ok {
		if cmd.ret.save && res.status == "NO" {
			// RFC 5182 2.1: a SAVE that fails with NO empties "$".
			ss.searchRes = nil
		}
		return res
	}
	cmd.prog = prog
	hits, err := ss.sortHits(&cmd)
	if err != nil {
		return wireErr(err)
	}
	if cmd.ret.given {
		ss.writeESort(tag, &cmd, hits)
	} else {
		ss.writeSort(&cmd, hits)
	}
	if err := ss.w.Err(); err != nil {
		return wireErr(err)
	}
	// RFC 5256 3: no EXPUNGE during SORT; UID SORT may have them.
	if err := ss.sendUpdates(byUID); err != nil {
		return storeResult(err)
	}
	return completed(len(hits), start)
}

// completed is the tagged OK of SORT and THREAD, with Cyrus's count and timing.
func completed(n int, start time.Time) result {
	return ok(fmt.Sprintf("Completed (%d msgs in %.3f secs)", n, time.Since(start).Seconds()))
}

// readSortReturn reads the optional sort-return-opts (RFC 5267 5):
// "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")" SP,
// before the sort criteria. Without it, given is false.
func readSortReturn(r *imapwire.Reader) (searchReturn, error) {
	if c, err := r.Peek(); err != nil || (c != 'R' && c != 'r') {
		return searchReturn{}, err
	}
	name, err := r.ReadAtom()
	if err != nil {
		return searchReturn{}, err
	}
	if !strings.EqualFold(name, "RETURN") {
		return searchReturn{}, syntax("Missing Sort criteria")
	}
	if err := r.SP(); err != nil {
		return searchReturn{}, err
	}
	ret, err := readSearchReturn(r)
	if err != nil {
		return searchReturn{}, err
	}
	return ret, r.SP()
}

// readSortCriteria reads sort-criteria (RFC 5256 5; RFC 5957 5):
// "(" sort-criterion *(SP sort-criterion) ")", with Cyrus's answers to
// what is wrong.
func readSortCriteria(r *imapwire.Reader) ([]msgsort.Criterion, error) {
	if c, err := r.Peek(); err != nil {
		return nil, err
	} else if c != '(' {
		return nil, syntax("Missing Sort criteria")
	}
	var crit []msgsort.Criterion
	reverse := false
	err := r.ReadList(func(r *imapwire.Reader) error {
		name, err := r.ReadAtom()
		if err != nil {
			return err
		}
		if strings.EqualFold(name, "REVERSE") {
			reverse = true
			return nil
		}
		k, ok := msgsort.ParseKey(name)
		if !ok {
			return syntax("Invalid Sort criterion " + strings.ToLower(name))
		}
		if len(crit) >= maxSortCriteria {
			return syntax("Too many Sort criteria")
		}
		crit = append(crit, msgsort.Criterion{Key: k, Reverse: reverse})
		reverse = false
		return nil
	})
	if err != nil {
		return nil, err
	}
	if reverse {
		return nil, syntax("Missing Sort criterion to reverse")
	}
	if len(crit) == 0 {
		return nil, syntax("Missing Sort criteria")
	}
	return crit, nil
}

// sortHits returns the matching messages in sort order. Only the keys
// the program names are looked up, and the summary is read only when one
// of them needs it (ARRIVAL and SIZE are in the index record).
func (ss *session) sortHits(cmd *sortCmd) ([]sortHit, error) {
	needSummary := false
	for _, c := range cmd.crit {
		if c.Key != msgsort.Arrival && c.Key != msgsort.Size {
			needSummary = true
		}
	}
	var msgs []msgsort.Msg
	uidOf := make([]uint32, len(ss.mbox.UIDs())+1) // by sequence number
	err := ss.eachMatch(cmd.prog, func(seq uint32, r *mailbox.Record, ev *searchEval) error {
		m := msgsort.Msg{Seq: seq, Arrival: r.InternalDate, Sent: r.InternalDate.UTC(), Size: int64(r.Size)}
		if needSummary {
			if sum := ev.summary(); sum != nil {
				m.Sent = msgsort.SentDate(sum.Date, r.InternalDate)
				m.Subject = sum.BaseSubject
				m.From = msgsort.Addr(sum.From)
				m.To = msgsort.Addr(sum.To)
				m.Cc = msgsort.Addr(sum.Cc)
			}
		}
		msgs = append(msgs, m)
		if int(seq) < len(uidOf) {
			uidOf[seq] = r.UID
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	msgsort.Sort(msgs, cmd.crit)
	hits := make([]sortHit, len(msgs))
	for i, m := range msgs {
		hits[i] = sortHit{seq: m.Seq, uid: uidOf[m.Seq]}
	}
	return hits, nil
}

// writeSort writes the untagged SORT response (RFC 5256 4): sequence
// numbers, or UIDs for UID SORT, in order.
func (ss *session) writeSort(cmd *sortCmd, hits []sortHit) {
	w := ss.w
	w.Raw("* SORT")
	for _, h := range hits {
		w.SP()
		if cmd.byUID {
			w.Number(h.uid)
		} else {
			w.Number(h.seq)
		}
	}
	w.CRLF()
}

// writeESort answers SORT RETURN (RFC 5267 3.1) with one ESEARCH
// response: MIN and MAX are the first and last message in sort order,
// ALL is the sort order as a set of ascending runs (3.2). SAVE keeps the
// UIDs for "$" (RFC 5182), MIN/MAX alone keeping just those messages.
func (ss *session) writeESort(tag string, cmd *sortCmd, hits []sortHit) {
	nums := make([]uint32, len(hits))
	uids := make([]uint32, len(hits))
	for i, h := range hits {
		uids[i] = h.uid
		if cmd.byUID {
			nums[i] = h.uid
		} else {
			nums[i] = h.seq
		}
	}
	if cmd.ret.answers() {
		ss.writeESearch(tag, cmd.byUID, &cmd.ret, nums, nil)
	}
	if cmd.ret.save {
		ss.searchRes = cmd.ret.saved(uids)
	}
}
