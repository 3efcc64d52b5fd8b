// Package sieve is cyrusgo's one implementation of the Sieve mail
// filtering language (RFC 5228), used by timsieved to check scripts and by
// lmtpd to run them. It owns the lexer, the parser (errors carry line
// numbers: "line 3: unknown command \"fileint\""), the validator and the
// interpreter; it stores nothing and holds no locks: package sievescript
// keeps scripts on disk, and the caller carries out the actions.
//
// # Use
//
//	sc, err := sieve.Compile(src, sieve.CompileOptions{Extensions: exts})
//	msg, err := sieve.NewMessage(spoolFile, size)
//	env := sieve.NewEnv(cfg)            // then Envelope, Addresses, callbacks
//	res, err := sc.Run(ctx, msg, env)   // res.Actions: Keep, FileInto, ...
//
// A *Script is immutable and may run concurrently. Run never panics on a
// script's account: a run-time error (RFC 5228 2.10.6), including
// exceeding a limit, returns a *RuntimeError with a Result holding only
// the implicit keep of the original message.
//
// # Language
//
// RFC 5228 in full, with the extensions Cyrus 3.6 accepts by default that
// are implemented here: fileinto, reject and ereject (RFC 5429), vacation
// and vacation-seconds (RFC 5230, 6131), imap4flags (RFC 5232) and the
// imapflags draft (mark, unmark), envelope, body (RFC 5173), relational
// (RFC 5231), regex (draft-ietf-sieve-regex), subaddress (RFC 5233, "+"
// separator), copy (RFC 3894), include (RFC 6609), variables (RFC 5229),
// date and index (RFC 5260), mailbox, mboxmetadata and servermetadata
// (RFC 5490), duplicate (RFC 7352), editheader (RFC 5293), ihave (RFC
// 5463), environment (RFC 5183), enotify with mailto (RFC 5435, 5436),
// special-use (RFC 8579), fcc (RFC 8580), mailboxid (RFC 9042),
// redirect-dsn and redirect-deliverby (RFC 6009), encoded-character and
// the i;octet, i;ascii-casemap and i;ascii-numeric comparators (RFC 4790).
// Beyond Cyrus: spamtest and virustest (RFC 3685), and mime, foreverypart
// and extracttext (RFC 5703). Not implemented, so never advertised: the
// legacy "notify" draft, extlists (RFC 6134) and Cyrus's vnd.cyrus.*
// extensions and snooze; RFC 5703's replace and enclose.
//
// :regex uses Go's regexp (RE2) with leftmost-longest matching, where
// Cyrus uses POSIX extended regular expressions. The syntax RE2 accepts
// is a superset of POSIX ERE with two differences that matter: no
// back-references (\1 in a pattern is an error), and Perl classes (\d, \w,
// \s) are understood rather than taken literally. i;ascii-casemap matches
// case-blind, i;octet exactly; i;ascii-numeric cannot be used with it.
// Matching is linear in the input, whatever the pattern.
//
// # Limits
//
// Limits bounds the script size (sieve_maxscriptsize), nesting, the
// number of commands, the steps of a run (every test and command counts,
// and matching counts the characters it examines, so :matches and :regex
// over large bodies stop at the limit), actions, redirects, include depth
// and count, variables and their size (RFC 5229 6: values are truncated),
// regular expression size, body bytes examined and MIME parts visited by
// foreverypart. Sieve has no other loops, so every run ends.
package sieve
