package imapserver

// GETMETADATA and SETMETADATA (RFC 5464), parsed and answered as Cyrus
// 3.6 does: options may come before the mailbox (the RFC's grammar) or
// after it (its examples); several mailboxes may be given as a list;
// entries may be "*" and "%" patterns (cyradm's info sends "/shared/*");
// an entry asked for by name and without a value answers NIL; entry names
// and values go out as quoted strings or literals, never atoms. The
// rules of who may read and write what are the store's
// (mailbox.GetMetadata).
//
// Departures from Cyrus: an entry name with a control or 8-bit character
// is refused with BAD (RFC 5464 3.2); only the entries asked for are
// answered (Cyrus answers both the /shared and the /private form of every
// entry when both scopes are asked for), in the order asked; MAXSIZE 0
// gives LONGENTRIES like any other size (RFC 5464 4.2.1); a value may be
// a literal8 (RFC 5464 5), which Cyrus refuses.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/imapwire"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
)

// metaArg is one argument of GETMETADATA: an astring or a list of them.
type metaArg struct {
	items  []string
	isList bool
}

func readMetaArg(r *imapwire.Reader) (metaArg, error) {
	if c, _ := r.Peek(); c == '(' {
		a := metaArg{isList: true}
		err := r.ReadList(func(r *imapwire.Reader) error {
			s, err := r.ReadAString()
			a.items = append(a.items, s)
			return err
		})
		return a, err
	}
	s, err := r.ReadAString()
	return metaArg{items: []string{s}}, err
}

// metaOptions are the GETMETADATA options (RFC 5464 4.2.1, 4.2.2).
type metaOptions struct {
	maxSize int64 // -1: none
	depth   int   // 0, 1, or -1 for infinity
}

// parseMetaOptions reads an options list; ok is false unless every item
// is a known option with a valid value, as Cyrus requires before it takes
// a list for options.
func parseMetaOptions(items []string) (metaOptions, bool) {
	o := metaOptions{maxSize: -1}
	if len(items) == 0 {
		return o, false
	}
	for i := 0; i < len(items); i += 2 {
		if i+1 >= len(items) {
			return o, false
		}
		v := items[i+1]
		switch strings.ToUpper(items[i]) {
		case "MAXSIZE":
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return o, false
			}
			o.maxSize = int64(n)
		case "DEPTH":
			switch strings.ToLower(v) {
			case "0":
				o.depth = 0
			case "1":
				o.depth = 1
			case "infinity":
				o.depth = -1
			default:
				return o, false
			}
		default:
			return o, false
		}
	}
	return o, true
}

// metaEntryError checks an entry name: BAD when it is not one.
func metaEntryError(e string) error {
	if _, _, ok := mailbox.SplitMetaEntry(e); !ok {
		return &imapwire.SyntaxError{Msg: "entry must begin with /shared or /private"}
	}
	if len(e) > mailbox.MetadataMaxEntryName {
		return &imapwire.SyntaxError{Msg: "Invalid entry name"}
	}
	for i := 0; i < len(e); i++ {
		if e[i] < 0x20 || e[i] >= 0x7f {
			return &imapwire.SyntaxError{Msg: "Invalid entry name"}
		}
	}
	return nil
}

// cmdGetMetadata is RFC 5464 4.2.
func cmdGetMetadata(ss *session, tag string) result {
	var args []metaArg
	for len(args) < 3 && ss.r.PeekSP() {
		ss.r.SP()
		a, err := readMetaArg(ss.r)
		if err != nil {
			return wireErr(err)
		}
		args = append(args, a)
	}
	if len(args) == 3 && ss.r.PeekSP() {
		// Cyrus reads three arguments and ignores what follows.
		ss.r.SkipLine()
	} else if err := ss.r.ReadEOL(); err != nil {
		return wireErr(err)
	}
	for _, a := range args {
		if a.isList && len(a.items) == 0 {
			return bad("Missing metadata entry")
		}
	}
	missing := bad("Missing arguments to Getmetadata")
	if len(args) < 2 {
		return missing
	}
	opts := metaOptions{maxSize: -1}
	mboxes, entries := args[0], args[len(args)-1]
	if len(args) == 3 {
		o0, ok0 := parseMetaOptions(args[0].items)
		o1, ok1 := parseMetaOptions(args[1].items)
		ok0, ok1 = ok0 && args[0].isList, ok1 && args[1].isList
		switch {
		case ok0 && ok1:
			return bad("Too many option lists for Getmetadata")
		case ok0:
			opts, mboxes = o0, args[1]
		case ok1:
			opts, mboxes = o1, args[0]
		default:
			return missing
		}
	}
	for _, e := range entries.items {
		if err := metaEntryError(e); err != nil {
			return bad(clientText(err))
		}
	}
	var biggest int64
	for _, ext := range mboxes.items {
		name := ""
		if ext != "" {
			var err error
			if name, err = ss.toInternal(ext); err != nil {
				return no("", textNoMailbox)
			}
		}
		vals, err := ss.srv.store.GetMetadata(ss.id, name, entries.items, opts.depth)
		if err != nil {
			return ss.metaResult("GETMETADATA", err)
		}
		if b := ss.writeMetadata(ext, vals, opts.maxSize); b > biggest {
			biggest = b
		}
		if err := ss.w.Err(); err != nil {
			return wireErr(err)
		}
	}
	if biggest > 0 {
		// RFC 5464 4.2.1: the size of the biggest value left out.
		return okCode(fmt.Sprintf("METADATA LONGENTRIES %d", biggest), "Completed")
	}
	return ok("")
}

