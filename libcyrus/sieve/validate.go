package sieve

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// validator checks a parsed script against the spec tables and the
// capabilities it requires, and resolves each node's arguments. It
// collects up to maxErrors errors.
type validator struct {
	exts   *Extensions     // what the server allows
	req    map[string]bool // what the script required (plus ihave blocks)
	lim    Limits
	errs   []*Error
	setVar map[string]bool // variables set so far (RFC 6609 3.4.1)
	glob   map[string]bool // variables declared global so far
	loops  []string        // names of the enclosing foreverypart loops
}

func (v *validator) errorf(line int, format string, args ...any) {
	if len(v.errs) < maxErrors {
		v.errs = append(v.errs, &Error{Line: line, Msg: fmt.Sprintf(format, args...)})
	}
}

// validate checks cmds and returns the capabilities required.
func validate(cmds []*Node, exts *Extensions, lim Limits) ([]string, []*Error) {
	v := &validator{exts: exts, req: map[string]bool{}, lim: lim, setVar: map[string]bool{}, glob: map[string]bool{}}
	// RFC 5228 3.2: require comes before any other command.
	i := 0
	for ; i < len(cmds) && cmds[i].Name == "require"; i++ {
		v.require(cmds[i])
	}
	for _, c := range cmds[i:] {
		if c.Name == "require" {
			v.errorf(c.Line, "require must come before any other command")
		}
	}
	if v.req["encoded-character"] {
		decodeAll(v, cmds)
	}
	v.block(cmds[i:], true)
	var required []string
	for k := range v.req {
		required = append(required, k)
	}
	sort.Strings(required)
	return required, v.errs
}

func (v *validator) require(n *Node) {
	if len(n.Tests) > 0 || n.HasBlock || len(n.Args) != 1 || n.Args[0].Kind != ArgStrings {
		v.errorf(n.Line, "require expects a string list of capabilities")
		return
	}
	n.Pos = n.Args
	n.Args = nil
	for _, c := range n.Pos[0].Strs {
		c = strings.ToLower(c)
		if !v.exts.Has(c) {
			v.errorf(n.Line, "unsupported extension %q in require", c)
			continue
		}
		v.req[c] = true
		if c == "vacation-seconds" {
			// RFC 6131 2: vacation-seconds implies vacation.
			v.req["vacation"] = true
		}
	}
}

// block validates a command list, with if/elsif/else sequencing.
func (v *validator) block(cmds []*Node, top bool) {
	prevIf := false
	for _, c := range cmds {
		switch c.Name {
		case "elsif", "else":
			if !prevIf {
				v.errorf(c.Line, "%s without a preceding if", c.Name)
			}
		case "require":
			if !top {
				v.errorf(c.Line, "require must come before any other command")
			}
			continue
		}
		v.node(c, false)
		prevIf = c.Name == "if" || c.Name == "elsif"
	}
}

// node validates one command (test=false) or test.
func (v *validator) node(n *Node, test bool) {
	spec := commandSpecs[n.Name]
	kind := "command"
	if test {
		spec, kind = testSpecs[n.Name], "test"
	}
	if spec == nil {
		if !test && testSpecs[n.Name] != nil {
			v.errorf(n.Line, "%q is a test, not a command", n.Name)
		} else if test && commandSpecs[n.Name] != nil {
			v.errorf(n.Line, "%q is a command, not a test", n.Name)
		} else {
			v.errorf(n.Line, "unknown %s %q", kind, n.Name)
		}
		return
	}
	if len(spec.ext) > 0 && !v.anyReq(spec.ext) {
		v.errorf(n.Line, "%s %q requires extension %q (missing require)", kind, n.Name, spec.ext[0])
	}
	v.args(n, spec)

	// Tests and block.
	switch spec.test {
	case 0:
		if len(n.Tests) > 0 {
			v.errorf(n.Line, "%q takes no test", n.Name)
		}
	case 1:
		if len(n.Tests) != 1 {
			v.errorf(n.Line, "%q expects one test", n.Name)
		}
	case 2:
		if len(n.Tests) == 0 {
			v.errorf(n.Line, "%q expects a list of tests", n.Name)
		}
	}
	if !test {
		if spec.block && !n.HasBlock {
			v.errorf(n.Line, "%q expects a block", n.Name)
		} else if !spec.block && n.HasBlock {
			v.errorf(n.Line, "%q takes no block", n.Name)
		}
	}
	v.check(n)
	for _, t := range n.Tests {
		v.node(t, true)
	}
	if !n.HasBlock {
		return
	}
	switch n.Name {
	case "if", "elsif":
		v.ifBlock(n)
	case "foreverypart":
		name := ""
		if a, ok := n.Tags["name"]; ok {
			name = a.Strs[0]
		}
		v.loops = append(v.loops, name)
		v.block(n.Block, false)
		v.loops = v.loops[:len(v.loops)-1]
	default:
		v.block(n.Block, false)
	}
}

