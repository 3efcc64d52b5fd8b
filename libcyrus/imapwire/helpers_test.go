package imapwire

import (
	"bufio"
	"errors"
	"strings"
	"testing"
)

// recorder is a Continuer that records the continuation requests sent and
// how many bytes of input had been consumed when each was sent.
type recorder struct {
	texts []string
}

func (c *recorder) Continue(text string) error {
	c.texts = append(c.texts, text)
	return nil
}

// testLimits are small enough to hit in tests.
func testLimits() Limits {
	return Limits{MaxLine: 1000, MaxWord: 100, MaxQuoted: 100, MaxLiteral: 100, MaxAppendLiteral: 500}
}

func newReader(input string, lim Limits) (*Reader, *recorder) {
	rec := &recorder{}
	return NewReader(bufio.NewReader(strings.NewReader(input)), rec, lim), rec
}

// open returns a Reader positioned after "t " of a command whose rest is
// input, so token readers can be tested on their own.
func open(t *testing.T, input string, lim Limits) (*Reader, *recorder) {
	t.Helper()
	r, rec := newReader("t "+input, lim)
	if tag, err := r.ReadTag(); err != nil || tag != "t" {
		t.Fatalf("ReadTag = %q, %v", tag, err)
	}
	if err := r.SP(); err != nil {
		t.Fatalf("SP: %v", err)
	}
	return r, rec
}

func isSyntax(err error) bool {
	var se *SyntaxError
	return errors.As(err, &se)
}

func limitOf(err error) string {
	var le *LimitError
	if errors.As(err, &le) {
		return le.Limit
	}
	var lt *LiteralTooBigError
	if errors.As(err, &lt) {
		return lt.Limit
	}
	return ""
}

// errKind classifies an error for table tests: "" (nil), "syntax", a
// limit name, or "io".
func errKind(err error) string {
	switch {
	case err == nil:
		return ""
	case isSyntax(err):
		return "syntax"
	case limitOf(err) != "":
		return limitOf(err)
	default:
		return "io"
	}
}

// nextTag reads the next command's tag after SkipLine, failing the test
// on error.
func nextTag(t *testing.T, r *Reader) string {
	t.Helper()
	if err := r.SkipLine(); err != nil {
		t.Fatalf("SkipLine: %v", err)
	}
	tag, err := r.ReadTag()
	if err != nil {
		t.Fatalf("ReadTag after SkipLine: %v", err)
	}
	return tag
}