// writeMetadata writes "* METADATA mailbox (entry value ...)" with the
// values no larger than maxSize (-1: any), and returns the size of the
// biggest value it left out. Nothing is written when nothing is left.
func (ss *session) writeMetadata(ext string, vals []mailbox.MetaValue, maxSize int64) int64 {
	var biggest int64
	w := ss.w
	first := true
	for _, v := range vals {
		if n := int64(len(v.Value)); maxSize >= 0 && n > maxSize {
			biggest = max(biggest, n)
			continue
		}
		if first {
			w.Raw("* METADATA ")
			w.AString(ext)
			w.Raw(" (")
			first = false
		} else {
			w.SP()
		}
		w.String(v.Entry)
		w.SP()
		switch {
		case v.Value == nil:
			w.Nil()
		case bytes.IndexByte(v.Value, 0) >= 0:
			// RFC 5464 5: a value may be a literal8 (binary).
			w.Literal8(bytes.NewReader(v.Value), int64(len(v.Value)))
		default:
			w.StringBytes(v.Value)
		}
	}
	if !first {
		w.Raw(")\r\n")
	}
	return biggest
}

// cmdSetMetadata is RFC 5464 4.3.
func cmdSetMetadata(ss *session, tag string) result {
	ext, err := ss.readMboxArg()
	if err != nil {
		return wireErr(err)
	}
	if err := ss.r.SP(); err != nil {
		return wireErr(err)
	}
	if c, _ := ss.r.Peek(); c != '(' {
		return wireErr(&imapwire.SyntaxError{Msg: "Missing metadata entry list"})
	}
	changes, res, read := ss.readMetaChanges()
	if !read {
		return res
	}
	if err := ss.r.ReadEOL(); err != nil {
		return wireErr(&imapwire.SyntaxError{Msg: "Unexpected extra arguments to Setmetadata"})
	}
	name := ""
	if ext != "" {
		if name, err = ss.toInternal(ext); err != nil {
			return no("", textNoMailbox)
		}
	}
	if err := ss.srv.store.SetMetadata(ss.id, name, changes); err != nil {
		return ss.metaResult("SETMETADATA", err)
	}
	return ok("")
}

// readMetaChanges reads "(" entry SP value *(SP entry SP value) ")".
// A value is NIL, a string, or a literal8; a literal larger than the
// store takes is refused before its "+" (RFC 5464 4.3: NO [METADATA
// MAXSIZE n]), and its bytes are skipped with the rest of the command.
func (ss *session) readMetaChanges() ([]mailbox.MetaChange, result, bool) {
	r := ss.r
	if err := r.Expect('('); err != nil {
		return nil, wireErr(err), false
	}
	var changes []mailbox.MetaChange
	if c, _ := r.Peek(); c == ')' {
		return nil, wireErr(&imapwire.SyntaxError{Msg: "Missing metadata entry"}), false
	}
	for {
		entry, err := r.ReadAString()
		if err != nil {
			return nil, wireErr(err), false
		}
		if err := metaEntryError(entry); err != nil {
			return nil, wireErr(err), false
		}
		if !r.PeekSP() {
			return nil, wireErr(&imapwire.SyntaxError{Msg: "Missing metadata entry"}), false
		}
		r.SP()
		c := mailbox.MetaChange{Entry: entry}
		switch ch, _ := r.Peek(); ch {
		case '{', '~':
			// maxliteral bounds it too, as any literal read as a string.
			limit := int64(mailbox.MetadataMaxSize)
			if ml := int64(ss.srv.limits.MaxLiteral); ml > 0 && ml < limit {
				limit = ml
			}
			lit, size, err := r.ReadLiteralReader(limit)
			var tb *imapwire.LiteralTooBigError
			if errors.As(err, &tb) {
				switch {
				case size > mailbox.MetadataMaxSize:
					return nil, no(fmt.Sprintf("METADATA MAXSIZE %d", mailbox.MetadataMaxSize), mailbox.ErrMetaTooBig.Msg), false
				case tb.Limit == imapwire.LimitMaxMessageSize:
					return nil, no("TOOBIG", "Literal size exceeds fixed limit"), false
				}
				return nil, no("", tb.Error()), false
			}
			if err != nil {
				return nil, wireErr(err), false
			}
			v, err := io.ReadAll(lit)
			if err != nil {
				return nil, wireErr(err), false
			}
			c.Value = v
			if c.Value == nil {
				c.Value = []byte{}
			}
		default:
			s, isNil, err := r.ReadNString()
			if err != nil {
				return nil, wireErr(err), false
			}
			if !isNil {
				c.Value = []byte(s)
			}
		}
		changes = append(changes, c)
		ch, err := r.Peek()
		if err != nil {
			return nil, wireErr(err), false
		}
		switch ch {
		case ')':
			r.Expect(')')
			return changes, result{}, true
		case ' ':
			r.SP()
		default:
			return nil, wireErr(&imapwire.SyntaxError{Msg: "Missing close paren in metadata entry list"}), false
		}
	}
}

// metaResult maps a store error of GETMETADATA or SETMETADATA to Cyrus's
// answer: its texts without response codes, and RFC 5464's METADATA
// codes for the limits.
func (ss *session) metaResult(op string, err error) result {
	var me *mailbox.MetadataError
	if errors.As(err, &me) {
		switch me.Code {
		case "MAXSIZE":
			return no(fmt.Sprintf("METADATA MAXSIZE %d", me.Max), me.Msg)
		case "":
			return no("", me.Msg)
		}
		return no("METADATA "+me.Code, me.Msg)
	}
	return ss.mboxResult(op, err)
}
