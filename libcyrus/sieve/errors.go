package sieve

import (
	"errors"
	"fmt"
	"strings"
)

// Error is one problem found in a script, with the line it is on. Its
// text is the form Cyrus's timsieved reports, "line 3: unknown command
// \"fileint\"", which ManageSieve clients show to users (RFC 5804 2.12:
// "a specific error message giving the line number").
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// CompileError is a script that does not compile: a syntax error (the
// parser stops at the first) or the validation errors found, in line
// order, at most maxErrors of them.
type CompileError struct {
	Errs []*Error
}

// maxErrors bounds the errors one compilation reports; a hostile script
// must not make the report as big as itself many times over.
const maxErrors = 10

func (e *CompileError) Error() string {
	lines := make([]string, len(e.Errs))
	for i, x := range e.Errs {
		lines[i] = x.Error()
	}
	return strings.Join(lines, "\n")
}

// Lines returns each error as "line N: message".
func (e *CompileError) Lines() []string {
	out := make([]string, len(e.Errs))
	for i, x := range e.Errs {
		out[i] = x.Error()
	}
	return out
}

// RuntimeError is a failure while running a script: RFC 5228 2.10.6
// says the message is then kept (implicit keep) and the error reported.
// Run returns it with a Result that holds only that keep.
type RuntimeError struct {
	Line int
	Msg  string
}

func (e *RuntimeError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("sieve runtime error: line %d: %s", e.Line, e.Msg)
	}
	return "sieve runtime error: " + e.Msg
}

// ErrStepLimit is wrapped by the RuntimeError of a script that ran past
// Limits.MaxSteps.
var ErrStepLimit = errors.New("step limit exceeded")

// ErrNotFound is what an Env.Include callback returns for a script that
// does not exist; include :optional then goes on (RFC 6609 3.2).
var ErrNotFound = errors.New("script not found")

// runtimeError is raised inside the interpreter with panic and recovered
// once in Run, so that deep evaluation code need not thread errors
// through every comparison; it never escapes the package.
type runtimeError struct{ err *RuntimeError }

func throwf(line int, format string, args ...any) {
	panic(runtimeError{&RuntimeError{Line: line, Msg: fmt.Sprintf(format, args...)}})
}
