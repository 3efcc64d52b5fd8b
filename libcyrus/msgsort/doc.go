// Package msgsort holds the pure algorithms of IMAP SORT (RFC 5256) and
// SORT=DISPLAY (RFC 5957): base-subject extraction (RFC 5256 2.1), the
// sent date (2.2), the i;unicode-casemap collation (RFC 5051) that SORT
// compares strings with, and the sort of a list of messages by a sort
// program. It knows nothing of mailboxes or the wire: callers fill a Msg
// per message from whatever they cache and get the order back.
//
// Nothing here keeps state between calls; every function is safe for
// concurrent use.
package msgsort
