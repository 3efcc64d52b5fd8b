package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/tool"
)

// storeBatch is how many messages one AppendBatch holds: one syncfs each.
const storeBatch = 5000

// imapBatch is how many messages one MULTIAPPEND carries.
const imapBatch = 100

// fill describes a mailbox a workload needs: its name under the user's
// personal namespace and how to make its messages.
type fill struct {
	name string
	n    int
	gen  func(i int) []byte
}

// populateStore fills the mailboxes of a self-started server straight
// through the mail store, as the admin tools open it while master is
// down: the user's INBOX and each fill as a child of it ("user.<u>.<name>"
// in the sample configuration's namespace).
func populateStore(confPath, userName string, fills []fill, pr *progress) error {
	env, code := tool.OpenStore("cyrusbench", confPath, io.Discard, tool.Options{LogWriter: io.Discard})
	if env == nil {
		return fmt.Errorf("open the store of %s: exit status %d", confPath, code)
	}
	defer env.Close()
	s := env.Store
	admin := acl.Identity{UserID: "cyrus", Admin: true}
	inbox := "user." + userName
	if _, err := s.Create(admin, inbox, mailbox.CreateOptions{}); err != nil && mailbox.CodeOf(err) != mailbox.CodeAlreadyExists {
		return fmt.Errorf("create %s: %w", inbox, err)
	}
	for _, f := range fills {
		name := inbox + "." + f.name
		if _, err := s.Create(admin, name, mailbox.CreateOptions{}); err != nil && mailbox.CodeOf(err) != mailbox.CodeAlreadyExists {
			return fmt.Errorf("create %s: %w", name, err)
		}
		m, err := s.OpenForDelivery(name)
		if err != nil {
			return fmt.Errorf("open %s: %w", name, err)
		}
		pr.begin("populate "+f.name+" (store)", f.n)
		for from := 0; from < f.n; from += storeBatch {
			to := min(from+storeBatch, f.n)
			batch := make([]mailbox.BatchMessage, 0, to-from)
			for i := from; i < to; i++ {
				batch = append(batch, mailbox.BatchMessage{Data: f.gen(i), InternalDate: msgDate(i)})
			}
			if _, err := m.AppendBatch(batch); err != nil {
				m.Close()
				return fmt.Errorf("append to %s: %w", name, err)
			}
			pr.add(to - from)
		}
		pr.end()
		m.Close()
	}
	return nil
}

// namespace is the user's personal namespace (RFC 2342): where a bench
// mailbox is created and the hierarchy separator.
type namespace struct{ prefix, sep string }

// personalNamespace asks the server with NAMESPACE; a server without it
// gets "INBOX." (Cyrus's classic namespace).
func personalNamespace(ic *imapConn) namespace {
	res, err := ic.cmd("NAMESPACE")
	if err != nil {
		return namespace{prefix: "INBOX.", sep: "."}
	}
	for _, l := range res.untagged {
		if ns, ok := parseNamespace(l); ok {
			return ns
		}
	}
	return namespace{prefix: "INBOX.", sep: "."}
}

// parseNamespace reads the first personal namespace of a NAMESPACE
// response: * NAMESPACE (("INBOX." ".")) NIL NIL.
func parseNamespace(line string) (namespace, bool) {
	rest, ok := strings.CutPrefix(line, "* NAMESPACE ((")
	if !ok {
		return namespace{}, false
	}
	var parts []string
	for len(parts) < 2 {
		rest = strings.TrimLeft(rest, " ")
		if strings.HasPrefix(rest, "NIL") {
			parts = append(parts, "")
			rest = rest[3:]
			continue
		}
		s, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return namespace{}, false
		}
		u, err := strconv.Unquote(s)
		if err != nil {
			return namespace{}, false
		}
		parts = append(parts, u)
		rest = rest[len(s):]
	}
	return namespace{prefix: parts[0], sep: parts[1]}, true
}

// messageCount is the number of messages of mbox, or -1 if it does not
// exist.
func messageCount(ic *imapConn, mbox string) (int, error) {
	res, err := ic.cmd("STATUS %s (MESSAGES)", quote(mbox))
	if err != nil {
		if strings.Contains(err.Error(), "NO") {
			return -1, nil
		}
		return 0, err
	}
	for _, l := range res.untagged {
		if _, rest, ok := strings.Cut(l, "(MESSAGES "); ok {
			n, err := strconv.Atoi(strings.TrimRight(rest, ")"))
			if err == nil {
				return n, nil
			}
		}
	}
	return 0, errors.New("STATUS: no MESSAGES in the answer")
}

// populateIMAP makes sure mbox exists and holds at least f.n messages,
// appending the missing ones in MULTIAPPEND batches; a mailbox filled by
// an earlier run is reused as it is.
func populateIMAP(ic *imapConn, mbox string, f fill, pr *progress) error {
	have, err := messageCount(ic, mbox)
	if err != nil {
		return err
	}
	if have < 0 {
		if _, err := ic.cmd("CREATE %s", quote(mbox)); err != nil {
			return fmt.Errorf("create %s: %w", mbox, err)
		}
		have = 0
	}
	if have >= f.n {
		return nil
	}
	pr.begin("populate "+f.name+" (IMAP)", f.n-have)
	defer pr.end()
	for from := have; from < f.n; from += imapBatch {
		to := min(from+imapBatch, f.n)
		msgs := make([][]byte, 0, to-from)
		for i := from; i < to; i++ {
			msgs = append(msgs, f.gen(i))
		}
		if _, err := ic.appendMsgs(mbox, msgs); err != nil {
			return fmt.Errorf("append to %s: %w", mbox, err)
		}
		pr.add(to - from)
	}
	return nil
}
