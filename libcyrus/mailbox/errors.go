package mailbox

import (
	"errors"
	"fmt"
)

// Code classifies a store error for the protocols: IMAP maps it to a
// response code (NO [NOPERM] ...), LMTP to 4xx or 5xx.
type Code int

// The error codes.
const (
	CodeInternal      Code = iota // a bug or corruption: NO, or LMTP 451
	CodeNoPerm                    // the ACL does not allow it
	CodeNonexistent               // no such mailbox
	CodeAlreadyExists             // the name is taken
	CodeOverQuota                 // the quota root is full
	CodeHasChildren               // DELETE of a mailbox with children
	CodeBadName                   // the name is not allowed
	CodeLimit                     // a configured limit (keywords, size)
	CodeTemporary                 // try again later (disk full, I/O)
)

// Error is what store operations return for anything a client caused or
// should hear about.
type Error struct {
	Code Code
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

func errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// CodeOf returns err's Code, CodeInternal when it has none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrNoPerm, ErrNonexistent and friends are the plain forms, for errors.Is.
var (
	ErrNoPerm      = &Error{Code: CodeNoPerm, Msg: "Permission denied"}
	ErrNonexistent = &Error{Code: CodeNonexistent, Msg: "Mailbox does not exist"}
	ErrOverQuota   = &Error{Code: CodeOverQuota, Msg: "Over quota"}
)

// Is makes errors.Is(err, ErrNoPerm) true for any error of that code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && e.Code == t.Code
}
