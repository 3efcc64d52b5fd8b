package sieve

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// fuzzSeeds are scripts covering every command and test.
func fuzzSeeds() []string {
	seeds := []string{example9, "bad stuff", "", `keep;`, "if true {\n", `text:` + "\r\n.\r\n"}
	for _, c := range rfcCases {
		seeds = append(seeds, c.script)
	}
	return seeds
}

// FuzzParse compiles arbitrary scripts: no panic, errors carry a line,
// and what compiles survives the compiled-form round trip.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Compile(src, CompileOptions{})
		if err != nil {
			var ce *CompileError
			if !errors.As(err, &ce) || len(ce.Errs) == 0 || len(ce.Errs) > maxErrors {
				t.Fatalf("error %v is not a CompileError with 1..%d errors", err, maxErrors)
			}
			for _, e := range ce.Errs {
				if e.Line < 1 || e.Line > strings.Count(string(src), "\n")+strings.Count(string(src), "\r")+1 {
					t.Fatalf("error line %d out of range: %v", e.Line, e)
				}
			}
			return
		}
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if _, err := UnmarshalScript(b); err != nil {
			t.Fatalf("unmarshal of a fresh compile: %v", err)
		}
	})
}

// fuzzMessages are messages for FuzzRun.
var fuzzMessages = []string{msgCoyote, msgMoney, msgLists, msgCompany, msgMime, "", "Subject: x\n", "\n\nbody only"}

// FuzzRun runs arbitrary scripts over arbitrary messages with small
// limits: no panic escapes, no internal error, every run ends with
// actions (at least the implicit keep), within bounded time.
func FuzzRun(f *testing.F) {
	for i, s := range fuzzSeeds() {
		f.Add([]byte(s), []byte(strings.ReplaceAll(fuzzMessages[i%len(fuzzMessages)], "\n", "\r\n")))
	}
	f.Fuzz(func(t *testing.T, src, msg []byte) {
		s, err := Compile(src, CompileOptions{})
		if err != nil {
			return
		}
		env := &Env{
			Envelope:         Envelope{From: "coyote@desert.example.org", To: "roadrunner@acme.example.com"},
			Now:              fixedNow,
			Location:         time.UTC,
			Limits:           Limits{MaxSteps: 200000, MaxBodyBytes: 1 << 16},
			MailboxExists:    func(string) bool { return true },
			Metadata:         func(string, string) (string, bool) { return "v", true },
			ServerMetadata:   func(string) (string, bool) { return "v", true },
			Duplicate:        func(string, string) (bool, error) { return false, nil },
			VacationSent:     func(string) (bool, error) { return false, nil },
			Include:          func(string, bool) (*Script, error) { return s, nil },
			SpamTest:         func() string { return "5" },
			MailboxIDExists:  func(string) bool { return false },
			SpecialUseExists: func(mb string, _ []string) bool { return mb == "" },
		}
		start := time.Now()
		res, err := s.Run(context.Background(), NewMessageBytes(msg), env)
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("run took %v", d)
		}
		if err != nil {
			var re *RuntimeError
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a RuntimeError", err)
			}
			if strings.Contains(re.Msg, "internal error") {
				t.Fatalf("interpreter bug: %v", err)
			}
		}
		if res == nil || len(res.Actions) == 0 {
			t.Fatalf("no actions (err %v)", err)
		}
		for _, a := range res.Actions {
			if v, ok := a.(Vacation); ok {
				v.Compose(fixedNow, "<x@y>")
			}
			if n, ok := a.(Notify); ok {
				n.Compose(fixedNow, "a@b.c", "<x@y>")
			}
		}
	})
}
