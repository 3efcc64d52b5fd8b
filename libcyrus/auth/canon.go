package auth

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
)

// MaxUserLen bounds a user name in bytes, domain included. Cyrus's
// auth_unix canonicaliser works in a fixed buffer; 255 is the longest
// name any of its backends accepts in practice (the SMTP/LMTP local part
// limit is 64, a domain name 253).
const MaxUserLen = 255

// CanonUser returns user in Cyrus's canonical form, as canonify_userid
// (imap/global.c) and the auth_unix canonicaliser do before any password
// check or ACL lookup:
//
//   - with virtdomains "userid" or "on", the last "@" or "%" splits the
//     domain ("alice%example.com" is "alice@example.com"), the domain is
//     lower-cased, and a domain equal to defaultdomain is dropped;
//   - with username_tolower (Cyrus's default), ASCII letters are
//     lower-cased, as auth_unix does;
//   - control characters, spaces and invalid UTF-8 are refused.
//
// virtdomains "on" in Cyrus can also take the domain from the server
// address a client connected to; cyrusgo does not, so unqualified names
// stay in the default domain.
func CanonUser(cfg *config.Config, user string) (string, error) {
	if err := validUser(user); err != nil {
		return "", err
	}
	if cfg.Enum(config.VirtDomains) != "off" {
		if i := strings.LastIndexAny(user, "@%"); i >= 0 {
			local, domain := user[:i], strings.ToLower(user[i+1:])
			if local == "" || domain == "" {
				return "", fmt.Errorf("user %q: empty local part or domain", user)
			}
			if strings.EqualFold(domain, cfg.String(config.DefaultDomain)) {
				user = local
			} else {
				user = local + "@" + domain
			}
		}
	}
	if cfg.Bool(config.UsernameToLower) {
		user = asciiLower(user)
	}
	return user, nil
}

// validUser refuses names no Cyrus backend would accept: empty, too long,
// not UTF-8, or holding spaces or control characters (which would break
// the protocol lines and log lines they appear in).
func validUser(user string) error {
	if user == "" {
		return fmt.Errorf("empty user name")
	}
	if len(user) > MaxUserLen {
		return fmt.Errorf("user name longer than %d bytes", MaxUserLen)
	}
	if !utf8.ValidString(user) {
		return fmt.Errorf("user name is not UTF-8")
	}
	for _, r := range user {
		if r <= ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return fmt.Errorf("user name %q holds a space or control character", user)
		}
	}
	return nil
}

// asciiLower lower-cases A-Z only: auth_unix uses tolower() in the C
// locale, which leaves every other byte alone.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// IsAdmin reports whether userid is in admins. cfg is the configuration
// of the running service, so "lmtp_admins" is what an lmtp service reads
// and "imap_admins" an imap one, as in Cyrus; use cfg.WithService to ask
// about another service. Entries are canonicalised like user names; group
// entries ("group:...") need a group backend cyrusgo does not have and
// never match.
func IsAdmin(cfg *config.Config, userid string) bool {
	return inList(cfg, cfg.List(config.Admins), userid)
}

// IsProxyServer reports whether userid is in proxyservers: allowed to
// authorize as any other user.
func IsProxyServer(cfg *config.Config, userid string) bool {
	return inList(cfg, cfg.List(config.ProxyServers), userid)
}

func inList(cfg *config.Config, list []string, userid string) bool {
	id, err := CanonUser(cfg, userid)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(list, func(entry string) bool {
		c, err := CanonUser(cfg, entry)
		return err == nil && c == id
	})
}

// checkRealm applies Cyrus's cross-realm rule (mysasl_proxy_policy): an
// authentication identity with an "@" is a cross-realm login unless
// virtdomains is on and loginrealms is empty, in which case "@" names a
// virtual domain; a cross-realm login is allowed only from a realm listed
// in loginrealms. CanonUser has already dropped the default domain.
func checkRealm(cfg *config.Config, authid string) error {
	i := strings.IndexByte(authid, '@')
	if i < 0 {
		return nil
	}
	realms := cfg.List(config.LoginRealms)
	if cfg.Enum(config.VirtDomains) != "off" && len(realms) == 0 {
		return nil
	}
	realm := authid[i+1:]
	if slices.ContainsFunc(realms, func(r string) bool { return strings.EqualFold(r, realm) }) {
		return nil
	}
	return newError(ErrCrossRealm, authid, fmt.Sprintf("cross-realm login %s denied", authid), nil)
}
