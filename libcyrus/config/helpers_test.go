package config

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// logRecord is one captured log call.
type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

// recorder is an slog.Handler that keeps every record for inspection.
type recorder struct {
	mu      sync.Mutex
	records []logRecord
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	lr := logRecord{level: rec.Level, msg: rec.Message, attrs: make(map[string]string)}
	rec.Attrs(func(a slog.Attr) bool {
		lr.attrs[a.Key] = a.Value.String()
		return true
	})
	r.mu.Lock()
	r.records = append(r.records, lr)
	r.mu.Unlock()
	return nil
}

func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

// find returns the records whose message contains s.
func (r *recorder) find(s string) []logRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []logRecord
	for _, rec := range r.records {
		if strings.Contains(rec.msg, s) {
			out = append(out, rec)
		}
	}
	return out
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, rec := range r.records {
		fmt.Fprintf(&b, "%s %s %v\n", rec.level, rec.msg, rec.attrs)
	}
	return b.String()
}

// parseText parses a configuration given as text, for service, and
// returns it with the log records it produced.
func parseText(t *testing.T, text, service string) (*Config, *recorder) {
	t.Helper()
	rec := &recorder{}
	c, err := Parse(strings.NewReader(text), "imapd.conf", service, slog.New(rec))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c, rec
}

// parseErr parses text that must fail and returns the error message.
func parseErr(t *testing.T, text string) string {
	t.Helper()
	_, err := Parse(strings.NewReader(text), "imapd.conf", "", slog.New(&recorder{}))
	if err == nil {
		t.Fatalf("Parse(%q) succeeded, want an error", text)
	}
	return err.Error()
}

// mustPanic runs f and fails unless it panics with a message containing
// want.
func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one mentioning %q", want)
		}
		if !strings.Contains(fmt.Sprint(r), want) {
			t.Fatalf("panic %q, want one mentioning %q", r, want)
		}
	}()
	f()
}

// tryParse parses text for no particular service and returns the result,
// the log records and the error.
func tryParse(text string) (*Config, *recorder, error) {
	rec := &recorder{}
	c, err := Parse(strings.NewReader(text), "imapd.conf", "", slog.New(rec))
	return c, rec, err
}
