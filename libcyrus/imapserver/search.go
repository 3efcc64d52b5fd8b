package imapserver

// SEARCH and UID SEARCH (RFC 3501 6.4.4, 6.4.8) with every RFC 3501 key and
// CONDSTORE's MODSEQ key (RFC 7162 3.1.5). The criteria are parsed into a
// tree (this file) and evaluated message by message (search_eval.go),
// cheapest tests first; results are written as they are found, so memory
// does not grow with the mailbox.

import (
	"errors"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/imapwire"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
)

// Bounds on one SEARCH program: the line limit already bounds its text;
// these bound the tree built from it and the recursion that builds it.
const (
	maxSearchKeys  = 10000
	maxSearchDepth = 100
)

type searchOp uint8

const (
	sAll        searchOp = iota
	sAnd                 // every kid
	sOr                  // kids[0] or kids[1]
	sNot                 // not kids[0]
	sSeq                 // sequence numbers in ranges
	sUID                 // UIDs in ranges
	sFlag                // system flag bit set
	sKeyword             // keyword str set
	sRecent              // \Recent in this session
	sLarger              // RFC822.SIZE > num
	sSmaller             // RFC822.SIZE < num
	sBefore              // internal date < day
	sOn                  // internal date = day
	sSince               // internal date >= day
	sSentBefore          // Date: header < day
	sSentOn              // Date: header = day
	sSentSince           // Date: header >= day
	sHeader              // field contains str
	sBody                // body text contains str
	sText                // header or body contains str
	sModseq              // modseq >= num
	sOlder               // internal date before day, here unix seconds (RFC 5032)
	sYounger             // internal date at or after day, unix seconds
)

// searchKey is one node of a search program.
type searchKey struct {
	op     searchOp
	flag   uint16
	str    []byte // folded needle (see foldAppend)
	field  string // sHeader
	day    int64  // days since 1970-01-01
	num    uint64
	set    imapwire.SeqSet
	ranges []imapwire.SeqRange // set resolved against the view
	kids   []*searchKey
}

// cost orders the kids of an AND: record tests before the cached header,
// the cached header before the message file.
func (k *searchKey) cost() int {
	switch k.op {
	case sHeader, sSentBefore, sSentOn, sSentSince:
		return 1
	case sBody, sText:
		return 2
	case sAnd, sOr, sNot:
		c := 0
		for _, kid := range k.kids {
			c = max(c, kid.cost())
		}
		return c
	}
	return 0
}

func cmdSearch(ss *session, tag string) result    { return ss.search(tag, false) }
func cmdUIDSearch(ss *session, tag string) result { return ss.search(tag, true) }

// errBadCharset is a CHARSET other than UTF-8 and US-ASCII.
type errBadCharset struct{ name string }

func (e *errBadCharset) Error() string { return "unsupported charset " + e.name }

