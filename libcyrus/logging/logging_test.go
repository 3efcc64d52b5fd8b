package logging

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		log  func(l *slog.Logger)
		want string
	}{
		{"plain", func(l *slog.Logger) { l.Info("Delivered: <a@b> to mailbox: user.alice") }, "imap[%d]: info: Delivered: <a@b> to mailbox: user.alice\n"},
		{"attrs", func(l *slog.Logger) { l.Warn("bad", "path", "/a b", "n", 3) }, `warning: bad path="/a b" n=3`},
		{"error", func(l *slog.Logger) { l.Error("open index", "err", errors.New("x")) }, "error: open index err=x"},
		{"notice", func(l *slog.Logger) { l.Log(nil, LevelNotice, "login: x") }, "notice: login: x"},
		{"with", func(l *slog.Logger) { l.With("service", "imap").WithGroup("g").Info("m", "k", "v") }, "m service=imap g.k=v"},
		{"debug hidden", func(l *slog.Logger) { l.Debug("nope") }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := New(Options{Ident: "imap", Writer: &buf})
			tt.log(l)
			got := buf.String()
			want := tt.want
			if strings.Contains(want, "%d") {
				want = want[:strings.Index(want, "[")]
			}
			if want == "" {
				if got != "" {
					t.Fatalf("got %q, want nothing", got)
				}
				return
			}
			if !strings.Contains(got, want) {
				t.Fatalf("got %q, want it to contain %q", got, want)
			}
		})
	}
}

func TestPrefixTag(t *testing.T) {
	var buf bytes.Buffer
	New(Options{Ident: "lmtp", Prefix: "cyrus", Writer: &buf}).Info("x")
	if !strings.Contains(buf.String(), " cyrus/lmtp[") {
		t.Fatalf("tag missing: %q", buf.String())
	}
}
