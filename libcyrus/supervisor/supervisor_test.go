package supervisor

import (
	"os/exec"
	"reflect"
	"syscall"
	"testing"
	"time"
)

func TestTCPAddrs(t *testing.T) {
	tests := []struct {
		network, address string
		want             []string
		err              bool
	}{
		{"tcp", ":143", []string{"0.0.0.0:143", "[::]:143"}, false},
		{"tcp4", ":143", []string{"0.0.0.0:143"}, false},
		{"tcp6", ":143", []string{"[::]:143"}, false},
		{"tcp4", "127.0.0.1:24", []string{"127.0.0.1:24"}, false},
		{"tcp6", "[::1]:4190", []string{"[::1]:4190"}, false},
		{"tcp", "127.0.0.1:x", nil, true},
		{"tcp", "nohostport", nil, true},
	}
	for _, tt := range tests {
		got, err := tcpAddrs(tt.network, tt.address)
		if (err != nil) != tt.err {
			t.Errorf("tcpAddrs(%q, %q) error %v", tt.network, tt.address, err)
			continue
		}
		var s []string
		for _, ap := range got {
			s = append(s, ap.String())
		}
		if !reflect.DeepEqual(s, tt.want) {
			t.Errorf("tcpAddrs(%q, %q) = %v, want %v", tt.network, tt.address, s, tt.want)
		}
	}
}

func TestDescribeExit(t *testing.T) {
	tests := []struct {
		script string
		want   string
		failed bool
	}{
		{"exit 0", "exited normally", false},
		{"exit 3", "exited, status 3", true},
		{"kill -SEGV $$", "signaled to death by signal 11 (Segmentation fault)", true},
		{"kill -HUP $$", "signaled to death by signal 1 (Hangup)", true},
	}
	for _, tt := range tests {
		cmd := exec.Command("/bin/sh", "-c", "ulimit -c 0; "+tt.script)
		cmd.Run()
		got, failed := describeExit(cmd.ProcessState)
		if got != tt.want || failed != tt.failed {
			t.Errorf("%s: got %q %v, want %q %v", tt.script, got, failed, tt.want, tt.failed)
		}
	}
	if signalText(syscall.SIGKILL) != "Killed" {
		t.Errorf("signalText(SIGKILL) = %q", signalText(syscall.SIGKILL))
	}
}

func TestForkRate(t *testing.T) {
	var f forkRate
	f.limit = 2
	start := time.Unix(1000, 0)
	allowed := 0
	// Ask for a fork every 10ms for 5 seconds: the average must settle near
	// the limit, not at 100 per second.
	for i := 0; i < 500; i++ {
		now := start.Add(time.Duration(i) * 10 * time.Millisecond)
		if f.allow(now) {
			f.forked()
			allowed++
		}
	}
	if allowed > 30 || allowed < 5 {
		t.Fatalf("%d forks in 5s with maxforkrate 2", allowed)
	}
	unlimited := forkRate{}
	for i := 0; i < 100; i++ {
		if !unlimited.allow(start) {
			t.Fatal("maxforkrate 0 limited a fork")
		}
	}
}

func TestEarliest(t *testing.T) {
	a, b := time.Unix(1, 0), time.Unix(2, 0)
	if earliest(time.Time{}, b) != b || earliest(a, b) != a || earliest(b, a) != a || earliest(a, time.Time{}) != a {
		t.Fatal("earliest")
	}
}
