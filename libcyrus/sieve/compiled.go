package sieve

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
)

// The compiled form of a script, which the script store keeps beside the
// source as "<name>.bc" (Cyrus's name for its bytecode files). It is the
// validated syntax tree in encoding/gob behind a magic line and a format
// version; anything that does not decode is reported as ErrBadCompiled and
// the caller compiles the source again. Cyrus's own .bc files start
// differently and are refused the same way, and Cyrus rebuilds bytecode
// it does not recognise from the source, so both can share a sievedir.

const (
	compiledMagic   = "CyrusGoSieve\n"
	compiledVersion = 1
)

// ErrBadCompiled is returned for compiled data that is not ours, of
// another format version, or damaged.
var ErrBadCompiled = errors.New("not a compiled script of this version")

type scriptData Script

// MarshalBinary encodes the compiled script.
func (s *Script) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(compiledMagic)
	b.WriteByte(compiledVersion)
	// scriptData has Script's fields without its methods, so that gob
	// encodes the fields rather than calling MarshalBinary again.
	if err := gob.NewEncoder(&b).Encode((*scriptData)(s)); err != nil {
		return nil, fmt.Errorf("encode compiled script: %w", err)
	}
	return b.Bytes(), nil
}

// UnmarshalScript decodes what MarshalBinary produced.
func UnmarshalScript(data []byte) (s *Script, err error) {
	if !bytes.HasPrefix(data, []byte(compiledMagic)) || len(data) < len(compiledMagic)+1 ||
		data[len(compiledMagic)] != compiledVersion {
		return nil, ErrBadCompiled
	}
	defer func() {
		// gob reports most damage as errors, but a corrupt stream is
		// not something to trust a library never to panic on.
		if p := recover(); p != nil {
			s, err = nil, fmt.Errorf("%w: %v", ErrBadCompiled, p)
		}
	}()
	s = &Script{}
	if err := gob.NewDecoder(bytes.NewReader(data[len(compiledMagic)+1:])).Decode((*scriptData)(s)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCompiled, err)
	}
	if !wellFormed(s.Commands, 0) {
		return nil, fmt.Errorf("%w: malformed tree", ErrBadCompiled)
	}
	return s, nil
}

// wellFormed checks what the interpreter relies on without looking: the
// arities the validator guaranteed. A damaged file that decodes must not
// crash a delivery.
func wellFormed(ns []*Node, depth int) bool {
	if depth > 200 {
		return false
	}
	for _, n := range ns {
		if n == nil {
			return false
		}
		spec := commandSpecs[n.Name]
		if spec == nil {
			spec = testSpecs[n.Name]
		}
		if spec == nil {
			return false
		}
		if len(n.Pos) < len(spec.pos)-spec.optTrail || len(n.Pos) > len(spec.pos) {
			return false
		}
		for _, a := range n.Pos {
			if a.Kind == ArgStrings && len(a.Strs) == 0 {
				return false
			}
		}
		for _, a := range n.Tags {
			if a.Kind == ArgStrings && len(a.Strs) == 0 {
				return false
			}
		}
		if spec.test == 1 && len(n.Tests) != 1 || spec.test == 2 && len(n.Tests) == 0 {
			return false
		}
		if !wellFormed(n.Tests, depth+1) {
			return false
		}
		// An unchecked block (if ihave of a missing capability) was
		// never validated and never runs.
		if !n.Unchecked && !wellFormed(n.Block, depth+1) {
			return false
		}
	}
	return true
}
