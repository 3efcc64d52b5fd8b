package imapserver

// The matching side of LIST and LSUB: patterns with the "*" and "%"
// wildcards (RFC 3501 6.3.8), the visible mailboxes of one store scan,
// children (RFC 3348), and the names that do not exist but must be shown
// because a pattern with "%" stops above mailboxes that do (\Noselect,
// RFC 3501 6.3.8; \NonExistent, RFC 5258 3.4).

import (
	"regexp"
	"sort"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/mboxname"
)

// listNode is one name a LIST may answer.
type listNode struct {
	ext      string // wire form (modified UTF-7)
	internal string
	key      string // sort key, see listKey
	class    int    // 0 personal, 1 other users, 2 shared: Cyrus's order
	entry    *mailbox.Entry
	rights   acl.Rights

	subscribed bool
	childInfo  bool // RECURSIVEMATCH: a subscribed descendant
	lsubParent bool // LSUB: shown only as the parent of subscriptions
}

// listing is the state of one LIST: the patterns and the visible
// mailboxes under their common prefix, sorted by key.
type listing struct {
	ss       *session
	sep      byte
	patterns []*regexp.Regexp
	visible  []*listNode
	byExt    map[string]*listNode
	extKeys  []string // the external names of visible, as hierarchy keys, sorted
}

// newListing compiles the patterns and scans the mailbox list once.
func (ss *session) newListing(pats []string) (*listing, error) {
	l := &listing{ss: ss, sep: ss.ns.Separator(), byExt: map[string]*listNode{}}
	prefix := ""
	for i, p := range pats {
		if re, err := compileListPattern(p, l.sep); err == nil {
			l.patterns = append(l.patterns, re)
		}
		pre := ss.scanPrefix(p)
		if i == 0 {
			prefix = pre
		} else {
			prefix = commonPrefix(prefix, pre)
		}
	}
	err := ss.srv.store.List(ss.id, prefix, func(e *mailbox.Entry, rights acl.Rights) error {
		ext, err := ss.toExternal(e.Name)
		if err != nil {
			return nil // no name for this user (another domain)
		}
		n := ss.newListNode(ext, e.Name)
		n.entry, n.rights = e, rights
		l.visible = append(l.visible, n)
		l.byExt[ext] = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(l.visible, func(i, j int) bool { return l.visible[i].key < l.visible[j].key })
	l.extKeys = make([]string, len(l.visible))
	for i, n := range l.visible {
		l.extKeys[i] = l.extKey(n.ext)
	}
	sort.Strings(l.extKeys)
	return l, nil
}

func (ss *session) newListNode(ext, internal string) *listNode {
	n := &listNode{ext: ext, internal: internal, key: listKey(internal), class: 2}
	if owner, isUser := mboxname.Owner(internal); isUser {
		n.class = 1
		if owner == ss.user {
			n.class = 0
		}
	} else if _, rest := mboxname.SplitDomain(internal); rest == "user" {
		n.class = 1
	}
	return n
}

// listKey sorts names as Cyrus's mailbox list does: by the stored
// (modified UTF-7) form, the separator before every other character, so
// that a mailbox's children follow it directly.
func listKey(internal string) string {
	return strings.ReplaceAll(mboxname.EncodeMUTF7(internal), ".", "\x00")
}

// missingNode makes the node of a name that does not exist (or is not
// visible): a parent of visible mailboxes, or a subscription.
func (l *listing) missingNode(ext string) *listNode {
	internal := ext
	if in, err := l.ss.toInternal(ext); err == nil {
		internal = in
	}
	return l.ss.newListNode(ext, internal)
}

// scanPrefix returns the internal-name prefix under which every mailbox
// the pattern can match, and their descendants, are: the internal name of
// the pattern's whole components before the first wildcard. Any doubt
// gives "", a scan of everything.
func (ss *session) scanPrefix(pattern string) string {
	lit := pattern
	if i := strings.IndexAny(pattern, "*%"); i >= 0 {
		lit = pattern[:i]
		j := strings.LastIndexByte(lit, ss.ns.Separator())
		if j < 0 {
			return ""
		}
		lit = lit[:j]
	}
	if lit == "" {
		return ""
	}
	in, err := ss.toInternal(lit)
	if err != nil {
		return ""
	}
	return in
}

func commonPrefix(a, b string) string {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return a[:i]
		}
	}
	return a[:n]
}

