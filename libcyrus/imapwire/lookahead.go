package imapwire

// PeekAfterSP returns the byte after a space that comes next, without
// consuming either; ok is false when no space comes next. It tells
// "ITEM (modifiers)" from "ITEM SP next-item" (RFC 8970 PREVIEW (LAZY)).
// It waits for one byte past the space, which a complete command always
// has.
func (r *Reader) PeekAfterSP() (c byte, ok bool) {
	if !r.PeekSP() {
		return 0, false
	}
	b, err := r.br.Peek(2)
	if err != nil || len(b) < 2 {
		return 0, false
	}
	return b[1], true
}