func (ss *session) search(tag string, byUID bool) result {
	p := searchParser{r: ss.r, now: time.Now()}
	prog := &searchKey{op: sAnd}
	for first := true; ; first = false {
		if err := ss.r.SP(); err != nil {
			return wireErr(err)
		}
		k, err := p.key(first)
		if err != nil {
			var bc *errBadCharset
			if errors.As(err, &bc) {
				ss.r.SkipLine()
				if p.ret.save {
					// RFC 5182 2.1: a SAVE that fails with NO empties "$".
					ss.searchRes = nil
				}
				// RFC 3501 6.4.4: NO [BADCHARSET] lists what is supported.
				return no("BADCHARSET (UTF-8 US-ASCII)", "Unrecognized character set "+bc.name)
			}
			return wireErr(err)
		}
		prog.kids = append(prog.kids, k)
		if !ss.r.PeekSP() {
			break
		}
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	if p.dollar {
		ss.substituteDollar(prog)
	}
	if p.modseq {
		ss.enableCondstore()
	}
	if err := ss.runSearch(prog, byUID, p.modseq, tag, &p.ret); err != nil {
		return wireErr(err)
	}
	// RFC 3501 7.4.1: no EXPUNGE during SEARCH; UID SEARCH may have them,
	// but no VANISHED when its criteria hold message numbers (RFC 7162
	// 3.2.10.2).
	if err := ss.sendUpdates(byUID && !(p.seqNums && ss.qresync())); err != nil {
		return storeResult(err)
	}
	return ok("")
}

// searchParser reads search-keys (RFC 3501 9).
type searchParser struct {
	r       *imapwire.Reader
	keys    int
	depth   int
	modseq  bool // the MODSEQ key was used (RFC 7162 3.1.5)
	dollar  bool // "$" was used (RFC 5182)
	seqNums bool // a key names message sequence numbers
	ret     searchReturn
	now     time.Time // for OLDER and YOUNGER
}

func syntax(msg string) error { return &imapwire.SyntaxError{Msg: msg} }

// key reads one search-key; first allows the CHARSET prefix.
func (p *searchParser) key(first bool) (*searchKey, error) {
	p.keys++
	if p.keys > maxSearchKeys {
		return nil, syntax("Too many search criteria")
	}
	r := p.r
	c, err := r.Peek()
	if err != nil {
		return nil, err
	}
	switch {
	case c == '(':
		if p.depth++; p.depth > maxSearchDepth {
			return nil, syntax("Search criteria nested too deeply")
		}
		and := &searchKey{op: sAnd}
		err := r.ReadList(func(r *imapwire.Reader) error {
			for {
				k, err := p.key(false)
				if err != nil {
					return err
				}
				and.kids = append(and.kids, k)
				// A list element is a search-key; "(" search-key *(SP
				// search-key) ")" is read here, ReadList sees one.
				if c, _ := r.Peek(); c == ')' {
					return nil
				}
				if err := r.SP(); err != nil {
					return err
				}
			}
		})
		p.depth--
		if err != nil {
			return nil, err
		}
		if len(and.kids) == 0 {
			return nil, syntax("Missing search criteria")
		}
		return and, nil
	case c >= '0' && c <= '9' || c == '*' || c == '$':
		set, err := r.ReadSequenceSet()
		if err != nil {
			return nil, err
		}
		p.dollar = p.dollar || set.Dollar
		p.seqNums = true
		return &searchKey{op: sSeq, set: set}, nil
	}
	atom, err := r.ReadAtom()
	if err != nil {
		return nil, err
	}
	name := strings.ToUpper(atom)
	switch name {
	case "RETURN":
		// RFC 4731 3.1: RETURN options come first, before CHARSET.
		if !first || p.ret.given {
			return nil, syntax("Invalid Search criteria")
		}
		ret, err := spArg(p, func() (searchReturn, error) { return readSearchReturn(r) })
		if err != nil {
			return nil, err
		}
		p.ret = ret
		if err := r.SP(); err != nil {
			return nil, err
		}
		return p.key(true)
	case "CHARSET":
		if !first {
			return nil, syntax("Invalid Search criteria")
		}
		cs, err := spArg(p, r.ReadAString)
		if err != nil {
			return nil, err
		}
		switch strings.ToUpper(cs) {
		case "UTF-8", "US-ASCII":
		default:
			return nil, &errBadCharset{cs}
		}
		if err := r.SP(); err != nil {
			return nil, err
		}
		return p.key(false)
	case "ALL":
		return &searchKey{op: sAll}, nil
	case "ANSWERED", "DELETED", "DRAFT", "FLAGGED", "SEEN":
		return &searchKey{op: sFlag, flag: flagBit(name)}, nil
	case "UNANSWERED", "UNDELETED", "UNDRAFT", "UNFLAGGED", "UNSEEN":
		return not(&searchKey{op: sFlag, flag: flagBit(name[2:])}), nil
	case "RECENT":
		return &searchKey{op: sRecent}, nil
	case "OLD":
		return not(&searchKey{op: sRecent}), nil
	case "NEW":
		// RFC 3501 6.4.4: RECENT UNSEEN.
		return &searchKey{op: sAnd, kids: []*searchKey{
			{op: sRecent}, not(&searchKey{op: sFlag, flag: mailbox.FlagSeen}),
		}}, nil
	case "KEYWORD", "UNKEYWORD":
		f, err := spArg(p, r.ReadFlag)
		if err != nil {
			return nil, err
		}
		k := &searchKey{op: sKeyword, field: f}
		if bit := flagBit(strings.ToUpper(strings.TrimPrefix(f, `\`))); bit != 0 && strings.HasPrefix(f, `\`) {
			k = &searchKey{op: sFlag, flag: bit}
		}
		if name == "UNKEYWORD" {
			return not(k), nil
		}
		return k, nil
	case "BCC", "CC", "FROM", "SUBJECT", "TO":
		s, err := spArg(p, r.ReadAString)
		if err != nil {
			return nil, err
		}
		return &searchKey{op: sHeader, field: name, str: foldAppend(nil, []byte(s))}, nil
	case "HEADER":
		f, err := spArg(p, r.ReadAString)
		if err != nil {
			return nil, err
		}
		s, err := spArg(p, r.ReadAString)
		if err != nil {
			return nil, err
		}
		return &searchKey{op: sHeader, field: f, str: foldAppend(nil, []byte(s))}, nil
	case "BODY", "TEXT":
		s, err := spArg(p, r.ReadAString)
		if err != nil {
			return nil, err
		}
		op := sBody
		if name == "TEXT" {
			op = sText
		}
		return &searchKey{op: op, str: foldAppend(nil, []byte(s))}, nil
	case "BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE":
		d, err := spArg(p, r.ReadDate)
		if err != nil {
			return nil, err
		}
		return &searchKey{op: dateOp(name), day: dayOf(d)}, nil
	case "LARGER", "SMALLER":
		n, err := spArg(p, r.ReadNumber64)
		if err != nil {
			return nil, err
		}
		if name == "LARGER" {
			return &searchKey{op: sLarger, num: n}, nil
		}
		return &searchKey{op: sSmaller, num: n}, nil
	case "OLDER", "YOUNGER":
		// RFC 5032: an interval in seconds back from now.
		n, err := spArg(p, r.ReadNumber)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, syntax("Invalid Search criteria")
		}
		op := sOlder
		if name == "YOUNGER" {
			op = sYounger
		}
		return &searchKey{op: op, day: p.now.Unix() - int64(n)}, nil
	case "UID":
		set, err := spArg(p, r.ReadSequenceSet)
		if err != nil {
			return nil, err
		}
		p.dollar = p.dollar || set.Dollar
		return &searchKey{op: sUID, set: set}, nil
	case "NOT":
		if err := r.SP(); err != nil {
			return nil, err
		}
		if p.depth++; p.depth > maxSearchDepth {
			return nil, syntax("Search criteria nested too deeply")
		}
		k, err := p.key(false)
		p.depth--
		if err != nil {
			return nil, err
		}
		return not(k), nil
	case "OR":
		if p.depth++; p.depth > maxSearchDepth {
			return nil, syntax("Search criteria nested too deeply")
		}
		defer func() { p.depth-- }()
		or := &searchKey{op: sOr}
		for range 2 {
			if err := r.SP(); err != nil {
				return nil, err
			}
			k, err := p.key(false)
			if err != nil {
				return nil, err
			}
			or.kids = append(or.kids, k)
		}
		return or, nil
	case "MODSEQ":
		if err := r.SP(); err != nil {
			return nil, err
		}
		// RFC 7162 3.1.5: an optional entry name and type come first;
		// per-flag mod-sequences are not kept, so they only parse.
		if c, _ := r.Peek(); c == '"' {
			if _, err := r.ReadString(); err != nil {
				return nil, err
			}
			if _, err := spArg(p, r.ReadAtom); err != nil {
				return nil, err
			}
			if err := r.SP(); err != nil {
				return nil, err
			}
		}
		n, err := r.ReadNumber64()
		if err != nil {
			return nil, err
		}
		p.modseq = true
		return &searchKey{op: sModseq, num: n}, nil
	}
	if k, ok, err := p.extKey(name); ok {
		return k, err
	}
	return nil, syntax("Invalid Search criteria")
}

// spArg reads SP and one argument.
func spArg[T any](p *searchParser, read func() (T, error)) (T, error) {
	if err := p.r.SP(); err != nil {
		var zero T
		return zero, err
	}
	return read()
}

func not(k *searchKey) *searchKey { return &searchKey{op: sNot, kids: []*searchKey{k}} }

// flagBit is the record bit of a system flag named without its
// backslash, in upper case; 0 if it is none.
func flagBit(name string) uint16 {
	switch name {
	case "ANSWERED":
		return mailbox.FlagAnswered
	case "DELETED":
		return mailbox.FlagDeleted
	case "DRAFT":
		return mailbox.FlagDraft
	case "FLAGGED":
		return mailbox.FlagFlagged
	case "SEEN":
		return mailbox.FlagSeen
	}
	return 0
}

func dateOp(name string) searchOp {
	switch name {
	case "BEFORE":
		return sBefore
	case "ON":
		return sOn
	case "SINCE":
		return sSince
	case "SENTBEFORE":
		return sSentBefore
	case "SENTON":
		return sSentOn
	}
	return sSentSince
}

// dayOf is the calendar day of t in its own zone, as days since the
// epoch: RFC 3501 6.4.4 compares dates "disregarding time and timezone".
func dayOf(t time.Time) int64 {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}
