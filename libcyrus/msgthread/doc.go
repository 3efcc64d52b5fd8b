// Package msgthread holds the threading algorithms of IMAP THREAD (RFC
// 5256 3): ORDEREDSUBJECT and REFERENCES, and the thread-list encoding of
// the THREAD response (RFC 5256 4). Callers fill a Msg per message (base
// subjects and sent dates come from package msgsort) and get a forest of
// Nodes back.
//
// The functions keep no state between calls and are safe for concurrent
// use. Trees can be as deep as the mailbox is large, so every walk over
// them is iterative: a long reply chain costs heap, never stack.
package msgthread

import "time"

// Msg is what threading needs of one message.
type Msg struct {
	// Seq is the message sequence number, the tie-breaker of equal sent
	// dates (RFC 5256 2.2) and the number Node carries.
	Seq uint32
	// Sent is the sent date (msgsort.SentDate).
	Sent time.Time
	// Subject is the base subject (msgsort.BaseSubject) and Reply
	// whether extracting it showed a reply or forward.
	Subject string
	Reply   bool
	// MessageID is the first msg-id of Message-ID ("" for none);
	// References and InReplyTo are the msg-ids of those fields. Ids are
	// compared case-sensitively after NormalizeID.
	MessageID  string
	References []string
	InReplyTo  []string
}

// Node is one member of a thread: a message, or a dummy (Seq 0) that
// stands for a parent that is missing and groups its children.
type Node struct {
	Seq      uint32
	Children []*Node
}
