package supervisor

import (
	"errors"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
)

// A master started while a killed master's processes still hold its
// port waits for them at start-up, and only then.
func TestBindWaitsForAddressInUse(t *testing.T) {
	tests := []struct {
		name    string
		wait    time.Duration // how long bind may retry (0: not at all)
		release time.Duration // when the holder lets go (0: never)
		wantErr bool
	}{
		{"released in time", 10 * time.Second, 300 * time.Millisecond, false},
		{"never released", 400 * time.Millisecond, 0, true},
		{"no waiting on reload", 0, 300 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			holder, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer holder.Close()
			addr := holder.Addr().String()
			if tt.release > 0 {
				time.AfterFunc(tt.release, func() { holder.Close() })
			}
			var until time.Time
			if tt.wait > 0 {
				until = time.Now().Add(tt.wait)
			}
			start := time.Now()
			socks, err := bindTCP("tcp", addr, until, logging.Discard())
			for _, s := range socks {
				s.close()
			}
			if tt.wantErr {
				if !errors.Is(err, unix.EADDRINUSE) {
					t.Fatalf("bind %s: %v, want EADDRINUSE", addr, err)
				}
				if time.Since(start) < tt.wait {
					t.Errorf("gave up after %v, before the %v allowed", time.Since(start), tt.wait)
				}
				return
			}
			if err != nil {
				t.Fatalf("bind %s once released: %v", addr, err)
			}
		})
	}
}
