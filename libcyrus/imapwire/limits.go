package imapwire

import (
	"errors"
	"math"
	"strconv"
)

// Cyrus 3.6 defaults of the imapd.conf options behind Limits.
const (
	DefaultMaxWord    = 131072 // maxword
	DefaultMaxQuoted  = 131072 // maxquoted
	DefaultMaxLiteral = 131072 // maxliteral
	// DefaultMaxLine is the least memory budget of one command (see
	// Limits.MaxLine). It is not a Cyrus option: Cyrus has no line limit
	// and relies on the per-token limits alone.
	DefaultMaxLine = 1 << 20
	// LiteralMinusMax is the largest non-synchronizing literal a client may
	// send when LITERAL- is advertised (RFC 7888 section 5).
	LiteralMinusMax = 4096
	// MaxLiteralSize is the largest literal size accepted at all: RFC 3501
	// section 9 makes the size a 32-bit number, and Cyrus refuses more.
	MaxLiteralSize = math.MaxUint32
	// MaxListDepth bounds the nesting of ReadList.
	MaxListDepth = 64
)

// Names of the limits, as LimitError.Limit and LiteralTooBigError.Limit
// report them. All but LimitMaxLine are the imapd.conf options.
const (
	LimitMaxWord        = "maxword"
	LimitMaxQuoted      = "maxquoted"
	LimitMaxLiteral     = "maxliteral"
	LimitMaxArgsSize    = "maxargssize"
	LimitMaxMessageSize = "maxmessagesize"
	LimitLiteralMinus   = "literalminus"
	LimitMaxLine        = "maxline"
)

// Limits bounds what a Reader accepts. The fields mirror the imapd.conf
// options and, as in Cyrus, 0 means "no limit"; DefaultLimits gives Cyrus
// 3.6's defaults. MaxLine is the exception: it is the memory backstop and is
// never unlimited.
type Limits struct {
	// MaxLine bounds the bytes of one command that the Reader examines or
	// returns in memory: the command text and the contents of literals read
	// as strings. Only literals streamed with ReadLiteralReader are not
	// counted. 0 (or less) means the larger of DefaultMaxLine and twice the
	// largest of MaxWord, MaxQuoted and MaxLiteral.
	MaxLine int
	// MaxWord bounds one atom, tag, number or sequence set (maxword;
	// Cyrus: "[TOOBIG] Word too long").
	MaxWord int
	// MaxQuoted bounds the contents of one quoted string (maxquoted).
	MaxQuoted int
	// MaxLiteral bounds one literal read as a string, that is every literal
	// except those streamed with ReadLiteralReader (maxliteral).
	MaxLiteral int
	// MaxAppendLiteral bounds literals streamed with ReadLiteralReader
	// (maxmessagesize). Whatever it says, sizes above MaxLiteralSize are
	// refused.
	MaxAppendLiteral int64
	// MaxArgs bounds the total bytes of one command, from its tag to its
	// end: text, literal headers and literal contents, streamed ones
	// included (maxargssize; Cyrus: "[TOOBIG] Command arguments total size
	// exceeds fixed limit"). A MULTIAPPEND is one command.
	MaxArgs int64
	// LiteralMinus refuses non-synchronizing literals larger than
	// LiteralMinusMax bytes, as a server advertising LITERAL- instead of
	// LITERAL+ must (RFC 7888 section 5; literalminus).
	LiteralMinus bool
}

// DefaultLimits returns the limits of a Cyrus 3.6 server with no limit
// options set in imapd.conf.
func DefaultLimits() Limits {
	return Limits{
		MaxLine:    DefaultMaxLine,
		MaxWord:    DefaultMaxWord,
		MaxQuoted:  DefaultMaxQuoted,
		MaxLiteral: DefaultMaxLiteral,
	}
}

