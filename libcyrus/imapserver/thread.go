package imapserver

// THREAD and UID THREAD (RFC 5256 3) with the ORDEREDSUBJECT and
// REFERENCES algorithms of package msgthread. Messages are chosen by the
// SEARCH criteria (search.go, search_eval.go); subjects, dates and
// message ids come from the cached summary, never from the message files.

import (
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/imapwire"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/msgsort"
	"github.com/cyrusgo/cyrusgo/libcyrus/msgthread"
)

func cmdThread(ss *session, tag string) result    { return ss.thread(false) }
func cmdUIDThread(ss *session, tag string) result { return ss.thread(true) }

// threadAlgorithm returns the thread-alg (RFC 5256 5) named name, one of
// those offered as THREAD= capabilities, or nil.
func threadAlgorithm(name string) func([]msgthread.Msg) []*msgthread.Node {
	switch strings.ToUpper(name) {
	case "ORDEREDSUBJECT":
		return msgthread.OrderedSubject
	case "REFERENCES":
		return msgthread.References
	}
	return nil
}

func (ss *session) thread(byUID bool) result {
	start := time.Now()
	r := ss.r
	if err := r.SP(); err != nil {
		return wireErr(err)
	}
	name, err := r.ReadAtom()
	if err != nil {
		if !imapwire.IsClientError(err) {
			return wireErr(err)
		}
		return wireErr(syntax("Missing algorithm in Thread"))
	}
	alg := threadAlgorithm(name)
	if alg == nil {
		return wireErr(syntax("Invalid Thread algorithm " + name))
	}
	prog, res, ok := ss.readSearchCriteria()
	if !ok {
		return res
	}
	var msgs []msgthread.Msg
	uidOf := make([]uint32, len(ss.mbox.UIDs())+1) // by sequence number
	err = ss.eachMatch(prog, func(seq uint32, rec *mailbox.Record, ev *searchEval) error {
		msgs = append(msgs, threadMsg(seq, rec, ev))
		if int(seq) < len(uidOf) {
			uidOf[seq] = rec.UID
		}
		return nil
	})
	if err != nil {
		return wireErr(err)
	}
	roots := alg(msgs)
	num := func(seq uint32) uint32 { return seq }
	if byUID {
		num = func(seq uint32) uint32 { return uidOf[seq] }
	}
	// RFC 5256 4: "* THREAD" and the thread-lists with no space between.
	out := []byte("* THREAD ")
	if len(roots) == 0 {
		out = out[:len(out)-1]
	}
	out = msgthread.AppendThreads(out, roots, num)
	ss.w.Raw(string(out))
	ss.w.CRLF()
	if err := ss.w.Err(); err != nil {
		return wireErr(err)
	}
	// RFC 5256 3: no EXPUNGE during THREAD; UID THREAD may have them.
	if err := ss.sendUpdates(byUID); err != nil {
		return storeResult(err)
	}
	return completed(len(msgs), start)
}

// threadMsg takes what threading needs from the cached summary. The base
// subject is extracted again from the raw Subject, since REFERENCES also
// needs to know whether it was a reply or forward; a message whose cache
// entry cannot be read threads alone, by its internal date.
func threadMsg(seq uint32, rec *mailbox.Record, ev *searchEval) msgthread.Msg {
	m := msgthread.Msg{Seq: seq, Sent: rec.InternalDate.UTC()}
	sum := ev.summary()
	if sum == nil {
		return m
	}
	m.Sent = msgsort.SentDate(sum.Date, rec.InternalDate)
	if sum.Root != nil && sum.Root.Envelope != nil {
		m.Subject, m.Reply = msgsort.BaseSubject(sum.Root.Envelope.Subject.S)
	}
	m.MessageID = sum.MessageID
	m.References = sum.References
	m.InReplyTo = sum.InReplyTo
	return m
}
