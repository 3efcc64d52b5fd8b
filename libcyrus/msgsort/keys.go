package msgsort

import "strings"

// Key is one sort-key of RFC 5256 3 or RFC 5957 4.
type Key uint8

const (
	Arrival     Key = iota + 1 // internal date and time
	Cc                         // addr-mailbox of the first Cc address
	Date                       // sent date (RFC 5256 2.2)
	From                       // addr-mailbox of the first From address
	Size                       // RFC822.SIZE
	Subject                    // base subject (RFC 5256 2.1)
	To                         // addr-mailbox of the first To address
	DisplayFrom                // display value of the first From address (RFC 5957)
	DisplayTo                  // display value of the first To address (RFC 5957)
)

var keyNames = map[string]Key{
	"ARRIVAL": Arrival, "CC": Cc, "DATE": Date, "FROM": From, "SIZE": Size,
	"SUBJECT": Subject, "TO": To, "DISPLAYFROM": DisplayFrom, "DISPLAYTO": DisplayTo,
}

// ParseKey returns the Key named name (any case).
func ParseKey(name string) (Key, bool) {
	k, ok := keyNames[strings.ToUpper(name)]
	return k, ok
}

// String returns the key's name on the wire.
func (k Key) String() string {
	for n, v := range keyNames {
		if v == k {
			return n
		}
	}
	return "UNKNOWN"
}

// isString reports whether the key compares strings, which Sort maps
// through CaseMap once per message.
func (k Key) isString() bool {
	switch k {
	case Cc, From, Subject, To, DisplayFrom, DisplayTo:
		return true
	}
	return false
}

// Criterion is one sort-criterion: a key, optionally REVERSE.
type Criterion struct {
	Key     Key
	Reverse bool
}

// Addr is the first mailbox of an address header (RFC 3501 7.4.2
// address): Name is the addr-name, RFC 2047-decoded; "" for none.
type Addr struct {
	Name    string
	Mailbox string
	Host    string
}

// Display is the sort value of an address under RFC 5957 3: the decoded
// display name when it is not empty, otherwise mailbox@host, otherwise
// the mailbox alone, otherwise "".
func (a Addr) Display() string {
	switch {
	case a.Name != "":
		return a.Name
	case a.Mailbox != "" && a.Host != "":
		return a.Mailbox + "@" + a.Host
	}
	return a.Mailbox
}
