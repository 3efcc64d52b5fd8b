// Command ctl_mboxlist is a drop-in for Cyrus's ctl_mboxlist(8) dump and
// undump of the mailbox list:
//
//	ctl_mboxlist [-C imapd.conf] -d [-x] [-p partition] [-f dbdir]
//	ctl_mboxlist [-C imapd.conf] -u [-f dbdir]
//
// -d prints the list in Cyrus 3.6's format: a JSON object with one line
// per mailbox, `"name": {"name": ..., "mtime": ..., "partition": ...,
// "acl": {"alice": "lrswipkxtecdan"}, "uniqueid": ...}`, the fields Cyrus
// has and we keep (there is no murder server, no modseq of the folder
// itself: those print as Cyrus prints them for a fresh mailbox). -x also
// removes the dumped entries, -p dumps one partition only. -u reads such a
// dump (ours or Cyrus's) from stdin and stores the entries; it creates no
// files: run reconstruct on the mailboxes afterwards, which adopts a Cyrus
// spool. -f reads or writes the goleveldb mailbox database at dbdir
// instead of the configured one.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/tool"
)

const program = "ctl_mboxlist"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, tool.Options{}))
}

func usage(stderr io.Writer) int {
	fmt.Fprintf(stderr, "usage: %s [-C <alt_config>] -d [-x] [-p partition] [-f filename]\n", program)
	fmt.Fprintf(stderr, "       %s [-C <alt_config>] -u [-f filename]\n", program)
	return tool.ExitUsage
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer, o tool.Options) int {
	fs, confPath := tool.Flags(program, stderr)
	dump := fs.BoolP("dump", "d", false, "dump the mailbox list")
	undump := fs.BoolP("undump", "u", false, "load a dump from stdin")
	purge := fs.BoolP("purge", "x", false, "with -d: remove the dumped entries")
	partition := fs.StringP("partition", "p", "", "with -d: only this partition")
	dbPath := fs.StringP("file", "f", "", "use the mailbox database at this path")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return usage(stderr)
	}
	if *dump == *undump || fs.NArg() != 0 || (*purge || *partition != "") && !*dump {
		return usage(stderr)
	}
	// -f names the mailbox database to use: the store is then opened
	// here, on that file, instead of on configdirectory's databases.
	open := tool.OpenStore
	if *dbPath != "" {
		open = tool.Start
	}
	env, code := open(program, *confPath, stderr, o)
	if env == nil {
		return code
	}
	defer env.Close()
	s := env.Store
	if *dbPath != "" {
		l, err := cyrusdb.OpenLevel(*dbPath, cyrusdb.WithLogger(env.Logger))
		if err != nil {
			env.Report(err)
			return 1
		}
		defer l.Close()
		s, err = mailbox.New(env.Config, listOnly{list: l, rest: map[string]*cyrusdb.Mem{}}, env.Logger)
		if err != nil {
			env.Report(err)
			return 1
		}
	}
	var err error
	if *dump {
		err = doDump(s, stdout, *partition, *purge)
	} else {
		err = doUndump(s, stdin, stderr)
	}
	if err != nil {
		env.Report(err)
		return 1
	}
	return 0
}

// listOnly serves the mailbox database from -f and empty stand-ins for
// the others, which dump and undump do not touch.
type listOnly struct {
	list cyrusdb.DB
	rest map[string]*cyrusdb.Mem
}

func (l listOnly) DB(name string) (cyrusdb.DB, error) {
	if name == cyrusdb.Mailboxes {
		return l.list, nil
	}
	if l.rest[name] == nil {
		l.rest[name] = cyrusdb.NewMem()
	}
	return l.rest[name], nil
}

