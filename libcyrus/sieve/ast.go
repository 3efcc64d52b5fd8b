package sieve

// The syntax tree of a script. The parser fills Name, Line, Args, Tests,
// Block and HasBlock from RFC 5228 section 8.2's grammar; the validator
// then sorts the arguments into Tags and Pos and resolves the comparator,
// match type and address part, so the interpreter reads them directly.
// Every field is exported and plain so that encoding/gob can store a
// compiled script (the .bc file) without a hand-written format.

// ArgKind is the kind of an argument.
type ArgKind uint8

const (
	// ArgStrings is a string or a string list.
	ArgStrings ArgKind = iota + 1
	// ArgNumber is a number (with its K/M/G quantifier applied).
	ArgNumber
	// ArgTag is a tagged argument ":name".
	ArgTag
)

// Arg is one argument as written.
type Arg struct {
	Kind ArgKind
	// Strs holds a string list; a single string is a list of one.
	Strs []string
	// List is set when the strings were written in brackets.
	List bool
	Num  uint64
	// Tag is the tag's name in lower case, without the colon.
	Tag  string
	Line int
}

// Node is a command or a test.
type Node struct {
	Name string
	Line int
	// Args are the arguments in the order written; the validator empties
	// it once Tags and Pos hold them.
	Args []Arg
	// Tests is the test of if/elsif, not, or the test list of
	// allof/anyof; a command like "if" has exactly one.
	Tests []*Node
	// Block is the command block; HasBlock tells "{}" from ";".
	Block    []*Node
	HasBlock bool

	// Resolved by validation.

	// Tags maps each tag given (without colon) to its parameter; a tag
	// without one maps to an Arg of kind ArgTag.
	Tags map[string]Arg
	// Pos are the positional arguments.
	Pos []Arg
	// Comparator, Match and Relation are the comparator name
	// ("i;ascii-casemap" when not given), the match type ("is",
	// "contains", "matches", "regex", "count", "value") and, for count
	// and value, the relational operator ("gt", "ge", ...).
	Comparator string
	Match      string
	Relation   string
	// AddrPart is "all", "localpart", "domain", "user" or "detail".
	AddrPart string
	// Unchecked marks the block of an "if ihave" naming a capability
	// this server lacks: it was only parsed, never validated, and never
	// runs (RFC 5463 section 4).
	Unchecked bool
}

// tag reports whether the tag is present.
func (n *Node) tag(name string) bool {
	_, ok := n.Tags[name]
	return ok
}
