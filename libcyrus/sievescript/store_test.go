package sievescript

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/sieve"
)

const work = "require [\"fileinto\"];\nif header :contains \"subject\" \"work\" {\n  fileinto \"INBOX.Work\";\n}\n"

func newStore(t *testing.T, o Options) *Store {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.MaxScripts == 0 {
		o.MaxScripts = 5
	}
	if o.MaxSize == 0 {
		o.MaxSize = 32 << 10
	}
	return New(o)
}

func TestLayout(t *testing.T) {
	s := newStore(t, Options{Dir: "/var/sieve"})
	for user, want := range map[string]string{
		"alice":             "/var/sieve/a/alice",
		"Bob":               "/var/sieve/b/Bob",
		"1user":             "/var/sieve/q/1user",
		"john.doe":          "/var/sieve/j/john.doe",
		"alice@example.com": "/var/sieve/a/alice@example.com",
	} {
		if got, err := s.UserPath(user); err != nil || got != want {
			t.Errorf("UserPath(%q) = %q, %v; want %q", user, got, err, want)
		}
	}
	v := newStore(t, Options{Dir: "/var/sieve", VirtDomains: true})
	if got, _ := v.UserPath("alice@example.com"); got != "/var/sieve/domain/e/example.com/a/alice" {
		t.Errorf("virtdomains path = %q", got)
	}
	if g, _ := v.Global("example.com"); g.Path() != "/var/sieve/domain/e/example.com/global" {
		t.Errorf("domain global = %q", g.Path())
	}
	if g, _ := v.Global(""); g.Path() != "/var/sieve/global" {
		t.Errorf("global = %q", g.Path())
	}
	for _, bad := range []string{"", "../x", "a/b", ".hidden"} {
		if _, err := s.UserPath(bad); err == nil {
			t.Errorf("UserPath(%q) accepted", bad)
		}
	}
}

func TestScriptLifecycle(t *testing.T) {
	s := newStore(t, Options{})
	d, err := s.User("alice")
	if err != nil {
		t.Fatal(err)
	}
	if l, err := d.List(); err != nil || len(l) != 0 {
		t.Fatalf("empty list = %v, %v", l, err)
	}
	if err := d.Put("work", []byte(work)); err != nil {
		t.Fatal(err)
	}
	// Stored with CRLF, as Cyrus does.
	src, err := d.Get("work")
	if err != nil || string(src) != strings.ReplaceAll(work, "\n", "\r\n") {
		t.Fatalf("Get = %q, %v", src, err)
	}
	if _, err := os.Stat(filepath.Join(d.Path(), "work.bc")); err != nil {
		t.Fatalf("no compiled form: %v", err)
	}
	if err := d.SetActive("work"); err != nil {
		t.Fatal(err)
	}
	target, err := os.Readlink(filepath.Join(d.Path(), "defaultbc"))
	if err != nil || target != "work.bc" {
		t.Fatalf("defaultbc -> %q, %v", target, err)
	}
	if l, _ := d.List(); !slices.Equal(l, []Script{{Name: "work", Active: true}}) {
		t.Fatalf("list = %v", l)
	}
	if err := d.Delete("work"); !errors.Is(err, ErrActive) {
		t.Fatalf("delete active: %v", err)
	}
	if err := d.Rename("work", "job"); err != nil {
		t.Fatal(err)
	}
	if a, _ := d.Active(); a != "job" {
		t.Fatalf("active after rename = %q", a)
	}
	if d.Exists("work") {
		t.Fatal("old name still there")
	}
	if err := d.Put("other", []byte("keep;")); err != nil {
		t.Fatal(err)
	}
	if err := d.Rename("other", "job"); !errors.Is(err, ErrExists) {
		t.Fatalf("rename onto existing: %v", err)
	}
	if err := d.Rename("nope", "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rename missing: %v", err)
	}
	sc, name, err := d.LoadActive()
	if err != nil || name != "job" || sc == nil {
		t.Fatalf("LoadActive = %v %q %v", sc, name, err)
	}
	if err := d.SetActive(""); err != nil {
		t.Fatal(err)
	}
	if err := d.SetActive(""); err != nil {
		t.Fatalf("deactivating twice: %v", err)
	}
	if sc, name, err := d.LoadActive(); sc != nil || name != "" || err != nil {
		t.Fatalf("LoadActive after deactivation = %v %q %v", sc, name, err)
	}
	if err := d.SetActive("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("activate missing: %v", err)
	}
	if err := d.Delete("job"); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete("job"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	ents, _ := os.ReadDir(d.Path())
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") || strings.HasPrefix(e.Name(), "job") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestQuotasAndErrors(t *testing.T) {
	s := newStore(t, Options{MaxScripts: 2, MaxSize: 100})
	d, _ := s.User("bob")
	for _, n := range []string{"a", "b"} {
		if err := d.Put(n, []byte("keep;")); err != nil {
			t.Fatal(err)
		}
	}
	var qe *QuotaError
	if err := d.Put("c", []byte("keep;")); !errors.As(err, &qe) || qe.Kind != "MAXSCRIPTS" {
		t.Fatalf("third script: %v", err)
	}
	// Replacing one is not a new one.
	if err := d.Put("a", []byte("discard;")); err != nil {
		t.Fatalf("replace: %v", err)
	}
	if err := d.HaveSpace("a", 101); !errors.As(err, &qe) || qe.Kind != "MAXSIZE" || qe.Error() != "Script size is too large. Max script size is 100 bytes" {
		t.Fatalf("havespace big: %v", err)
	}
	if err := d.HaveSpace("c", 10); !errors.As(err, &qe) || qe.Error() != "You are only allowed 2 scripts on this server" {
		t.Fatalf("havespace count: %v", err)
	}
	if err := d.HaveSpace("b", 10); err != nil {
		t.Fatalf("havespace ok: %v", err)
	}
	if err := d.Put("a", []byte(strings.Repeat("#", 101))); !errors.As(err, &qe) {
		t.Fatalf("big put: %v", err)
	}
	var ce *sieve.CompileError
	if err := d.Put("a", []byte("bad stuff")); !errors.As(err, &ce) || ce.Lines()[0] != "line 1: syntax error" {
		t.Fatalf("bad put: %v", err)
	}
	// A failed put leaves the old script.
	if src, _ := d.Get("a"); string(src) != "discard;" {
		t.Fatalf("old script changed: %q", src)
	}
	if err := d.Put("a/b", []byte("keep;")); !errors.Is(err, ErrBadName) {
		t.Fatalf("bad name: %v", err)
	}
	if err := d.Put("x\x01", []byte("keep;")); !errors.Is(err, ErrBadName) {
		t.Fatalf("control char: %v", err)
	}
	if err := d.Put("a", nil); !errors.Is(err, ErrEmpty) {
		t.Fatalf("empty: %v", err)
	}
}

