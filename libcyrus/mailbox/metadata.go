package mailbox

// Server and mailbox annotations (RFC 5464 METADATA) with Cyrus 3.6's
// rules: which entries exist, who may read and write them, and the values
// the server computes. The values live in the annotations database
// (package annotate), keyed by the mailbox's unique id.
//
// Access, as Cyrus's annotate.c decides it: admins may do anything.
// Server values can be read by everyone; private ones written by their
// user, shared ones only by admins. On a mailbox, reading needs l and r;
// writing a private value needs l, a shared one l, r and w (and a for
// the entries Cyrus reserves to administrators).
//
// Entries: Cyrus's defined ones (/comment, /check, /checkperiod, /sort,
// /thread, /private/specialuse on mailboxes; /comment and /shared/admin
// on the server) and, with annotation_allow_undefined, any other name
// outside /vendor/cmu/cyrus-imapd/. The read-only
// /shared/vendor/cmu/cyrus-imapd/{uniqueid,partition,size} are computed.
//
// Limits (RFC 5464 4.3; Cyrus has no option for them): a value is at
// most MetadataMaxSize octets, and one owner (the shared values of a
// mailbox or the server, or one user's private values there) holds at
// most MetadataMaxEntries entries.

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/annotate"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/mboxname"
)

// Limits of annotations.
const (
	// MetadataMaxSize is the largest value accepted (RFC 5464 asks for at
	// least 1024); 64 KiB is what Cyrus announces for message
	// annotations ([ANNOTATIONS 65536]).
	MetadataMaxSize = 64 << 10
	// MetadataMaxEntries bounds the entries of one owner in one scope
	// (RFC 5464 asks for at least 10).
	MetadataMaxEntries = 256
	// MetadataMaxEntryName bounds an entry name.
	MetadataMaxEntryName = 1024
)

// cmuPrefix is Cyrus's vendor tree, which clients may not invent
// entries in.
const cmuPrefix = "/vendor/cmu/cyrus-imapd/"

// Entry names of the values the store computes.
const (
	metaUniqueID   = cmuPrefix + "uniqueid"
	metaPartition  = cmuPrefix + "partition"
	metaSize       = cmuPrefix + "size"
	metaSpecialUse = "/specialuse"
)

// metaType is how a value is checked and canonicalised.
type metaType int

const (
	metaString metaType = iota
	metaBool
	metaUint
)

// metaDef describes a defined entry (Cyrus's annotate_entrydesc_t).
type metaDef struct {
	shared, private bool
	typ             metaType
	readOnly        bool
	adminRight      bool // shared writes also need the a right
}

var mailboxMetaDefs = map[string]metaDef{
	"/comment":     {shared: true, private: true},
	"/check":       {shared: true, private: true, typ: metaBool},
	"/checkperiod": {shared: true, private: true, typ: metaUint},
	"/sort":        {shared: true, private: true},
	"/thread":      {shared: true, private: true},
	metaSpecialUse: {private: true},
	metaUniqueID:   {shared: true, readOnly: true},
	metaPartition:  {shared: true, readOnly: true},
	metaSize:       {shared: true, readOnly: true},
}

var serverMetaDefs = map[string]metaDef{
	"/comment": {shared: true, private: true, adminRight: true},
	"/admin":   {shared: true, adminRight: true},
}

// MetadataError is a refusal that IMAP answers with a METADATA response
// code (RFC 5464 4.3) or Cyrus's text.
type MetadataError struct {
	Code string // "MAXSIZE", "TOOMANY" or "" (no code)
	Max  int    // for MAXSIZE
	Msg  string
}

func (e *MetadataError) Error() string { return e.Msg }