// ifBlock validates the block of if/elsif. RFC 5463 4: capabilities an
// "ihave" test of the condition names are usable inside the block; when
// one of them is not supported, the block cannot run and is not checked
// beyond its syntax.
func (v *validator) ifBlock(n *Node) {
	caps := ihaveCaps(n.Tests)
	if len(caps) == 0 {
		v.block(n.Block, false)
		return
	}
	for _, c := range caps {
		if !v.exts.Has(c) {
			n.Unchecked = true
			return
		}
	}
	saved := v.req
	v.req = map[string]bool{}
	for k := range saved {
		v.req[k] = true
	}
	for _, c := range caps {
		v.req[strings.ToLower(c)] = true
	}
	v.block(n.Block, false)
	v.req = saved
}

// ihaveCaps returns the capabilities of the ihave tests that must hold
// for the condition to be true: the test itself or members of an allof.
func ihaveCaps(tests []*Node) []string {
	if len(tests) != 1 {
		return nil
	}
	t := tests[0]
	switch t.Name {
	case "ihave":
		if len(t.Pos) == 1 {
			return t.Pos[0].Strs
		}
	case "allof":
		var out []string
		for _, s := range t.Tests {
			out = append(out, ihaveCaps([]*Node{s})...)
		}
		return out
	}
	return nil
}

func (v *validator) anyReq(names []string) bool {
	for _, e := range names {
		if v.req[e] {
			return true
		}
	}
	return false
}

