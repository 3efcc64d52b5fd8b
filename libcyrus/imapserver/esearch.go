package imapserver

// ESEARCH (RFC 4731): the RETURN options of SEARCH and the ESEARCH
// response, with SEARCHRES's SAVE (RFC 5182 2.4) and CONDSTORE's MODSEQ
// (RFC 4731 3.2). The reader and writer take the result in answer order,
// so SORT RETURN (ESORT, RFC 5267) can use them as they are.

import (
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/imapwire"
)

// searchReturn holds the RETURN options of one command.
type searchReturn struct {
	given                      bool // RETURN was present: answer with ESEARCH
	min, max, all, count, save bool
}

// readSearchReturn reads "(" [search-return-opt *(SP search-return-opt)]
// ")" (RFC 4466 2.6); "()" means ALL (RFC 4731 3.1).
func readSearchReturn(r *imapwire.Reader) (searchReturn, error) {
	o := searchReturn{given: true}
	n := 0
	err := r.ReadList(func(r *imapwire.Reader) error {
		name, err := r.ReadAtom()
		if err != nil {
			return err
		}
		n++
		switch strings.ToUpper(name) {
		case "MIN":
			o.min = true
		case "MAX":
			o.max = true
		case "ALL":
			o.all = true
		case "COUNT":
			o.count = true
		case "SAVE":
			o.save = true
		default:
			return syntax("Invalid Search return option " + name)
		}
		return nil
	})
	if n == 0 {
		o.all = true
	}
	return o, err
}

// answers reports whether an ESEARCH response is due: with SAVE alone
// there is none (RFC 5182 2.2, example 1).
func (o *searchReturn) answers() bool { return o.min || o.max || o.all || o.count }

// saved picks what "$" keeps of a result (RFC 5182 2.4): just the MIN
// and/or MAX message when those are the only other options, else all.
func (o *searchReturn) saved(uids []uint32) []uint32 {
	if o.all || o.count || !(o.min || o.max) || len(uids) == 0 {
		return uids
	}
	var out []uint32
	if o.min {
		out = append(out, uids[0])
	}
	if o.max && (!o.min || len(uids) > 1) {
		out = append(out, uids[len(uids)-1])
	}
	return out
}

// writeESearch writes `* ESEARCH (TAG "tag") [UID] [MIN n] [MAX n] [ALL
// set] [COUNT n] [MODSEQ n]` for nums, the matches in answer order.
// modseqs, when not nil, holds each match's mod-sequence: the MODSEQ item
// is the highest of the messages the other items return (RFC 4731 3.2).
// MIN, MAX and ALL are left out when nothing matched (RFC 4731 3.1).
func (ss *session) writeESearch(tag string, byUID bool, o *searchReturn, nums []uint32, modseqs []uint64) {
	w := ss.w
	w.Raw("* ESEARCH (TAG ")
	w.Quoted(tag)
	w.Byte(')')
	if byUID {
		w.Raw(" UID")
	}
	n := len(nums)
	var highest uint64
	pick := func(i int) {
		if modseqs != nil {
			highest = max(highest, modseqs[i])
		}
	}
	if o.min && n > 0 {
		w.Raw(" MIN ")
		w.Number(nums[0])
		pick(0)
	}
	if o.max && n > 0 {
		w.Raw(" MAX ")
		w.Number(nums[n-1])
		pick(n - 1)
	}
	if o.all && n > 0 {
		w.Raw(" ALL ")
		w.SeqSet(runSet(nums))
	}
	if o.count {
		w.Raw(" COUNT ")
		w.Number(uint32(n))
	}
	if o.all || o.count {
		for i := range modseqs {
			pick(i)
		}
	}
	if highest > 0 {
		w.Raw(" MODSEQ ")
		w.Number64(highest)
	}
	w.CRLF()
}

// runSet is nums as a sequence-set in their own order: each run of
// consecutive ascending numbers becomes one range (never a descending
// one, RFC 5267 3.2). For ascending nums it is the shortest set; for a
// SORT result it keeps the sort order.
func runSet(nums []uint32) imapwire.SeqSet {
	var s imapwire.SeqSet
	for _, n := range nums {
		if k := len(s.Ranges) - 1; k >= 0 && uint64(s.Ranges[k].Stop)+1 == uint64(n) {
			s.Ranges[k].Stop = n
			continue
		}
		s.Ranges = append(s.Ranges, imapwire.SeqRange{Start: n, Stop: n})
	}
	return s
}
