package imapserver

// LIST-METADATA (RFC 9590): the METADATA return option of LIST gives,
// after each LIST line of a mailbox that exists, the mailbox's values of
// the entries asked for, as GETMETADATA would. Cyrus 3.6 takes the
// entries (one, or a list); an options list may follow them, of which
// MAXSIZE and DEPTH are honoured:
//
//	LIST "" * RETURN (METADATA (/shared/comment /private/comment) (MAXSIZE 1024))

import (
	"github.com/cyrusgo/cyrusgo/libcyrus/imapwire"
)

// listMetadata is what the METADATA return option asks for.
type listMetadata struct {
	entries  []string
	opts     metaOptions
	haveOpts bool
}

// readListMetadata reads the entries after "METADATA SP".
func readListMetadata(r *imapwire.Reader) (*listMetadata, error) {
	if err := r.SP(); err != nil {
		return nil, err
	}
	a, err := readMetaArg(r)
	if err != nil {
		return nil, err
	}
	for _, e := range a.items {
		if err := metaEntryError(e); err != nil {
			return nil, err
		}
	}
	return &listMetadata{entries: a.items, opts: metaOptions{maxSize: -1}}, nil
}

// readOptions reads the options list that may follow the entries.
func (m *listMetadata) readOptions(r *imapwire.Reader) error {
	a, err := readMetaArg(r)
	if err != nil {
		return err
	}
	o, ok := parseMetaOptions(a.items)
	if !ok {
		return &imapwire.SyntaxError{Msg: "Invalid List return option METADATA options"}
	}
	m.opts, m.haveOpts = o, true
	return nil
}

// wantsOptions reports whether a "(" among the return options is this
// option's options list.
func (m *listMetadata) wantsOptions() bool { return m != nil && !m.haveOpts }

// writeListMetadata writes the METADATA line of a listed mailbox; a
// mailbox whose values cannot be read is left out, as RFC 9590 3 allows.
func (ss *session) writeListMetadata(m *listMetadata, n *listNode) {
	vals, err := ss.srv.store.GetMetadata(ss.id, n.internal, m.entries, m.opts.depth)
	if err != nil {
		return
	}
	ss.writeMetadata(n.ext, vals, m.opts.maxSize)
}