// args sorts n.Args into Tags and Pos and checks them against spec.
func (v *validator) args(n *Node, spec *cmdSpec) {
	tags := spec.tags
	if spec.cmpMatch || spec.addrPart {
		var extra []map[string]tagSpec
		if spec.cmpMatch {
			extra = append(extra, matchTags)
		}
		if spec.addrPart {
			extra = append(extra, addrTags)
		}
		tags = merge(append(extra, spec.tags)...)
	}
	n.Tags = map[string]Arg{}
	groups := map[string]string{}
	var pos []Arg
	args := n.Args
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a.Kind != ArgTag {
			pos = append(pos, a)
			continue
		}
		ts, ok := tags[a.Tag]
		if !ok {
			v.errorf(a.Line, "unknown tag \":%s\" for %q", a.Tag, n.Name)
			continue
		}
		if len(ts.ext) > 0 && !v.anyReq(ts.ext) {
			v.errorf(a.Line, "tag \":%s\" requires extension %q (missing require)", a.Tag, ts.ext[0])
		}
		if _, dup := n.Tags[a.Tag]; dup {
			v.errorf(a.Line, "tag \":%s\" given twice", a.Tag)
			continue
		}
		if ts.group != "" {
			if other, clash := groups[ts.group]; clash {
				v.errorf(a.Line, "tags \":%s\" and \":%s\" cannot be used together", other, a.Tag)
				continue
			}
			groups[ts.group] = a.Tag
		}
		param := a
		if ts.arg != 0 {
			if i+1 >= len(args) || !argFits(args[i+1], ts.arg) {
				v.errorf(a.Line, "tag \":%s\" expects a %s", a.Tag, ts.arg)
				continue
			}
			i++
			param = args[i]
		}
		n.Tags[a.Tag] = param
	}
	n.Args = nil
	n.Pos = pos

	min := len(spec.pos) - spec.optLead - spec.optTrail
	if len(pos) < min || len(pos) > len(spec.pos) {
		switch {
		case len(spec.pos) == 0:
			v.errorf(n.Line, "%q takes no positional arguments", n.Name)
		case min == len(spec.pos):
			v.errorf(n.Line, "%q expects %d positional argument%s, got %d", n.Name, len(spec.pos), plural(len(spec.pos)), len(pos))
		default:
			v.errorf(n.Line, "%q expects %d to %d positional arguments, got %d", n.Name, min, len(spec.pos), len(pos))
		}
		return
	}
	want := spec.pos
	if spec.optLead > 0 && len(pos) < len(spec.pos) {
		want = spec.pos[len(spec.pos)-len(pos):]
	}
	for i, a := range pos {
		if !argFits(a, want[i]) {
			v.errorf(a.Line, "%q expects a %s as argument %d", n.Name, want[i], i+1)
		}
	}
	if spec.optLead > 0 && len(pos) < len(spec.pos) {
		// Keep the positions fixed: a missing leading argument is an
		// empty list, marked by Kind 0.
		n.Pos = append(make([]Arg, len(spec.pos)-len(pos)), pos...)
	}

	if spec.cmpMatch {
		v.matchArgs(n)
	}
	if spec.addrPart {
		n.AddrPart = "all"
		for _, p := range []string{"localpart", "domain", "user", "detail", "all"} {
			if n.tag(p) {
				n.AddrPart = p
			}
		}
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func argFits(a Arg, t argType) bool {
	switch t {
	case aString:
		// A one-element list is accepted where a string is expected,
		// as other implementations do.
		return a.Kind == ArgStrings && len(a.Strs) == 1
	case aStringList:
		return a.Kind == ArgStrings
	case aNumber:
		return a.Kind == ArgNumber
	}
	return false
}

// Comparators (RFC 4790 9.1-9.3; RFC 5228 2.7.3).
const (
	cmpOctet    = "i;octet"
	cmpCasemap  = "i;ascii-casemap"
	cmpNumeric  = "i;ascii-numeric"
	defaultCmp  = cmpCasemap
	defaultType = "is"
)

// matchArgs resolves COMPARATOR and MATCH-TYPE.
func (v *validator) matchArgs(n *Node) {
	n.Comparator, n.Match = defaultCmp, defaultType
	if a, ok := n.Tags["comparator"]; ok {
		c := strings.ToLower(a.Strs[0])
		switch c {
		case cmpOctet, cmpCasemap:
		case cmpNumeric:
			if !v.req["comparator-"+cmpNumeric] {
				v.errorf(a.Line, "comparator %q requires \"comparator-%s\" (missing require)", c, c)
			}
		default:
			v.errorf(a.Line, "unknown comparator %q", a.Strs[0])
		}
		n.Comparator = c
	}
	for _, m := range []string{"is", "contains", "matches", "regex", "count", "value"} {
		if a, ok := n.Tags[m]; ok {
			n.Match = m
			if m == "count" || m == "value" {
				rel := strings.ToLower(a.Strs[0])
				switch rel {
				case "gt", "ge", "lt", "le", "eq", "ne":
				default:
					v.errorf(a.Line, "invalid relational operator %q", a.Strs[0])
				}
				n.Relation = rel
			}
		}
	}
	if n.Comparator == cmpNumeric {
		switch n.Match {
		case "contains", "matches", "regex":
			v.errorf(n.Line, "comparator %q cannot be used with :%s", cmpNumeric, n.Match)
		}
	}
}

// constant reports whether s has no variable reference to expand, so it
// can be checked now (RFC 5229 3: a "constant string").
func (v *validator) constant(s string) bool {
	return !v.req["variables"] || !hasVarRef(s)
}

// check applies the rules particular to one command or test.
func (v *validator) check(n *Node) {
	str := func(i int) (string, bool) {
		if i >= len(n.Pos) || n.Pos[i].Kind != ArgStrings || len(n.Pos[i].Strs) == 0 {
			return "", false
		}
		return n.Pos[i].Strs[0], true
	}
	if v.req["variables"] {
		v.checkNamespaces(n)
	}
	if n.Match == "regex" {
		v.checkRegex(n)
	}
	if n.tag("last") && !n.tag("index") && n.Name != "duplicate" && n.Name != "addheader" {
		v.errorf(n.Line, "\":last\" requires \":index\"")
	}
	switch n.Name {
	case "redirect":
		if s, ok := str(0); ok && v.constant(s) && !validAddress(s) {
			v.errorf(n.Line, "invalid redirect address %q", s)
		}
	case "fileinto":
		if s, ok := str(0); ok && s == "" {
			v.errorf(n.Line, "fileinto: empty mailbox name")
		}
	case "vacation":
		if a, ok := n.Tags["from"]; ok && v.constant(a.Strs[0]) && !validMailbox(a.Strs[0]) {
			v.errorf(a.Line, "vacation: invalid :from address %q", a.Strs[0])
		}
		v.checkFcc(n)
	case "notify":
		if s, ok := str(0); ok && v.constant(s) {
			if _, err := parseMailto(s); err != nil {
				v.errorf(n.Line, "notify: %v", err)
			}
		}
		if a, ok := n.Tags["importance"]; ok && v.constant(a.Strs[0]) {
			switch a.Strs[0] {
			case "1", "2", "3":
			default:
				v.errorf(a.Line, "notify: :importance must be \"1\", \"2\" or \"3\"")
			}
		}
		if a, ok := n.Tags["from"]; ok && v.constant(a.Strs[0]) && !validMailbox(a.Strs[0]) {
			v.errorf(a.Line, "notify: invalid :from address %q", a.Strs[0])
		}
		v.checkFcc(n)
	case "setflag", "addflag", "removeflag", "hasflag":
		if len(n.Pos) == 2 && n.Pos[0].Kind != 0 {
			if !v.req["variables"] {
				v.errorf(n.Line, "%s: a variable name requires extension \"variables\"", n.Name)
			}
			for _, name := range n.Pos[0].Strs {
				v.checkVarName(n, name, n.Name != "hasflag")
			}
		}
	case "set":
		if s, ok := str(0); ok {
			v.checkVarName(n, s, true)
			v.setVar[strings.ToLower(s)] = true
		}
	case "extracttext":
		if !v.req["variables"] {
			v.errorf(n.Line, "extracttext requires extension \"variables\"")
		}
		if len(v.loops) == 0 {
			v.errorf(n.Line, "extracttext outside foreverypart")
		}
		if s, ok := str(0); ok {
			v.checkVarName(n, s, true)
			v.setVar[strings.ToLower(s)] = true
		}
	case "string":
		// RFC 5229 5: nothing to check beyond the arguments.
	case "global":
		if !v.req["variables"] {
			v.errorf(n.Line, "global requires extensions \"include\" and \"variables\"")
		}
		if len(n.Pos) == 1 {
			for _, name := range n.Pos[0].Strs {
				if !isIdentifier(name) {
					v.errorf(n.Line, "global: invalid variable name %q", name)
					continue
				}
				l := strings.ToLower(name)
				if v.setVar[l] && !v.glob[l] {
					v.errorf(n.Line, "global: variable %q was already set in this script", name)
				}
				v.glob[l] = true
			}
		}
	case "include":
		if s, ok := str(0); ok {
			if err := ValidScriptName(s); err != nil {
				v.errorf(n.Line, "include: %v", err)
			}
		}
	case "addheader":
		if s, ok := str(0); ok && v.constant(s) && !validFieldName(s) {
			v.errorf(n.Line, "addheader: invalid header field name %q", s)
		}
	case "deleteheader":
		if s, ok := str(0); ok && v.constant(s) && !validFieldName(s) {
			v.errorf(n.Line, "deleteheader: invalid header field name %q", s)
		}
	case "break":
		if len(v.loops) == 0 {
			v.errorf(n.Line, "break outside foreverypart")
		} else if a, ok := n.Tags["name"]; ok && !slices.Contains(v.loops, a.Strs[0]) {
			v.errorf(n.Line, "break: no enclosing foreverypart named %q", a.Strs[0])
		}
	case "size":
		if len(n.Tags) != 1 {
			v.errorf(n.Line, "size expects :over or :under")
		}
	case "envelope":
		if len(n.Pos) == 2 {
			for _, p := range n.Pos[0].Strs {
				if !v.constant(p) {
					continue
				}
				switch strings.ToLower(p) {
				case "from", "to", "auth":
				default:
					v.errorf(n.Line, "envelope: unknown envelope part %q", p)
				}
			}
		}
	case "address":
		if len(n.Pos) == 2 {
			for _, h := range n.Pos[0].Strs {
				if v.constant(h) && !isAddressHeader(h) && !n.tag("mime") {
					v.errorf(n.Line, "address: header %q does not hold addresses", h)
				}
			}
		}
	case "date", "currentdate":
		i := 1
		if n.Name == "currentdate" {
			i = 0
		}
		if s, ok := str(i); ok && v.constant(s) && !validDatePart(s) {
			v.errorf(n.Line, "%s: unknown date part %q", n.Name, s)
		}
		if a, ok := n.Tags["zone"]; ok && v.constant(a.Strs[0]) {
			if _, ok := parseZone(a.Strs[0]); !ok {
				v.errorf(a.Line, "%s: invalid time zone %q (expected +hhmm or -hhmm)", n.Name, a.Strs[0])
			}
		}
	case "ihave":
		// Capabilities named here need not exist (RFC 5463 4).
	}
}

// checkFcc checks the tags that only make sense with :fcc (RFC 8580).
func (v *validator) checkFcc(n *Node) {
	if n.tag("fcc") {
		return
	}
	for _, t := range []string{"create", "flags", "specialuse", "mailboxid"} {
		if n.tag(t) {
			v.errorf(n.Line, "%s: \":%s\" requires \":fcc\"", n.Name, t)
		}
	}
}

func (v *validator) checkVarName(n *Node, name string, settable bool) {
	if !v.constant(name) {
		v.errorf(n.Line, "%s: variable name must be a constant", n.Name)
		return
	}
	if settable && !isIdentifier(name) {
		v.errorf(n.Line, "%s: invalid variable name %q", n.Name, name)
	}
}

// checkNamespaces refuses references to variable namespaces, none of
// which is supported (RFC 5229 3: such references "MUST cause an error").
func (v *validator) checkNamespaces(n *Node) {
	visit := func(a Arg) {
		if a.Kind != ArgStrings {
			return
		}
		for _, s := range a.Strs {
			for _, ref := range varRefs(s) {
				if strings.Contains(ref, ".") {
					v.errorf(a.Line, "unknown variable namespace in \"${%s}\"", ref)
				}
			}
		}
	}
	for _, a := range n.Pos {
		visit(a)
	}
	for _, a := range n.Tags {
		visit(a)
	}
}

// checkRegex compiles constant :regex keys now, so a bad pattern is
// reported at upload with its line.
func (v *validator) checkRegex(n *Node) {
	if len(n.Pos) == 0 {
		return
	}
	keys := n.Pos[len(n.Pos)-1]
	for _, k := range keys.Strs {
		if !v.constant(k) {
			continue
		}
		if _, err := compileRegex(k, n.Comparator, v.lim.MaxRegex); err != nil {
			v.errorf(keys.Line, "%v", err)
		}
	}
}

// compileRegex compiles a :regex key. Go's RE2 syntax is a superset of
// the POSIX extended syntax Cyrus uses (regcomp with REG_EXTENDED), except
// for back-references, which RE2 lacks; leftmost-longest matching is
// asked for, as POSIX specifies. i;ascii-casemap matches case-blind.
func compileRegex(pat, comparator string, max int) (*regexp.Regexp, error) {
	if len(pat) > max {
		return nil, fmt.Errorf("regular expression longer than %d bytes", max)
	}
	p := pat
	if comparator == cmpCasemap {
		p = "(?i)" + p
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression %q: %v", pat, err)
	}
	re.Longest()
	return re, nil
}

// isIdentifier: RFC 5228 8.1 identifier.
func isIdentifier(s string) bool {
	if s == "" || !(isAlpha(s[0]) || s[0] == '_') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !(isAlpha(s[i]) || isDigit(s[i]) || s[i] == '_') {
			return false
		}
	}
	return true
}

