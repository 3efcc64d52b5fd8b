package service

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
)

func TestWatchMaster(t *testing.T) {
	tests := []struct {
		name      string
		closeRead bool
		noFD      bool
		wantGone  bool
	}{
		{"master exits", true, false, true},
		{"master alive", false, false, false},
		{"nothing to watch", false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, wr, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer wr.Close()
			defer rd.Close()
			fd := int(wr.Fd())
			if tt.noFD {
				fd = -1
			}
			gone := watchMaster(fd)
			if tt.closeRead {
				rd.Close()
			}
			wait := 100 * time.Millisecond
			if tt.wantGone {
				wait = 5 * time.Second
			}
			select {
			case <-gone:
				if !tt.wantGone {
					t.Fatal("reported master gone while it reads the pipe")
				}
			case <-time.After(wait):
				if tt.wantGone {
					t.Fatal("did not notice the status pipe's reader is gone")
				}
			}
		})
	}
}

// A process whose master dies stops listening at once (so a new master
// can bind the port), lets its session finish, and exits.
func TestRunnerExitsWhenMasterDies(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer wr.Close()
	sessionEnd := make(chan struct{})
	h := HandlerFunc(func(ctx context.Context, c net.Conn) { <-sessionEnd })
	r := &runner{
		runnerConfig: runnerConfig{maxUse: 250, reuseTimeout: time.Hour, clientLimit: 2, logger: logging.Discard(), handler: h},
		ln:           ln, status: wr, statusFD: int(wr.Fd()), conns: map[net.Conn]struct{}{},
	}
	exited := make(chan int)
	go func() { exited <- r.run(context.Background()) }()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// CONNECTION_MULTI reaches the pipe once the session is accepted.
	var b [8]byte
	if _, err := rd.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	rd.Close()

	deadline := time.Now().Add(5 * time.Second)
	for {
		probe, err := net.Listen("tcp", ln.Addr().String())
		if err == nil {
			probe.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("listener still bound after master died: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case <-exited:
		t.Fatal("exited with a session still running")
	case <-time.After(100 * time.Millisecond):
	}
	close(sessionEnd)
	select {
	case code := <-exited:
		if code != exitOK {
			t.Errorf("exit %d, want %d", code, exitOK)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("did not exit once its session ended")
	}
}
