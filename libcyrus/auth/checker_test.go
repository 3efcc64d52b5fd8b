package auth

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
)

func TestCheckerAuxprop(t *testing.T) {
	e := newEnv(t, nil)
	for _, c := range []struct {
		user, pw, realm string
		want            error
	}{
		{"alice", alicePW, "", nil},
		{"alice", "wrong", "", ErrBadPassword},
		{"alice", "", "", ErrBadPassword},
		{"nobody", "x", "", ErrNoUser},
		{"", "x", "", ErrNoUser},
	} {
		err := e.check.Check(t.Context(), c.user, c.pw, "imap", c.realm)
		if !errors.Is(err, c.want) && !(c.want == nil && err == nil) {
			t.Errorf("Check(%q, %q) = %v, want %v", c.user, c.pw, err, c.want)
		}
	}
	err := e.check.Check(t.Context(), "alice", "wrong", "imap", "")
	if got := err.Error(); got != "SASL(-13): authentication failure: checkpass failed" {
		t.Errorf("detail %q", got)
	}
	err = e.check.Check(t.Context(), "nobody", "x", "imap", "")
	if got := err.Error(); got != "SASL(-20): user not found: checkpass failed" {
		t.Errorf("detail %q", got)
	}
	if strings.Contains(e.log.String(), alicePW) {
		t.Error("a password was logged")
	}
}

func TestCheckerRealm(t *testing.T) {
	e := newEnv(t, nil)
	if err := setPassword(e.db, "dave@example.org", "pw", testParams, false); err != nil {
		t.Fatal(err)
	}
	if err := e.check.Check(t.Context(), "dave", "pw", "imap", "example.org"); err != nil {
		t.Errorf("user with realm: %v", err)
	}
	if err := e.check.Check(t.Context(), "dave@example.org", "pw", "imap", "other.org"); err != nil {
		t.Errorf("qualified user ignores realm: %v", err)
	}
}

// Methods are tried in order; a method that fails passes to the next, and
// the reported failure is the most useful one.
func TestCheckerMethods(t *testing.T) {
	down := filepath.Join(t.TempDir(), "mux") // no saslauthd there
	for _, c := range []struct {
		name    string
		methods string
		user    string
		pw      string
		want    error
	}{
		{"saslauthd down, auxprop user", "saslauthd auxprop", "alice", alicePW, nil},
		{"auxprop first", "auxprop saslauthd", "alice", alicePW, nil},
		{"saslauthd down wins over no user", "saslauthd auxprop", "nobody", "x", ErrTemporary},
		{"saslauthd down wins over bad password", "auxprop saslauthd", "alice", "x", ErrTemporary},
		{"alwaystrue", "alwaystrue", "anyone", "anything", nil},
		{"auxprop then alwaystrue", "auxprop alwaystrue", "alice", "wrong", nil},
		{"pwcheck unsupported", "pwcheck", "alice", alicePW, ErrTemporary},
		{"authdaemond falls through", "authdaemond auxprop", "alice", alicePW, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, map[string]string{"sasl_pwcheck_method": c.methods, "sasl_saslauthd_path": down})
			err := e.check.Check(t.Context(), c.user, c.pw, "imap", "")
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("Check = %v, want %v", err, c.want)
			}
		})
	}
	e := newEnv(t, map[string]string{"sasl_pwcheck_method": "pwcheck"})
	err := e.check.Check(t.Context(), "alice", alicePW, "imap", "")
	if err == nil || !strings.Contains(err.Error(), "unknown password verifier(s) pwcheck") {
		t.Errorf("pwcheck: %v", err)
	}
	if !strings.Contains(e.log.String(), "pwcheck is not supported") {
		t.Errorf("no error logged at start for pwcheck: %s", e.log)
	}
	e = newEnv(t, map[string]string{"sasl_pwcheck_method": "alwaystrue"})
	if !strings.Contains(e.log.String(), "alwaystrue accepts any password") {
		t.Errorf("no warning for alwaystrue: %s", e.log)
	}
}

func TestCheckerNoDB(t *testing.T) {
	cfg := testConfig(t, map[string]string{"configdirectory": t.TempDir()}, "imap")
	c := NewChecker(cfg, nil, newLogger(&logBuffer{}))
	if c.HasVerifiers() {
		t.Error("HasVerifiers without a database")
	}
	if err := c.Check(t.Context(), "alice", "pw", "imap", ""); !errors.Is(err, ErrTemporary) {
		t.Errorf("Check without a database = %v", err)
	}
	// A damaged record is a temporary failure, not a wrong password.
	db := cyrusdb.NewMem()
	_ = db.Put([]byte("alice"), []byte("junk"))
	c = NewChecker(cfg, db, newLogger(&logBuffer{}))
	if err := c.Check(t.Context(), "alice", "pw", "imap", ""); !errors.Is(err, ErrTemporary) {
		t.Errorf("Check of a damaged record = %v", err)
	}
}
