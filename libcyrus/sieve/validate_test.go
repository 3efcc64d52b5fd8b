package sieve

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestCompileErrors checks that bad scripts are refused with the line of
// the problem, in the "line N: message" form ManageSieve clients show.
func TestCompileErrors(t *testing.T) {
	cases := []struct {
		src  string
		want string // the first error line
	}{
		{"bad stuff", "line 1: syntax error"},
		{"require \"fileinto\";\nif true {\n  fileint \"x\";\n}\n", `line 3: unknown command "fileint"`},
		{"keep;\n\nfileinto \"x\";", `line 3: command "fileinto" requires extension "fileinto" (missing require)`},
		{"require \"nosuch\";", `line 1: unsupported extension "nosuch" in require`},
		{"require [\"fileinto\"];\nkeep;\nrequire \"copy\";", "line 3: require must come before any other command"},
		{"if true {\n keep;\n", "line 3: syntax error"},
		{"keep", "line 1: syntax error"},
		{"if true keep;", `line 1: "if" expects a block`},
		{"keep :copy;", `line 1: unknown tag ":copy" for "keep"`},
		{"require \"fileinto\";\nfileinto :copy \"x\";", `line 2: tag ":copy" requires extension "copy" (missing require)`},
		{"if header :is :contains \"a\" \"b\" { keep; }", `line 1: tags ":is" and ":contains" cannot be used together`},
		{"if header \"a\" { keep; }", `line 1: "header" expects 2 positional arguments, got 1`},
		{"if header :comparator \"i;ascii-numeric\" \"a\" \"b\" { keep; }", `line 1: comparator "i;ascii-numeric" requires "comparator-i;ascii-numeric" (missing require)`},
		{"require \"comparator-i;ascii-numeric\";\nif header :contains :comparator \"i;ascii-numeric\" \"a\" \"b\" { keep; }", `line 2: comparator "i;ascii-numeric" cannot be used with :contains`},
		{"if header :comparator \"i;nope\" \"a\" \"b\" { keep; }", `line 1: unknown comparator "i;nope"`},
		{"require \"relational\";\nif header :value \"xx\" \"a\" \"b\" { keep; }", `line 2: invalid relational operator "xx"`},
		{"elsif true { keep; }", "line 1: elsif without a preceding if"},
		{"keep;\nelse { keep; }", "line 2: else without a preceding if"},
		{"redirect \"not an address\";", `line 1: invalid redirect address "not an address"`},
		{"if size 100 { keep; }", `line 1: "size" takes no positional arguments`},
		{"if size { keep; }", "line 1: size expects :over or :under"},
		{"if true;", `line 1: "if" expects a block`},
		{"keep { }", `line 1: "keep" takes no block`},
		{"if keep { }", `line 1: "keep" is a command, not a test`},
		{"header \"a\" \"b\";", `line 1: "header" is a test, not a command`},
		{"require \"regex\";\n\nif header :regex \"a\" \"(\" { keep; }", "line 3: invalid regular expression"},
		{"require \"variables\";\nset \"1x\" \"a\";", `line 2: set: invalid variable name "1x"`},
		{"require \"variables\";\nset \"a\" \"${ns.x}\";", `line 2: unknown variable namespace in "${ns.x}"`},
		{"require [\"include\", \"variables\"];\nset \"a\" \"1\";\nglobal \"a\";", `line 3: global: variable "a" was already set in this script`},
		{"require \"include\";\ninclude \"a/b\";", `line 2: include: script name holds "/"`},
		{"require \"editheader\";\naddheader \"bad name\" \"v\";", `line 2: addheader: invalid header field name "bad name"`},
		{"require \"index\";\nif header :last \"a\" \"b\" { keep; }", `line 2: ":last" requires ":index"`},
		{"require \"foreverypart\";\nbreak;", "line 2: break outside foreverypart"},
		{"require \"date\";\nif currentdate :zone \"0100\" \"hour\" \"1\" { keep; }", `line 2: currentdate: invalid time zone "0100"`},
		{"require \"date\";\nif currentdate \"hours\" \"1\" { keep; }", `line 2: currentdate: unknown date part "hours"`},
		{"require \"envelope\";\nif envelope \"body\" \"x\" { keep; }", `line 2: envelope: unknown envelope part "body"`},
		{"if address \"subject\" \"x\" { keep; }", `line 1: address: header "subject" does not hold addresses`},
		{"require \"enotify\";\nnotify \"xmpp:a@b\";", `line 2: notify: unsupported notification method "xmpp:a@b"`},
		{"require \"vacation\";\nvacation :days 1 :seconds 2 \"x\";", `line 2: tag ":seconds" requires extension "vacation-seconds" (missing require)`},
		{"require \"encoded-character\";\nkeep;\nredirect \"${unicode:D800}@x.y\";", "line 3: invalid Unicode character U+D800"},
		{"/* unterminated", "line 1: unterminated comment"},
		{"keep;\n\"unterminated", "line 2: unterminated string"},
		{"require \"vacation\";\nvacation text:\nno end\n", "line 2: unterminated multi-line string"},
		{"if header 99999999999999999999 \"a\" { keep; }", "line 1: number too large"},
		{"stop \"x\";", `line 1: "stop" takes no positional arguments`},
		{"require \"ihave\";\nif ihave \"fileinto\" { fileinto :copy \"x\"; }", `line 2: tag ":copy" requires extension "copy" (missing require)`},
	}
	for _, c := range cases {
		_, err := Compile([]byte(c.src), CompileOptions{})
		var ce *CompileError
		if !errors.As(err, &ce) {
			t.Errorf("%q: err = %v, want a CompileError", c.src, err)
			continue
		}
		if !strings.HasPrefix(ce.Lines()[0], c.want) {
			t.Errorf("%q:\n got  %q\n want %q", c.src, ce.Lines()[0], c.want)
		}
	}
}

