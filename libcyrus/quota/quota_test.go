package quota

import (
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
)

func TestAncestors(t *testing.T) {
	tests := map[string][]string{
		"user.alice.Sent.2024":   {"user.alice.Sent.2024", "user.alice.Sent", "user.alice"},
		"user.alice":             {"user.alice"},
		"shared.folder":          {"shared.folder", "shared"},
		"example.com!user.bob.x": {"example.com!user.bob.x", "example.com!user.bob"},
	}
	for in, want := range tests {
		if got := Ancestors(in); !reflect.DeepEqual(got, want) {
			t.Errorf("Ancestors(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLimitsUsageCheck(t *testing.T) {
	q := New(cyrusdb.NewMem())
	if _, ok, _ := q.Root("user.alice.Sent"); ok {
		t.Fatal("root before any limit")
	}
	q.SetLimits("user.alice", Limits{Storage: 10, Message: 3})
	root, ok, err := q.Root("user.alice.Sent")
	if err != nil || !ok || root != "user.alice" {
		t.Fatalf("Root = %q %v %v", root, ok, err)
	}
	q.SetMailboxUsage(root, "user.alice", Usage{Bytes: 4000, Messages: 1})
	q.SetMailboxUsage(root, "user.alice.Sent", Usage{Bytes: 5000, Messages: 1})
	u, _ := q.Usage(root)
	if u != (Usage{9000, 2}) {
		t.Fatalf("usage %+v", u)
	}
	if err := q.Check(root, 1000, 1); err != nil {
		t.Fatalf("fits: %v", err)
	}
	if err := q.Check(root, 2000, 1); !errors.Is(err, ErrOverQuota) {
		t.Fatalf("storage over: %v", err)
	}
	q.SetMailboxUsage(root, "user.alice.Sent", Usage{Bytes: 5000, Messages: 2})
	if err := q.Check(root, 1, 1); !errors.Is(err, ErrOverQuota) {
		t.Fatalf("messages over: %v", err)
	}
	if err := q.Check(root, 0, 0); err != nil {
		t.Fatalf("no growth refused: %v", err)
	}
	q.SetLimits("user.alice", Limits{Unlimited, Unlimited})
	if _, ok, _ := q.Root("user.alice"); ok {
		t.Fatal("root still there")
	}
	if u, _ := q.Usage("user.alice"); u != (Usage{}) {
		t.Fatalf("usage after removal %+v", u)
	}
}

// Absolute per-mailbox writes from many writers leave the sum exact.
func TestConcurrentMailboxes(t *testing.T) {
	q := New(cyrusdb.NewMem())
	q.SetLimits("user.a", Limits{Storage: Unlimited, Message: Unlimited})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			mb := "user.a.f" + string(rune('0'+i))
			for n := int64(1); n <= 100; n++ {
				q.SetMailboxUsage("user.a", mb, Usage{Bytes: n * 10, Messages: n})
			}
		}(i)
	}
	wg.Wait()
	if u, _ := q.Usage("user.a"); u != (Usage{8000, 800}) {
		t.Fatalf("usage %+v", u)
	}
}