// Cyrus 3.6's answers to refused values.
var (
	ErrMetaBadValue = &MetadataError{Msg: "Invalid annotation value"}
	ErrMetaBadEntry = &MetadataError{Msg: "Invalid annotation entry"}
	ErrMetaUseClash = &MetadataError{Msg: "SPECIAL-USE flag conflict"}
	ErrMetaTooMany  = &MetadataError{Code: "TOOMANY", Msg: "Too many annotations"}
	ErrMetaTooBig   = &MetadataError{Code: "MAXSIZE", Max: MetadataMaxSize, Msg: "Annotation value too large"}
)

// MetaValue is one entry of an answer; Value nil is NIL (no value).
type MetaValue struct {
	Entry string // full name: /shared/comment
	Value []byte
}

// MetaChange is one entry of a SETMETADATA; Value nil removes it, and so
// does an empty value, as in Cyrus.
type MetaChange struct {
	Entry string
	Value []byte
}

// SplitMetaEntry splits a full entry name into its scope and the name
// within it ("/shared/comment" gives shared and "/comment"). ok is false
// for a name that does not begin with /shared or /private. Names are
// case-insensitive (RFC 5464 3.2) and returned lower-cased.
func SplitMetaEntry(full string) (shared bool, name string, ok bool) {
	full = strings.ToLower(full)
	switch {
	case full == "/shared" || strings.HasPrefix(full, "/shared/"):
		return true, full[len("/shared"):], true
	case full == "/private" || strings.HasPrefix(full, "/private/"):
		return false, full[len("/private"):], true
	}
	return false, "", false
}

func fullMetaName(shared bool, name string) string {
	if shared {
		return "/shared" + name
	}
	return "/private" + name
}

// metaScope is the mailbox (or the server) a command works on, with the
// caller's rights there.
type metaScope struct {
	entry  *Entry // nil for the server
	rights acl.Rights
	id     acl.Identity
}

func (sc *metaScope) key() string {
	if sc.entry == nil {
		return annotate.Server
	}
	return sc.entry.UniqueID
}

// openMetaScope finds the mailbox ("" for the server) and checks it is
// visible to id.
func (s *Store) openMetaScope(id acl.Identity, name string) (*metaScope, error) {
	if name == "" {
		return &metaScope{id: id}, nil
	}
	e, r, err := s.Info(id, name)
	if err != nil {
		return nil, err
	}
	return &metaScope{entry: e, rights: r, id: id}, nil
}

// mayRead reports whether the caller may see a scope's values.
func (sc *metaScope) mayRead() bool {
	if sc.id.Admin || sc.entry == nil {
		return true
	}
	return sc.rights&(acl.Lookup|acl.Read) == acl.Lookup|acl.Read
}

// mayWrite is Cyrus's _annotate_may_store.
func (sc *metaScope) mayWrite(shared bool, def metaDef) bool {
	if sc.id.Admin {
		return true
	}
	if sc.entry == nil {
		return !shared
	}
	need := acl.Lookup
	if shared {
		need |= acl.Read | acl.Write
		if def.adminRight {
			need |= acl.Admin
		}
	}
	return sc.rights&need == need
}

func (sc *metaScope) defs() map[string]metaDef {
	if sc.entry == nil {
		return serverMetaDefs
	}
	return mailboxMetaDefs
}

// owner is whose values a scope half holds: "" for shared ones.
func (sc *metaScope) owner(shared bool) string {
	if shared {
		return ""
	}
	return sc.id.UserID
}

