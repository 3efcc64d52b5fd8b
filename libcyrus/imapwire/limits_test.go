package imapwire

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestErrorTexts(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&LimitError{Limit: LimitMaxWord}, "[TOOBIG] Word too long"},
		{&LimitError{Limit: LimitMaxQuoted}, "[TOOBIG] Quoted value too long"},
		{&LimitError{Limit: LimitMaxArgsSize}, "[TOOBIG] Command arguments total size exceeds fixed limit"},
		{&LimitError{Limit: LimitMaxLine}, "[TOOBIG] Command line too long"},
		{&LiteralTooBigError{Limit: LimitMaxLiteral}, "[TOOBIG] Literal size exceeds fixed limit"},
		{&LiteralTooBigError{Limit: LimitMaxLine}, "[TOOBIG] Literal size exceeds fixed limit"},
		{&LiteralTooBigError{Limit: LimitMaxMessageSize}, "[TOOBIG] Message size exceeds fixed limit"},
		{&LiteralTooBigError{Limit: LimitMaxArgsSize}, "[TOOBIG] Command arguments total size exceeds fixed limit"},
		{&LiteralTooBigError{Limit: LimitLiteralMinus}, "[TOOBIG] Non-synchronizing literal size exceeds 4K"},
		{&SyntaxError{Msg: "Invalid tag"}, "Invalid tag"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%#v: %q, want %q", tt.err, got, tt.want)
		}
		if !IsClientError(tt.err) || !IsClientError(fmt.Errorf("append: %w", tt.err)) {
			t.Errorf("%#v is not a client error", tt.err)
		}
	}
	if IsClientError(io.EOF) || IsClientError(errors.New("x")) {
		t.Error("I/O errors taken for client errors")
	}
}

func TestEffectiveLimits(t *testing.T) {
	l := Limits{}.effective()
	if l.MaxLine != DefaultMaxLine || l.MaxWord != 0 || l.MaxAppendLiteral != MaxLiteralSize || l.MaxArgs != 0 {
		t.Errorf("zero Limits: %+v", l)
	}
	l = Limits{MaxLiteral: 10 << 20, MaxAppendLiteral: 1 << 40, MaxArgs: -1}.effective()
	if l.MaxLine != 20<<20 || l.MaxAppendLiteral != MaxLiteralSize || l.MaxArgs != 0 {
		t.Errorf("large maxliteral: %+v", l)
	}
	d := DefaultLimits()
	if d.MaxWord != 131072 || d.MaxQuoted != 131072 || d.MaxLiteral != 131072 || d.MaxArgs != 0 || d.MaxAppendLiteral != 0 || d.LiteralMinus {
		t.Errorf("DefaultLimits: %+v", d)
	}
}
