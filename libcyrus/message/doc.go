// Package message parses an RFC 5322 message once, at append time, into a
// Summary that the mailbox store keeps in its cache file (DESIGN.md 3), so
// that IMAP FETCH, SEARCH, SORT and THREAD never parse the message again.
//
// Parse reads the message as a stream in a single pass. It keeps the header
// fields it needs and the byte offsets of every part's header and body, never
// the bodies themselves, so a large attachment costs only its SHA-1 (the
// GUID) and a line count. Options bound what hostile input can cost: header
// bytes per part, MIME depth, number of parts and total retained bytes.
//
// Broken MIME never fails a parse (only I/O errors do): a missing Content-Type
// means text/plain; charset=us-ascii (RFC 2045 5.2), a multipart whose
// boundary never appears becomes a text/plain part, an unterminated
// multipart ends at the end of the message, and undecodable header fields are
// ignored, as Cyrus does.
//
// The Summary renders the IMAP ENVELOPE and BODY/BODYSTRUCTURE items in the
// shape Cyrus 3.6 emits (RFC 3501 7.4.2 and section 9), resolves BODY[section]
// specifiers to byte ranges of the message file, and decodes part bodies to
// UTF-8 for SEARCH. MarshalBinary and Unmarshal are the cache encoding.
//
// Nothing here holds locks or package state: a Summary is a value, safe for
// concurrent readers once built.
package message
