package lock

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestExclusion(t *testing.T) {
	p := filepath.Join(t.TempDir(), "l")
	a, err := Lock(p, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TryLock(p, false); !errors.Is(err, ErrWouldBlock) {
		t.Fatalf("shared TryLock under exclusive: %v", err)
	}
	a.Unlock()
	s1, _ := Lock(p, false)
	s2, err := TryLock(p, false)
	if err != nil {
		t.Fatalf("two shared locks: %v", err)
	}
	if _, err := TryLock(p, true); !errors.Is(err, ErrWouldBlock) {
		t.Fatalf("exclusive under shared: %v", err)
	}
	s1.Unlock()
	s2.Unlock()
}

// A counter kept in a file, read and rewritten under the lock by many
// goroutines (each with its own open file description), ends exact.
func TestCounterUnderLock(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "l")
	counter := filepath.Join(dir, "n")
	os.WriteFile(counter, []byte("0"), 0o600)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				l, err := Lock(p, true)
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := os.ReadFile(counter)
				n, _ := strconv.Atoi(string(b))
				time.Sleep(time.Microsecond)
				os.WriteFile(counter, []byte(strconv.Itoa(n+1)), 0o600)
				l.Unlock()
			}
		}()
	}
	wg.Wait()
	if b, _ := os.ReadFile(counter); string(b) != "400" {
		t.Fatalf("counter %s, want 400: the lock did not exclude", b)
	}
}
