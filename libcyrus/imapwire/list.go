package imapwire

// ReadList reads a parenthesised list: "(" [elem *(SP elem)] ")", calling
// elem for each element; elem reads exactly one element and may call
// ReadList again, up to MaxListDepth levels. An empty list "()" calls elem
// never.
func (r *Reader) ReadList(elem func(r *Reader) error) error {
	if err := r.Expect('('); err != nil {
		return err
	}
	if r.depth >= MaxListDepth {
		return syntaxErr("lists nested too deeply")
	}
	r.depth++
	defer func() { r.depth-- }()
	c, err := r.peek()
	if err != nil {
		return err
	}
	if c == ')' {
		return r.advance(1)
	}
	for {
		if err := elem(r); err != nil {
			return err
		}
		c, err := r.Peek()
		if err != nil {
			return err
		}
		switch c {
		case ')':
			return r.advance(1)
		case ' ':
			if err := r.advance(1); err != nil {
				return err
			}
		default:
			return syntaxErr("expected space or \")\" in list, got " + describe(c))
		}
	}
}

// ReadFlag reads one flag (RFC 3501 section 9): a system flag or
// flag-extension, "\" atom, or a flag-keyword, atom; case kept. "\*" is
// not a flag (it exists only in PERMANENTFLAGS).
func (r *Reader) ReadFlag() (string, error) {
	if err := r.begin(); err != nil {
		return "", err
	}
	c, err := r.peek()
	if err != nil {
		return "", err
	}
	r.buf = r.buf[:0]
	max := r.lim.MaxWord
	if c == '\\' {
		if err := r.advance(1); err != nil {
			return "", err
		}
		r.buf = append(r.buf, '\\')
		if max > 0 {
			max++
		}
	}
	if err := r.scanAppend(flagChars, max, LimitMaxWord); err != nil {
		return "", err
	}
	if len(r.buf) == 0 || r.buf[0] == '\\' && len(r.buf) == 1 {
		return "", r.unexpected("flag")
	}
	return string(r.buf), nil
}

// ReadFlagList reads a flag-list: "(" [flag *(SP flag)] ")" (RFC 3501
// section 9), as STORE and APPEND take it.
func (r *Reader) ReadFlagList() ([]string, error) {
	var flags []string
	err := r.ReadList(func(r *Reader) error {
		f, err := r.ReadFlag()
		if err != nil {
			return err
		}
		flags = append(flags, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return flags, nil
}