// TestCompiledCache checks that the .bc is used when current and rebuilt
// when stale, corrupt or missing.
func TestCompiledCache(t *testing.T) {
	s := newStore(t, Options{})
	d, _ := s.User("carol")
	if err := d.Put("s", []byte(work)); err != nil {
		t.Fatal(err)
	}
	bc := filepath.Join(d.Path(), "s.bc")
	good, _ := os.ReadFile(bc)

	// Corrupt: ignored and rewritten.
	os.WriteFile(bc, []byte("garbage"), 0o600)
	if _, err := d.Load("s"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(bc); string(b) != string(good) {
		t.Fatal("corrupt .bc not rewritten")
	}
	// Stale: the source changed behind the store's back (an older
	// server, an admin's editor).
	os.WriteFile(filepath.Join(d.Path(), "s.script"), []byte("discard;"), 0o600)
	sc, err := d.Load("s")
	if err != nil || sc.Commands[0].Name != "discard" {
		t.Fatalf("stale .bc used: %v", err)
	}
	// Missing.
	os.Remove(bc)
	if _, err := d.Load("s"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bc); err != nil {
		t.Fatal("missing .bc not rebuilt")
	}
	// Cyrus bytecode is foreign: refused and rebuilt.
	os.WriteFile(bc, []byte("CyrSBytecode\x00\x00\x00\x12"), 0o600)
	if _, err := d.Load("s"); err != nil {
		t.Fatal(err)
	}
	// Compiled under other extensions: rebuilt.
	s2 := newStore(t, Options{Dir: s.o.Dir, Compile: sieve.CompileOptions{Extensions: sieve.NewExtensions("fileinto")}})
	d2, _ := s2.User("carol")
	old, _ := os.Stat(bc)
	time.Sleep(10 * time.Millisecond)
	if _, err := d2.Load("s"); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(bc); !st.ModTime().After(old.ModTime()) {
		t.Fatal(".bc of other extensions not rebuilt")
	}
}

func TestIncluder(t *testing.T) {
	s := newStore(t, Options{VirtDomains: true})
	d, _ := s.User("dave@example.com")
	g, _ := s.Global("")
	dg, _ := s.Global("example.com")
	if err := d.Put("mine", []byte("discard;")); err != nil {
		t.Fatal(err)
	}
	if err := g.Put("site", []byte("keep;")); err != nil {
		t.Fatal(err)
	}
	if err := dg.Put("site", []byte("stop;")); err != nil {
		t.Fatal(err)
	}
	inc := d.Includer()
	if sc, err := inc("mine", false); err != nil || sc.Commands[0].Name != "discard" {
		t.Fatalf("personal: %v", err)
	}
	if sc, err := inc("site", true); err != nil || sc.Commands[0].Name != "stop" {
		t.Fatalf("global prefers the domain's: %v", err)
	}
	if _, err := inc("nope", true); !errors.Is(err, sieve.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}