// TestErrorsCollected checks that validation reports several errors, in
// line order, and no more than maxErrors.
func TestErrorsCollected(t *testing.T) {
	_, err := Compile([]byte("fileinto \"a\";\nfoo;\nredirect \"x\";\n"), CompileOptions{})
	var ce *CompileError
	if !errors.As(err, &ce) || len(ce.Errs) != 3 || ce.Errs[0].Line != 1 || ce.Errs[2].Line != 3 {
		t.Fatalf("err = %v", err)
	}
	_, err = Compile([]byte(strings.Repeat("foo;\n", 100)), CompileOptions{})
	if !errors.As(err, &ce) || len(ce.Errs) != maxErrors {
		t.Fatalf("got %d errors, want %d", len(ce.Errs), maxErrors)
	}
}

// TestExtensionsRestrict checks that only the configured extensions may
// be required, and the capability string's order.
func TestExtensionsRestrict(t *testing.T) {
	exts := NewExtensions("fileinto")
	if _, err := Compile([]byte(`require "fileinto"; fileinto "a";`), CompileOptions{Extensions: exts}); err != nil {
		t.Fatal(err)
	}
	if _, err := Compile([]byte(`require "vacation"; vacation "a";`), CompileOptions{Extensions: exts}); err == nil {
		t.Fatal("vacation accepted though not enabled")
	}
	if got := exts.Capability(); got != "encoded-character comparator-i;ascii-numeric fileinto" {
		t.Fatalf("capability = %q", got)
	}
	d := DefaultExtensions()
	for _, c := range []string{"spamtest", "virustest", "mime", "foreverypart", "imapflags", "imap4flags", "enotify", "ereject"} {
		if !d.Has(c) {
			t.Errorf("default extensions lack %s", c)
		}
	}
	for _, c := range []string{"extlists", "notify", "vnd.cyrus.log"} {
		if d.Has(c) {
			t.Errorf("default extensions have unimplemented %s", c)
		}
	}
	if strings.Contains(d.Capability(), "imapflags") && !strings.Contains(d.Capability(), "imap4flags") {
		t.Errorf("imapflags advertised: %s", d.Capability())
	}
}