// normalizeInbox spells a leading INBOX the way names are written:
// RFC 3501 5.1 makes INBOX case-insensitive.
func normalizeInbox(p string, sep byte) string {
	if len(p) >= 5 && strings.EqualFold(p[:5], "INBOX") && (len(p) == 5 || p[5] == sep || p[5] == '*' || p[5] == '%') {
		return "INBOX" + p[5:]
	}
	return p
}

// compileListPattern turns a list-mailbox into an anchored expression:
// "*" matches anything, "%" anything but the separator (RFC 3501 6.3.8).
// Go's engine runs in time linear in the name, whatever the pattern.
func compileListPattern(p string, sep byte) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	lit := 0
	flush := func(i int) {
		b.WriteString(regexp.QuoteMeta(p[lit:i]))
	}
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '*':
			flush(i)
			b.WriteString(`.*`)
			lit = i + 1
		case '%':
			flush(i)
			b.WriteString(`[^` + regexp.QuoteMeta(string(sep)) + `]*`)
			lit = i + 1
		}
	}
	flush(len(p))
	b.WriteString(`$`)
	return regexp.Compile(b.String())
}

func (l *listing) match(ext string) bool {
	for _, re := range l.patterns {
		if re.MatchString(ext) {
			return true
		}
	}
	return false
}

// extKey orders external names so that a name's children follow it.
func (l *listing) extKey(ext string) string {
	return strings.ReplaceAll(ext, string(l.sep), "\x00")
}

// hasChildren reports whether a visible mailbox sits below ext in the
// hierarchy the client sees (RFC 3348): under altnamespace a user's
// folders are INBOX's siblings, not its children.
func (l *listing) hasChildren(ext string) bool {
	p := l.extKey(ext) + "\x00"
	i := sort.SearchStrings(l.extKeys, p)
	return i < len(l.extKeys) && strings.HasPrefix(l.extKeys[i], p)
}

// parents returns the names above ext, nearest first.
func (l *listing) parents(ext string) []string {
	var out []string
	for {
		i := strings.LastIndexByte(ext, l.sep)
		if i <= 0 {
			return out
		}
		ext = ext[:i]
		out = append(out, ext)
	}
}

// all is LIST without SUBSCRIBED: the visible mailboxes that match, and
// the names above visible mailboxes that match while those mailboxes do
// not (with "%", RFC 3501 6.3.8), which are shown \Noselect. With "*" a
// mailbox matches whenever its parent does, so parents that do not exist
// are not listed, as in Cyrus.
func (l *listing) all(specialUseOnly bool) []*listNode {
	var out []*listNode
	done := map[string]bool{}
	for _, n := range l.visible {
		if l.match(n.ext) {
			if !specialUseOnly || n.entry.SpecialUse != "" {
				out = append(out, n)
			}
			continue
		}
		if specialUseOnly {
			continue
		}
		for _, p := range l.parents(n.ext) {
			if done[p] {
				break
			}
			done[p] = true
			if l.byExt[p] == nil && l.match(p) {
				out = append(out, l.missingNode(p))
			}
		}
	}
	return out
}

// subscriptions returns the user's subscribed names, in wire form, with
// the internal name each stands for.
func (l *listing) subscriptions() (map[string]string, error) {
	subs := map[string]string{}
	err := l.ss.srv.store.Subscriptions(l.ss.user, func(name string) error {
		if ext, err := l.ss.toExternal(name); err == nil {
			subs[ext] = name
		}
		return nil
	})
	return subs, err
}

// markSubscribed sets the subscribed mark of the nodes (RETURN
// (SUBSCRIBED), RFC 5258 3.2).
func (l *listing) markSubscribed(nodes []*listNode) error {
	subs, err := l.subscriptions()
	if err != nil {
		return err
	}
	for _, n := range nodes {
		_, n.subscribed = subs[n.ext]
	}
	return nil
}

