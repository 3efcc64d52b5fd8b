// Package auth is the one implementation of authentication that every
// cyrusgo protocol (IMAP, POP3, LMTP, ManageSieve) uses: password checking
// as sasl_pwcheck_method says, the native user store, the SASL server
// mechanisms, the authorization rules (admins, proxyservers, loginrealms,
// virtdomains) and the log lines and delays of failed logins.
//
// What it owns:
//
//   - Checker verifies a user name and password with the methods of
//     sasl_pwcheck_method, in order, as libsasl's sasl_checkpass does:
//     "saslauthd" (the saslauthd socket protocol on sasl_saslauthd_path),
//     "auxprop" (the native user store, the cyrusdb database "users") and
//     "alwaystrue" (accepts anything; tests only). "pwcheck" and
//     "authdaemond" are accepted by the configuration parser, because Cyrus
//     accepts them, and fail at use with a clear message.
//   - The user store (store.go) keeps, per user, a salted PBKDF2-SHA256 hash
//     for PLAIN, LOGIN and the LOGIN/USER+PASS commands, and SCRAM-SHA-1 and
//     SCRAM-SHA-256 verifiers (salt, iterations, StoredKey, ServerKey,
//     RFC 5802 section 3), so SCRAM works without the plaintext password.
//     It keeps nothing CRAM-MD5 or DIGEST-MD5 could use (they need the
//     plaintext or an MD5 of it), so those mechanisms are never offered.
//   - Authenticator is the SASL server side (RFC 4422): the mechanism list a
//     protocol advertises, a Session per AUTHENTICATE exchange, and Login
//     for the IMAP LOGIN and POP3 USER/PASS commands. Both end in a Result
//     or an *Error whose text is libsasl's "SASL(-13): ..." detail.
//   - LoginLine, BadLoginLine and Delay give every protocol Cyrus's
//     "login: ..." and "badlogin: ..." syslog lines and a growing delay
//     after each failure on a connection.
//
// User names are canonicalised as Cyrus's canonify_userid and auth_unix do
// (CanonUser): the default domain is stripped under virtdomains, "%" is
// read as "@", and names are lower-cased when username_tolower is set (the
// Cyrus default).
//
// Nothing here holds package-level mutable state. A Checker and an
// Authenticator are immutable after construction and safe for concurrent
// use; a Session and a Delay belong to one connection and are not.
package auth