// TestLimits checks that hostile scripts end in errors, not in unbounded
// work.
func TestLimits(t *testing.T) {
	deep := strings.Repeat("if true {", 200) + strings.Repeat("}", 200)
	if _, err := Compile([]byte(deep), CompileOptions{}); err == nil || !strings.Contains(err.Error(), "nesting too deep") {
		t.Fatalf("deep nesting: %v", err)
	}
	big := "# " + strings.Repeat("x", 40<<10)
	if _, err := Compile([]byte(big), CompileOptions{}); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("big script: %v", err)
	}
	// Quadratic matching is bounded by the step limit.
	long := strings.Repeat("a", 20000)
	src := `require "variables";
set "a" "` + long + `";
if string :matches "${a}${a}" "*` + strings.Repeat("a", 1000) + `b" { keep; }`
	s, err := Compile([]byte(src), CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = s.Run(context.Background(), NewMessageBytes([]byte("Subject: x\r\n\r\n")), &Env{Limits: Limits{MaxSteps: 2_000_000}})
	if err == nil || !strings.Contains(err.Error(), ErrStepLimit.Error()) {
		t.Fatalf("err = %v, want the step limit", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	// Variable growth is capped.
	src = `require ["variables", "fileinto"];
set "a" "0123456789";` + strings.Repeat(`
set "a" "${a}${a}";`, 30) + `
set :length "n" "${a}"; fileinto "${n}";`
	res, err := runSrc(t, src, msgCoyote, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := describe(res.Actions[0]); got != "fileinto 32768" {
		t.Fatalf("got %s, want the value cut at MaxVariableSize", got)
	}
	// Actions are bounded.
	src = `require "fileinto";` + strings.Repeat(`fileinto "a"; fileinto "b";`, 200)
	if _, err := runSrc(t, src, msgCoyote, nil); err == nil || !strings.Contains(err.Error(), "too many actions") {
		t.Fatalf("err = %v", err)
	}
	src = strings.Repeat(`redirect "a@example.com";`, 11)
	if _, err := runSrc(t, src, msgCoyote, nil); err == nil || !strings.Contains(err.Error(), "too many redirects") {
		t.Fatalf("err = %v", err)
	}
}

// TestCompiledRoundTrip checks the .bc encoding and that damaged data is
// refused, never trusted.
func TestCompiledRoundTrip(t *testing.T) {
	s, err := Compile([]byte(example9), CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	s2, err := UnmarshalScript(b)
	if err != nil {
		t.Fatal(err)
	}
	if s2.SourceHash != s.SourceHash || s2.Extensions != s.Extensions {
		t.Fatal("hash or extensions lost")
	}
	for _, msg := range []string{msgLists, msgCompany, msgMoney} {
		m := NewMessageBytes([]byte(strings.ReplaceAll(msg, "\n", "\r\n")))
		r1, _ := s.Run(context.Background(), m, &Env{})
		r2, _ := s2.Run(context.Background(), m, &Env{})
		if strings.Join(describeAll(r1.Actions), "|") != strings.Join(describeAll(r2.Actions), "|") {
			t.Fatalf("decoded script behaves differently")
		}
	}
	for i := 0; i < len(b); i += 7 {
		bad := append([]byte(nil), b...)
		bad[i] ^= 0x55
		if s3, err := UnmarshalScript(bad); err == nil {
			// A flip that still decodes must still run safely.
			s3.Run(context.Background(), NewMessageBytes([]byte("Subject: x\r\n\r\n")), &Env{})
		}
	}
	if _, err := UnmarshalScript(b[:len(b)/2]); !errors.Is(err, ErrBadCompiled) {
		t.Fatalf("truncated: %v", err)
	}
	if _, err := UnmarshalScript([]byte("\x00\x00\x00\x07sieve bytecode")); !errors.Is(err, ErrBadCompiled) {
		t.Fatalf("foreign: %v", err)
	}
}

// TestGlobCaptures checks :matches against RFC 5229 3.2's rules.
func TestGlobCaptures(t *testing.T) {
	cases := []struct {
		pat, s string
		ok     bool
		caps   []string
	}{
		{"*<*@*", "Joe <joe@x.org>", true, []string{"Joe ", "joe", "x.org>"}},
		{"[*] *", "[a] [b] c", true, []string{"a", "[b] c"}},
		{"coyote@**.com", "coyote@ACME.Example.COM", true, []string{"", "ACME.Example"}},
		{"a?c", "abc", true, []string{"b"}},
		{"a?c", "ac", false, nil},
		{"*", "", true, []string{""}},
		{"\\*x", "*x", true, []string{}},
		{"a*b*c", "aXbYbZc", true, []string{"X", "YbZ"}},
		{"*.*", "a.b.c", true, []string{"a", "b.c"}},
	}
	r := &run{lim: DefaultLimits()}
	for _, c := range cases {
		var caps []string
		ok := globMatch(parseGlob(c.pat), c.s, true, &caps, r)
		if ok != c.ok || (ok && strings.Join(caps, "|") != strings.Join(c.caps, "|")) {
			t.Errorf("%q ~ %q = %v %q, want %v %q", c.s, c.pat, ok, caps, c.ok, c.caps)
		}
	}
}
