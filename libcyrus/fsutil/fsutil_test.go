package fsutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	for _, content := range []string{"one", "two, longer", ""} {
		if err := WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil || string(b) != content {
			t.Fatalf("read %q %v, want %q", b, err, content)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
}

func TestStageLink(t *testing.T) {
	dir := t.TempDir()
	s, err := NewStage(filepath.Join(dir, "stage"))
	if err != nil {
		t.Fatal(err)
	}
	s.ReadFrom(strings.NewReader("hello"))
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b"} {
		if err := s.Link(filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Link(filepath.Join(dir, "a")); err == nil {
		t.Fatal("link over an existing name succeeded")
	}
	s.Discard()
	for _, n := range []string{"a", "b"} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil || string(b) != "hello" {
			t.Fatalf("%s: %q %v", n, b, err)
		}
	}
	if s.Size() != 5 {
		t.Fatalf("size %d", s.Size())
	}
	if a, b := TempName(dir, "x"), TempName(dir, "x"); a == b {
		t.Fatal("TempName repeated")
	}
}
