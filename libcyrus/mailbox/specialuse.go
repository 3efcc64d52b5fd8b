package mailbox

import "strings"

// SpecialUses are the RFC 6154 2 attributes (with \Important, RFC 8457,
// and Cyrus's \Snoozed) that Cyrus 3.6 lets a user set on a mailbox;
// \All and \Flagged describe virtual mailboxes it does not have.
const SpecialUses = `\Archive \Drafts \Important \Junk \Sent \Snoozed \Trash`

// CanonicalSpecialUse returns the canonical spelling of use if it is one
// of SpecialUses or of extra (specialuse_extra); ok is false otherwise.
func CanonicalSpecialUse(use string, extra []string) (string, bool) {
	for _, u := range append(strings.Fields(SpecialUses), extra...) {
		if strings.EqualFold(u, use) {
			return u, true
		}
	}
	return "", false
}

// HasSpecialUse reports whether e carries the attribute use (case-blind;
// the stored value lists attributes separated by blanks).
func (e *Entry) HasSpecialUse(use string) bool {
	for _, u := range strings.Fields(e.SpecialUse) {
		if strings.EqualFold(u, use) {
			return true
		}
	}
	return false
}