// validFieldName: RFC 5322 2.2 field-name, printable US-ASCII but ":".
func validFieldName(s string) bool {
	if s == "" || len(s) > 997 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 33 || s[i] > 126 || s[i] == ':' {
			return false
		}
	}
	return true
}

// addressHeaders are the fields the address test accepts (RFC 5228 5.1:
// at least From, To, Cc, Bcc, Sender, Resent-From, Resent-To, and others
// holding address lists). Non-standard "X-" fields are accepted as well,
// since many of them (X-Original-To, X-Envelope-From) hold addresses.
var addressHeaders = []string{
	"from", "to", "cc", "bcc", "sender", "reply-to", "resent-from",
	"resent-sender", "resent-to", "resent-cc", "resent-bcc", "resent-reply-to",
	"return-path", "delivered-to", "envelope-to", "errors-to", "apparently-to",
	"disposition-notification-to", "return-receipt-to", "mail-followup-to",
	"mail-reply-to", "original-recipient", "approved", "list-post",
}

func isAddressHeader(h string) bool {
	l := strings.ToLower(h)
	return slices.Contains(addressHeaders, l) || strings.HasPrefix(l, "x-")
}

// ValidScriptName checks a script name against RFC 5804 1.6 (which RFC
// 6609 3.2 applies to include too), with the file-system restrictions of
// Cyrus's layout: no "/" and at most 200 octets, so that "<name>.script"
// is a valid file name.
func ValidScriptName(name string) error {
	if name == "" {
		return fmt.Errorf("empty script name")
	}
	if len(name) > 200 {
		return fmt.Errorf("script name longer than 200 octets")
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("script name is not UTF-8")
	}
	for _, r := range name {
		switch {
		case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f, r == 0x2028, r == 0x2029:
			return fmt.Errorf("script name holds a control character")
		case r == '/':
			return fmt.Errorf("script name holds \"/\"")
		}
	}
	return nil
}