// doDump prints the list as Cyrus 3.6 does: "{", then one member per
// mailbox separated by ",\n", then "\n}", each member in jansson's default
// (non-compact) layout.
func doDump(s *mailbox.Store, w io.Writer, partition string, purge bool) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("{\n")
	sep := ""
	var dumped []string
	err := s.Entries("", func(e *mailbox.Entry) error {
		if partition != "" && e.Partition != partition {
			return nil
		}
		bw.WriteString(sep)
		sep = ",\n"
		writeEntry(bw, e)
		dumped = append(dumped, e.Name)
		return nil
	})
	bw.WriteString("\n}\n")
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	if purge {
		for _, name := range dumped {
			if err := s.RemoveEntry(name); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeEntry(w *bufio.Writer, e *mailbox.Entry) {
	mtime := e.Created
	if e.Deleted && e.DeletedAt != 0 {
		mtime = e.DeletedAt
	}
	str := func(key, val string) {
		w.WriteString(", ")
		w.WriteString(jsonString(key))
		w.WriteString(": ")
		w.WriteString(jsonString(val))
	}
	w.WriteString(jsonString(e.Name))
	w.WriteString(": {")
	w.WriteString(`"name": ` + jsonString(e.Name))
	str("mtime", strconv.FormatInt(mtime, 10))
	str("uidvalidity", strconv.FormatUint(uint64(e.UIDValidity), 10))
	str("createdmodseq", "0")
	str("foldermodseq", "0")
	str("mbtype", "e")
	str("partition", e.Partition)
	w.WriteString(`, "acl": {`)
	if a, err := acl.Parse(e.ACL); err == nil {
		for i, ent := range a.Entries() {
			if i > 0 {
				w.WriteString(", ")
			}
			w.WriteString(jsonString(ent.Identifier) + ": " + jsonString(ent.Rights.String()))
		}
	}
	w.WriteString("}")
	str("uniqueid", e.UniqueID)
	if e.SpecialUse != "" {
		str("legacy_specialuse", e.SpecialUse)
	}
	w.WriteString(`, "name_history": []}`)
}

// jsonString quotes s as jansson does by default: UTF-8 kept, "/" not
// escaped, control characters as \uXXXX except the usual short forms.
func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\u%04x`, s[i])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	b.WriteByte('"')
	return b.String()
}

// dumpEntry is one member of a dump, as Cyrus writes it (numbers as
// strings).
type dumpEntry struct {
	Mtime            string          `json:"mtime"`
	UIDValidity      string          `json:"uidvalidity"`
	Mbtype           string          `json:"mbtype"`
	Partition        string          `json:"partition"`
	Server           string          `json:"server"`
	ACL              json.RawMessage `json:"acl"`
	UniqueID         string          `json:"uniqueid"`
	LegacySpecialUse string          `json:"legacy_specialuse"`
}

// doUndump stores every member of the dump on stdin. Like Cyrus it skips,
// with a message, members it cannot use (no partition, no uniqueid) and
// goes on.
func doUndump(s *mailbox.Store, r io.Reader, stderr io.Writer) error {
	var members map[string]json.RawMessage
	if err := json.NewDecoder(r).Decode(&members); err != nil {
		return fmt.Errorf("parse error: %w", err)
	}
	names := make([]string, 0, len(members))
	for k := range members {
		names = append(names, k)
	}
	// Parents first, so the list never holds a child without its parent
	// for long.
	sort.Strings(names)
	for _, name := range names {
		var d dumpEntry
		if err := json.Unmarshal(members[name], &d); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			continue
		}
		if strings.Contains(d.Mbtype, "r") || d.Server != "" {
			fmt.Fprintf(stderr, "%s: remote mailbox skipped\n", name)
			continue
		}
		if strings.Contains(d.Mbtype, "d") {
			continue // a tombstone: the name is free
		}
		if d.Partition == "" {
			fmt.Fprintf(stderr, "missing partition for %s\n", name)
			continue
		}
		if d.UniqueID == "" {
			fmt.Fprintf(stderr, "missing uniqueid for %s\n", name)
			continue
		}
		a, err := aclFromJSON(d.ACL)
		if err != nil {
			fmt.Fprintf(stderr, "bad acl for %s: %v\n", name, err)
			continue
		}
		uidv, _ := strconv.ParseUint(d.UIDValidity, 10, 32)
		mtime, _ := strconv.ParseInt(d.Mtime, 10, 64)
		e := &mailbox.Entry{
			Name:        name,
			UniqueID:    d.UniqueID,
			Partition:   d.Partition,
			ACL:         a,
			SpecialUse:  d.LegacySpecialUse,
			UIDValidity: uint32(uidv),
			Created:     mtime,
			Deleted:     strings.HasPrefix(name, "DELETED."),
		}
		if e.Deleted {
			e.DeletedAt = mtime
		}
		if err := s.PutEntry(e); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
		}
	}
	return nil
}

// aclFromJSON reads the "acl" object in order into the stored form.
func aclFromJSON(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", fmt.Errorf("not an object")
	}
	var b strings.Builder
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return "", err
		}
		var v string
		if err := dec.Decode(&v); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s\t%s\t", k, v)
	}
	a, err := acl.Parse(b.String())
	if err != nil {
		return "", err
	}
	return a.String(), nil
}
