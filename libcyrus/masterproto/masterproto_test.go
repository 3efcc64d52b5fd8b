package masterproto

import "testing"

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		m   Message
		pid int
	}{
		{Available, 1},
		{Unavailable, 4242},
		{Connection, 1 << 30},
		{ConnectionMulti, 7},
	}
	for _, tt := range tests {
		b := Encode(tt.m, tt.pid)
		m, pid, err := Decode(b[:])
		if err != nil || m != tt.m || pid != tt.pid {
			t.Errorf("Decode(Encode(%v, %d)) = %v, %d, %v", tt.m, tt.pid, m, pid, err)
		}
	}
}

func TestDecodeShort(t *testing.T) {
	if _, _, err := Decode([]byte{1, 2, 3}); err == nil {
		t.Fatal("short message decoded without error")
	}
}

// The encoding must be the C struct's layout on this host: message first.
func TestLayout(t *testing.T) {
	b := Encode(Connection, 0)
	var zero [4]byte
	if [4]byte(b[4:8]) != zero {
		t.Fatalf("pid bytes not zero: %v", b)
	}
	if b[0] != 3 && b[3] != 3 {
		t.Fatalf("message not in first word: %v", b)
	}
}
