package imapserver

// SEARCH keys of the extensions beside RFC 3501 and CONDSTORE: EMAILID
// and THREADID (RFC 8474 6), SAVEDBEFORE, SAVEDON, SAVEDSINCE and
// SAVEDATESUPPORTED (RFC 8514 4.2). All are tests of the index record.

const (
	sEmailID           searchOp = 100 + iota // EMAILID = str
	sThreadID                                // THREADID = str: never, no threads are kept
	sSavedBefore                             // save date < day
	sSavedOn                                 // save date = day
	sSavedSince                              // save date >= day
	sSaveDateSupported                       // the mailbox keeps save dates: always
)

// extKey reads the arguments of an extension key whose name (upper
// case) was read; ok is false for a name that is none of them.
func (p *searchParser) extKey(name string) (k *searchKey, ok bool, err error) {
	r := p.r
	switch name {
	case "EMAILID", "THREADID":
		id, err := spArg(p, r.ReadAString)
		if err != nil {
			return nil, true, err
		}
		if !validObjectID(id) {
			// RFC 8474 4: objectid = 1*255(ALPHA / DIGIT / "_" / "-").
			return nil, true, syntax("Invalid Search criteria")
		}
		op := sEmailID
		if name == "THREADID" {
			op = sThreadID
		}
		return &searchKey{op: op, field: id}, true, nil
	case "SAVEDBEFORE", "SAVEDON", "SAVEDSINCE":
		d, err := spArg(p, r.ReadDate)
		if err != nil {
			return nil, true, err
		}
		op := map[string]searchOp{"SAVEDBEFORE": sSavedBefore, "SAVEDON": sSavedOn, "SAVEDSINCE": sSavedSince}[name]
		return &searchKey{op: op, day: dayOf(d)}, true, nil
	case "SAVEDATESUPPORTED":
		return &searchKey{op: sSaveDateSupported}, true, nil
	}
	return nil, false, nil
}

// validObjectID is RFC 8474 4's objectid.
func validObjectID(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// matchExt evaluates an extension key on the current message.
func (e *searchEval) matchExt(k *searchKey) bool {
	r := e.r
	switch k.op {
	case sEmailID:
		// Object ids are case-sensitive (RFC 8474 4).
		return emailID(r) == k.field
	case sThreadID:
		return false
	case sSavedBefore:
		return dayOf(saveDate(r)) < k.day
	case sSavedOn:
		return dayOf(saveDate(r)) == k.day
	case sSavedSince:
		return dayOf(saveDate(r)) >= k.day
	case sSaveDateSupported:
		return true
	}
	return false
}
