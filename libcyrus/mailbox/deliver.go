package mailbox

// AppendUnchecked is Append without the quota check, for a caller that
// applies its own quota policy: lmtpd refuses only a mailbox that is over
// quota already unless lmtp_strict_quota is set, and never checks for a
// recipient given with IGNOREQUOTA, as Cyrus's lmtpd does. Usage is still
// recorded.
func (m *Mailbox) AppendUnchecked(items []AppendItem) ([]uint32, error) {
	return m.appendItems(items, false)
}