// subscribed is LIST (SUBSCRIBED): the subscriptions that match, existing
// or not; with RECURSIVEMATCH, also the matching names above
// subscriptions that do not match, with CHILDINFO (RFC 5258 3.5).
func (l *listing) subscribed(recursive bool) ([]*listNode, int, error) {
	subs, err := l.subscriptions()
	if err != nil {
		return nil, 0, err
	}
	nodes := map[string]*listNode{}
	get := func(ext string) *listNode {
		if n := nodes[ext]; n != nil {
			return n
		}
		n := l.byExt[ext]
		if n == nil {
			n = l.missingNode(ext)
		}
		nodes[ext] = n
		return n
	}
	for ext := range subs {
		if l.match(ext) {
			get(ext).subscribed = true
		} else if recursive {
			for _, p := range l.parents(ext) {
				if l.match(p) {
					get(p).childInfo = true
				}
			}
		}
	}
	out := make([]*listNode, 0, len(nodes))
	for ext, n := range nodes {
		_, n.subscribed = subs[ext]
		out = append(out, n)
	}
	return out, len(subs), nil
}

// lsub is LSUB (RFC 3501 6.3.9): the subscriptions that match, and the
// matching names above those that do not, shown \Noselect as 6.3.9 asks
// for "%".
func (l *listing) lsub() ([]*listNode, int, error) {
	subs, err := l.subscriptions()
	if err != nil {
		return nil, 0, err
	}
	nodes := map[string]*listNode{}
	for ext := range subs {
		if l.match(ext) {
			n := l.byExt[ext]
			if n == nil {
				n = l.missingNode(ext)
			}
			// A node of its own: lsubParent must not leak into the
			// shared visible node.
			c := *n
			c.subscribed, c.lsubParent = true, false
			nodes[ext] = &c
			continue
		}
		for _, p := range l.parents(ext) {
			if _, sub := subs[p]; sub || nodes[p] != nil || !l.match(p) {
				continue
			}
			n := l.missingNode(p)
			n.lsubParent = true
			nodes[p] = n
		}
	}
	out := make([]*listNode, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, n)
	}
	return out, len(subs), nil
}

// sortOutput puts nodes in Cyrus's order: personal mailboxes, other
// users', shared ones, each in mailbox-list order.
func (l *listing) sortOutput(nodes []*listNode) {
	sort.Slice(nodes, func(i, j int) bool {
		if nodes[i].class != nodes[j].class {
			return nodes[i].class < nodes[j].class
		}
		return nodes[i].key < nodes[j].key
	})
}

// listAttrs are the name attributes of a LIST or XLIST line, in Cyrus's
// order: existence, subscription, children, special-use.
func (n *listNode) listAttrs(l *listing, c *listCmd) []string {
	ss := l.ss
	var a []string
	if n.entry == nil {
		if c.selSubscribed {
			a = append(a, `\NonExistent`)
		} else {
			a = append(a, `\Noselect`)
		}
	}
	if c.retSubscribed && n.subscribed {
		a = append(a, `\Subscribed`)
	}
	if l.hasChildren(n.ext) || n.entry == nil && !n.subscribed {
		a = append(a, `\HasChildren`)
	} else {
		a = append(a, `\HasNoChildren`)
	}
	if n.entry != nil {
		a = append(a, specialUseList(n.entry.SpecialUse)...)
	}
	if c.verb == "XLIST" && n.internal == mboxname.UserInbox(ss.user) {
		a = append(a, `\Inbox`)
	}
	return a
}

// lsubAttrs are the attributes of an LSUB line as Cyrus 3.6 gives them:
// none for a subscription, except \HasChildren on INBOX; \Noselect for a
// subscription that does not exist and for a parent shown for "%".
func (n *listNode) lsubAttrs(l *listing) []string {
	switch {
	case n.lsubParent:
		return []string{`\Noselect`, `\HasChildren`}
	case n.entry == nil:
		return []string{`\Noselect`}
	case n.internal == mboxname.UserInbox(l.ss.user) && l.hasChildren(n.ext):
		return []string{`\HasChildren`}
	}
	return nil
}
