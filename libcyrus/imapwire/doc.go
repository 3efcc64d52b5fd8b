// Package imapwire is the server side of the IMAP wire protocol: a
// streaming decoder for client commands (Reader) and a buffered encoder for
// server responses (Writer). It owns the grammar of RFC 3501 sections 4 and
// 9 (atoms, quoted strings, literals, numbers, sequence sets, flag lists,
// dates), the literal extensions LITERAL+ and LITERAL- (RFC 7888) and
// literal8 (RFC 3516), and the size limits Cyrus applies while parsing
// (imapd.conf maxword, maxquoted, maxliteral, maxargssize, maxmessagesize,
// literalminus). It knows nothing of commands: the IMAP engine pulls tokens
// from a Reader in the order its grammar wants them, so a literal is read
// (and, for a synchronizing literal, the "+ go ahead" continuation is sent)
// only when the engine reaches it and after its size has been checked.
//
// Reading a command:
//
//	tag, err := r.ReadTag()      // starts the command
//	err = r.SP()
//	name, err := r.ReadAtom()
//	...                          // ReadAString, ReadSequenceSet, ReadList, ...
//	err = r.ReadEOL()            // ends it
//
// On any error that is not an I/O error (IsClientError) the engine answers
// BAD or NO and calls SkipLine, which discards the rest of the command,
// including the bytes of every non-synchronizing literal announced in it, so
// that literal data is never parsed as a command. A synchronizing literal
// that was refused ends the command where it stands: a compliant client
// sends its bytes only after the "+" continuation, which it never got.
//
// Memory per connection is bounded whatever the client sends: every token
// is limited (Limits), and the bytes of one command that the Reader
// examines or returns in memory are limited by Limits.MaxLine; only the
// contents of literals streamed with ReadLiteralReader (APPEND) bypass it,
// and those are never buffered whole.
//
// A Reader and a Writer belong to one connection and are not safe for
// concurrent use. Nothing in the package holds mutable package-level state.
package imapwire
