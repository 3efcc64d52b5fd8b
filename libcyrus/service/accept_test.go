package service

import (
	"reflect"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/cyrusgo/cyrusgo/libcyrus/logging"

	mp "github.com/cyrusgo/cyrusgo/libcyrus/masterproto"
)

// The message sequences are the contract with master; with a limit of one
// they must be exactly those of Cyrus's service.c.
func TestLoopStateMessages(t *testing.T) {
	type step struct {
		op   string // accept, done, drain
		want []mp.Message
	}
	tests := []struct {
		name   string
		limit  int
		maxUse int
		steps  []step
		drains bool
	}{
		{"cyrus single", 1, 250, []step{
			{"accept", []mp.Message{mp.Unavailable, mp.Connection}},
			{"done", []mp.Message{mp.Available}},
			{"accept", []mp.Message{mp.Unavailable, mp.Connection}},
			{"done", []mp.Message{mp.Available}},
		}, false},
		{"single last use", 1, 1, []step{
			{"accept", []mp.Message{mp.Unavailable, mp.Connection}},
			{"done", nil},
		}, true},
		{"multi", 3, 250, []step{
			{"accept", []mp.Message{mp.ConnectionMulti}},
			{"accept", []mp.Message{mp.ConnectionMulti}},
			{"accept", []mp.Message{mp.Unavailable, mp.Connection}},
			{"done", []mp.Message{mp.Available}},
			{"accept", []mp.Message{mp.Unavailable, mp.Connection}},
			{"done", []mp.Message{mp.Available}},
			{"done", nil},
			{"done", nil},
		}, false},
		{"multi uses run out", 3, 2, []step{
			{"accept", []mp.Message{mp.ConnectionMulti}},
			{"accept", []mp.Message{mp.Unavailable, mp.Connection}},
			{"done", nil},
			{"done", nil},
		}, true},
		{"multi drain while serving", 3, 250, []step{
			{"accept", []mp.Message{mp.ConnectionMulti}},
			{"drain", []mp.Message{mp.Unavailable}},
			{"done", nil},
		}, true},
		{"drain idle", 1, 250, []step{
			{"drain", nil},
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &loopState{limit: tt.limit, maxUse: tt.maxUse}
			for i, st := range tt.steps {
				var got []mp.Message
				switch st.op {
				case "accept":
					if !s.wantAccept() {
						t.Fatalf("step %d: would not accept", i)
					}
					got = s.onAccept()
				case "done":
					got = s.onDone()
				case "drain":
					got = s.onDrain()
				}
				if !reflect.DeepEqual(got, st.want) {
					t.Fatalf("step %d %s: got %v, want %v", i, st.op, got, st.want)
				}
			}
			if s.draining != tt.drains {
				t.Fatalf("draining = %v, want %v", s.draining, tt.drains)
			}
			if s.active != 0 {
				t.Fatalf("active = %d at end", s.active)
			}
		})
	}
}

func TestFitClientLimit(t *testing.T) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		t.Skip(err)
	}
	max := (int(rl.Cur) - fdReserve) / fdsPerSession
	for _, tt := range []struct{ in, want int }{
		{0, 1}, {1, 1}, {max, max}, {max + 100, max},
	} {
		if got := fitClientLimit(tt.in, logging.Discard()); got != tt.want {
			t.Errorf("fitClientLimit(%d) = %d, want %d (nofile %d)", tt.in, got, tt.want, rl.Cur)
		}
	}
}