// effective returns l with MaxLine resolved, the unlimited (0 or negative)
// token limits set to 0 (MaxLine bounds them anyway) and MaxAppendLiteral
// capped at MaxLiteralSize.
func (l Limits) effective() Limits {
	if l.MaxLine <= 0 {
		l.MaxLine = max(DefaultMaxLine, 2*max(l.MaxWord, l.MaxQuoted, l.MaxLiteral))
	}
	l.MaxWord = max(l.MaxWord, 0)
	l.MaxQuoted = max(l.MaxQuoted, 0)
	l.MaxLiteral = max(l.MaxLiteral, 0)
	if l.MaxAppendLiteral <= 0 || l.MaxAppendLiteral > MaxLiteralSize {
		l.MaxAppendLiteral = MaxLiteralSize
	}
	l.MaxArgs = max(l.MaxArgs, 0)
	return l
}

// SyntaxError is a command that does not follow the grammar. The engine
// answers BAD with Msg as the text and calls SkipLine.
type SyntaxError struct {
	Msg string
}

func (e *SyntaxError) Error() string { return e.Msg }

func syntaxErr(msg string) error { return &SyntaxError{Msg: msg} }

// LimitError is a token or command over one of the Limits. The offending
// bytes are partly unread; the engine answers BAD (Cyrus closes the
// connection with BYE) and calls SkipLine.
type LimitError struct {
	Limit string // LimitMaxWord, LimitMaxQuoted, LimitMaxLine or LimitMaxArgsSize
	Max   int64
}

func (e *LimitError) Error() string {
	switch e.Limit {
	case LimitMaxWord:
		return "[TOOBIG] Word too long"
	case LimitMaxQuoted:
		return "[TOOBIG] Quoted value too long"
	case LimitMaxArgsSize:
		return "[TOOBIG] Command arguments total size exceeds fixed limit"
	default:
		return "[TOOBIG] Command line too long"
	}
}

// LiteralTooBigError is a literal whose announced size is over a limit. It
// is returned right after the literal's header ("{n}" CRLF) was read and
// before anything else: for a synchronizing literal no continuation was
// sent, the client sends nothing more for this command, and the command
// ends there; for a non-synchronizing one (NonSync) its bytes follow and
// SkipLine discards them (RFC 7888 section 4, choice 1; the engine may
// instead send BYE and close, choice 2). The engine answers NO [TOOBIG] for
// an APPEND, BAD otherwise (RFC 4469, RFC 7888 section 5).
type LiteralTooBigError struct {
	Size    int64  // announced size; saturated at math.MaxInt64
	Max     int64  // the limit it broke
	NonSync bool   // "{n+}": the bytes are on their way
	Limit   string // LimitMaxLiteral, LimitMaxMessageSize, LimitMaxArgsSize, LimitLiteralMinus or LimitMaxLine
}

func (e *LiteralTooBigError) Error() string {
	// Cyrus's texts (imap_err.et).
	switch e.Limit {
	case LimitLiteralMinus:
		return "[TOOBIG] Non-synchronizing literal size exceeds 4K"
	case LimitMaxMessageSize:
		return "[TOOBIG] Message size exceeds fixed limit"
	case LimitMaxArgsSize:
		return "[TOOBIG] Command arguments total size exceeds fixed limit"
	default:
		return "[TOOBIG] Literal size exceeds fixed limit"
	}
}

// IsClientError reports whether err is the client's fault (a
// *SyntaxError, *LimitError or *LiteralTooBigError, possibly wrapped), to
// be answered on the connection, rather than an I/O error that ends it.
func IsClientError(err error) bool {
	var se *SyntaxError
	var le *LimitError
	var lt *LiteralTooBigError
	return errors.As(err, &se) || errors.As(err, &le) || errors.As(err, &lt)
}

// describe renders a byte for syntax error messages.
func describe(c byte) string {
	switch {
	case c == '\r' || c == '\n':
		return "end of line"
	case c == ' ':
		return "space"
	case c > ' ' && c < 0x7f:
		return strconv.Quote(string(c))
	default:
		return "byte 0x" + strconv.FormatUint(uint64(c), 16)
	}
}