// GetMetadata answers GETMETADATA on one mailbox ("" for the server).
// Each entry is a full name, or a pattern with "*" (anything) and "%"
// (anything but "/"), as Cyrus accepts and cyradm's info sends; depth is
// 0, 1 or -1 for infinity (RFC 5464 4.2.2). A named entry without a value
// answers NIL; patterns and depth add only what has a value. A caller
// who may see the mailbox but not read it gets no values at all.
func (s *Store) GetMetadata(id acl.Identity, mailbox string, entries []string, depth int) ([]MetaValue, error) {
	sc, err := s.openMetaScope(id, mailbox)
	if err != nil {
		return nil, err
	}
	if !sc.mayRead() {
		return nil, nil
	}
	var out []MetaValue
	seen := map[string]bool{}
	add := func(full string, v []byte) {
		if !seen[full] {
			seen[full] = true
			out = append(out, MetaValue{Entry: full, Value: v})
		}
	}
	for _, full := range entries {
		shared, name, ok := SplitMetaEntry(full)
		if !ok {
			return nil, ErrMetaBadEntry
		}
		owner := sc.owner(shared)
		if !shared && owner == "" {
			continue
		}
		if strings.ContainsAny(name, "*%") {
			err = s.metaMatches(sc, shared, name, func(n string, v []byte) { add(fullMetaName(shared, n), v) })
		} else {
			var v []byte
			if v, err = s.metaValue(sc, shared, name); err == nil {
				add(fullMetaName(shared, name), v)
				if depth != 0 {
					err = s.metaBelow(sc, shared, name, depth, func(n string, v []byte) { add(fullMetaName(shared, n), v) })
				}
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// metaValue returns one value (nil when it has none).
func (s *Store) metaValue(sc *metaScope, shared bool, name string) ([]byte, error) {
	if v, ok := s.computedMeta(sc, shared, name); ok {
		return v, nil
	}
	v, ok, err := s.annot.Get(sc.key(), sc.owner(shared), name)
	if err != nil || !ok {
		return nil, err
	}
	return v, nil
}

// computedMetaNames lists the entries the store computes in a scope half.
func computedMetaNames(sc *metaScope, shared bool) []string {
	switch {
	case sc.entry == nil:
		return nil
	case shared:
		return []string{metaPartition, metaSize, metaUniqueID}
	}
	return []string{metaSpecialUse}
}

// computedMeta is the value of a computed entry; ok is false for an
// entry that is not one. A computed entry with no value gives ok and
// nil.
func (s *Store) computedMeta(sc *metaScope, shared bool, name string) ([]byte, bool) {
	if sc.entry == nil {
		return nil, false
	}
	e := sc.entry
	switch {
	case shared && name == metaUniqueID:
		return []byte(e.UniqueID), true
	case shared && name == metaPartition:
		return []byte(e.Partition), true
	case shared && name == metaSize:
		// The caller may read the scope (mayRead); the size is the
		// store's to give, whoever asks.
		m, err := s.open(acl.Identity{Admin: true}, e, acl.Read, OpenOptions{ReadOnly: true})
		if err != nil {
			return nil, true
		}
		defer m.Close()
		return []byte(strconv.FormatUint(m.Status().Size, 10)), true
	case !shared && name == metaSpecialUse:
		// The mailbox's special use, which LIST shows (RFC 6154 4).
		if e.SpecialUse == "" {
			return nil, true
		}
		return []byte(e.SpecialUse), true
	}
	return nil, false
}

// metaBelow adds the values under name down to depth (1 or -1).
func (s *Store) metaBelow(sc *metaScope, shared bool, name string, depth int, fn func(string, []byte)) error {
	prefix := name + "/"
	within := func(n string) bool {
		return strings.HasPrefix(n, prefix) && (depth < 0 || !strings.Contains(n[len(prefix):], "/"))
	}
	return s.metaCandidates(sc, shared, prefix, within, fn)
}

// metaMatches adds the values whose names match a pattern.
func (s *Store) metaMatches(sc *metaScope, shared bool, pattern string, fn func(string, []byte)) error {
	lit := pattern[:strings.IndexAny(pattern, "*%")]
	return s.metaCandidates(sc, shared, lit, func(n string) bool { return metaGlob(pattern, n) }, fn)
}

// metaCandidates calls fn, in name order, for the computed and stored
// values under prefix that keep accepts.
func (s *Store) metaCandidates(sc *metaScope, shared bool, prefix string, keep func(string) bool, fn func(string, []byte)) error {
	var found []MetaValue
	for _, n := range computedMetaNames(sc, shared) {
		if keep(n) {
			if v, _ := s.computedMeta(sc, shared, n); v != nil {
				found = append(found, MetaValue{Entry: n, Value: v})
			}
		}
	}
	err := s.annot.Scan(sc.key(), sc.owner(shared), prefix, func(n string, v []byte) error {
		if keep(n) {
			found = append(found, MetaValue{Entry: n, Value: append([]byte(nil), v...)})
		}
		return nil
	})
	sort.SliceStable(found, func(i, j int) bool { return found[i].Entry < found[j].Entry })
	for _, f := range found {
		fn(f.Entry, f.Value)
	}
	return err
}

// metaGlob matches name against a pattern where "*" matches anything and
// "%" anything but "/", in time linear in their product.
func metaGlob(pattern, name string) bool {
	// cur[j]: pattern[:i] matches name[:j].
	cur := make([]bool, len(name)+1)
	next := make([]bool, len(name)+1)
	cur[0] = true
	for i := 0; i < len(pattern); i++ {
		p := pattern[i]
		for j := range next {
			next[j] = false
		}
		if p == '*' || p == '%' {
			for j := 0; j <= len(name); j++ {
				if cur[j] {
					next[j] = true
				} else if j > 0 && next[j-1] && (p == '*' || name[j-1] != '/') {
					next[j] = true
				}
			}
		} else {
			for j := 1; j <= len(name); j++ {
				next[j] = cur[j-1] && name[j-1] == p
			}
		}
		cur, next = next, cur
	}
	return cur[len(name)]
}

// SetMetadata answers SETMETADATA on one mailbox ("" for the server):
// every change is checked first, then all are written at once, or none
// (RFC 5464 4.3). A /private/specialuse value is checked as CREATE
// (USE) checks it and changes the mailbox's special use.
func (s *Store) SetMetadata(id acl.Identity, mailbox string, changes []MetaChange) error {
	sc, err := s.openMetaScope(id, mailbox)
	if err != nil {
		return err
	}
	var batch []annotate.Change
	useChange := false
	var use string
	delta := map[string]int{} // new entries per owner
	for _, c := range changes {
		shared, name, ok := SplitMetaEntry(c.Entry)
		if !ok || name == "" || len(c.Entry) > MetadataMaxEntryName {
			return ErrMetaBadEntry
		}
		def, defined := sc.defs()[name]
		switch {
		case !defined:
			if !s.cfg.Bool(config.AnnotationAllowUndefined) || strings.HasPrefix(name+"/", cmuPrefix) {
				return ErrNoPerm
			}
			def = metaDef{shared: true, private: true}
		case def.readOnly, shared && !def.shared, !shared && !def.private:
			return ErrNoPerm
		}
		owner := sc.owner(shared)
		if !shared && owner == "" {
			return ErrNoPerm
		}
		if !sc.mayWrite(shared, def) {
			return ErrNoPerm
		}
		v := c.Value
		if len(v) == 0 {
			v = nil
		}
		if len(v) > MetadataMaxSize {
			return ErrMetaTooBig
		}
		if v != nil {
			if v, err = canonMetaValue(def.typ, v); err != nil {
				return err
			}
		}
		if sc.entry != nil && name == metaSpecialUse {
			// Checked now, written after the other values: it lives in
			// the mailbox list.
			if o, _ := mboxname.Owner(sc.entry.Name); o != id.UserID && !id.Admin {
				return ErrNoPerm
			}
			if use, err = s.checkSpecialUse(sc, string(v)); err != nil {
				return err
			}
			useChange = true
			continue
		}
		_, had, err := s.annot.Get(sc.key(), owner, name)
		if err != nil {
			return err
		}
		switch {
		case had && v == nil:
			delta[owner]--
		case !had && v != nil:
			delta[owner]++
		}
		batch = append(batch, annotate.Change{Mailbox: sc.key(), UserID: owner, Entry: name, Value: v})
	}
	for owner, d := range delta {
		if d <= 0 {
			continue
		}
		n, err := s.annot.Count(sc.key(), owner)
		if err != nil {
			return err
		}
		if n+d > MetadataMaxEntries {
			return ErrMetaTooMany
		}
	}
	if err := s.annot.Apply(batch); err != nil {
		return err
	}
	if useChange {
		return s.SetSpecialUse(id, sc.entry.Name, use)
	}
	return nil
}

// canonMetaValue checks a value against its entry's type, as Cyrus's
// annotate_canon_value does.
func canonMetaValue(typ metaType, v []byte) ([]byte, error) {
	switch typ {
	case metaBool:
		switch strings.ToLower(string(v)) {
		case "true":
			return []byte("true"), nil
		case "false":
			return []byte("false"), nil
		}
		return nil, ErrMetaBadValue
	case metaUint:
		if _, err := strconv.ParseUint(string(v), 10, 64); err != nil {
			return nil, ErrMetaBadValue
		}
	}
	return v, nil
}

// checkSpecialUse validates a /private/specialuse value as Cyrus's
// specialuse_validate does: each attribute one a client may set (with
// or without its backslash, any case), not carried by another mailbox
// of the owner. It returns the canonical value.
func (s *Store) checkSpecialUse(sc *metaScope, value string) (string, error) {
	var uses []string
	for _, f := range strings.Fields(value) {
		c, ok := s.canonicalSpecialUse(f)
		if !ok {
			return "", ErrMetaBadEntry
		}
		uses = append(uses, c)
	}
	owner, isUser := mboxname.Owner(sc.entry.Name)
	if isUser && len(uses) > 0 {
		clash, err := s.specialUseTaken(owner, sc.entry.Name, uses)
		if err != nil {
			return "", err
		}
		if clash {
			return "", ErrMetaUseClash
		}
	}
	return strings.Join(uses, " "), nil
}

// canonicalSpecialUse is CanonicalSpecialUse with specialuse_extra; the
// METADATA form also takes the attribute without its backslash, as Cyrus
// does.
func (s *Store) canonicalSpecialUse(flag string) (string, bool) {
	extra := s.cfg.List(config.SpecialUseExtra)
	if u, ok := CanonicalSpecialUse(flag, extra); ok {
		return u, true
	}
	return CanonicalSpecialUse(`\`+flag, extra)
}

// specialUseTaken reports whether a mailbox of owner other than except
// carries one of uses: Cyrus keeps each on one mailbox per user.
func (s *Store) specialUseTaken(owner, except string, uses []string) (bool, error) {
	inbox := mboxname.UserInbox(owner)
	found := false
	errFound := errors.New("found")
	err := s.List(acl.Identity{Admin: true}, inbox, func(e *Entry, _ acl.Rights) error {
		if e.Name != inbox && !strings.HasPrefix(e.Name, inbox+".") || e.Name == except {
			return nil
		}
		for _, have := range strings.Fields(e.SpecialUse) {
			for _, want := range uses {
				if strings.EqualFold(have, want) {
					found = true
					return errFound
				}
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFound) {
		return false, fmt.Errorf("special-use check for %s: %w", owner, err)
	}
	return found, nil
}

// ReadMetadata returns one entry ("/shared/..." or "/private/...") of a
// mailbox, or of the server when mailbox is "", as id may read it: what
// Sieve's mboxmetadata and servermetadata tests (RFC 5490) ask. ok is
// false when the entry has no value or id may not read it.
func (s *Store) ReadMetadata(id acl.Identity, mailbox, entry string) (value string, ok bool, err error) {
	if strings.ContainsAny(entry, "*%") {
		return "", false, ErrMetaBadEntry
	}
	vals, err := s.GetMetadata(id, mailbox, []string{entry}, 0)
	if err != nil {
		return "", false, err
	}
	for _, v := range vals {
		if v.Value != nil {
			return string(v.Value), true, nil
		}
	}
	return "", false, nil
}
