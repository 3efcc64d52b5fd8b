package sieve

import (
	"crypto/sha256"
	"fmt"
	"slices"
)

// Script is a compiled (parsed and validated) script. It is immutable and
// safe for concurrent use by many runs.
type Script struct {
	// Commands is the syntax tree.
	Commands []*Node
	// Require lists the capabilities the script requires, sorted.
	Require []string
	// SourceHash is the SHA-256 of the source as compiled, so that a
	// cached compiled form can be matched with its source.
	SourceHash [32]byte
	// Extensions is the capability list the script was validated
	// against; a cached form compiled under another sieve_extensions is
	// compiled again.
	Extensions string
}

// CompileOptions shape compilation.
type CompileOptions struct {
	// Extensions are the capabilities scripts may require; nil means
	// DefaultExtensions.
	Extensions *Extensions
	// Limits bound the script; MaxScriptSize, MaxNesting and MaxNodes
	// apply at compile time.
	Limits Limits
}

// Compile parses and validates a script (RFC 5228 plus the extensions in
// opts). A script that does not compile gives a *CompileError whose
// lines carry line numbers.
func Compile(src []byte, opts CompileOptions) (*Script, error) {
	lim := opts.Limits.withDefaults()
	exts := opts.Extensions
	if exts == nil {
		exts = DefaultExtensions()
	}
	if len(src) > lim.MaxScriptSize {
		return nil, &CompileError{Errs: []*Error{{Line: 1, Msg: fmt.Sprintf("script is larger than %d bytes", lim.MaxScriptSize)}}}
	}
	text := normalizeLines(src)
	cmds, err := parse(text, lim)
	if err != nil {
		return nil, &CompileError{Errs: []*Error{err.(*Error)}}
	}
	req, errs := validate(cmds, exts, lim)
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b *Error) int { return a.Line - b.Line })
		return nil, &CompileError{Errs: errs}
	}
	return &Script{Commands: cmds, Require: req, SourceHash: sha256.Sum256(src), Extensions: exts.Capability()}, nil
}

// Requires reports whether the script requires the capability.
func (s *Script) Requires(capability string) bool {
	_, ok := slices.BinarySearch(s.Require, capability)
	return ok
}
