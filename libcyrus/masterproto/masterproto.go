// Package masterproto holds the wire protocol between master and the
// service processes it spawns. It is byte-for-byte the protocol of Cyrus's
// master(8), so either side can be a real Cyrus binary: the child receives
// the status pipe on fd 3 and the listening socket on fd 4, its service name
// in CYRUS_SERVICE and its listener index in CYRUS_ID, and reports its state
// with 8-byte messages {int32 message; int32 pid} in host byte order.
package masterproto

import (
	"encoding/binary"
	"fmt"
)

// File descriptors a service child inherits from master.
const (
	StatusFD = 3
	ListenFD = 4
)

// Environment variables master sets for every service child.
const (
	EnvService = "CYRUS_SERVICE"
	EnvID      = "CYRUS_ID"
)

// Message is what a child tells master about itself.
type Message int32

// The messages of Cyrus's master/service.h.
const (
	Available       Message = 0x01
	Unavailable     Message = 0x02
	Connection      Message = 0x03
	ConnectionMulti Message = 0x04
)

// Size is the length of one encoded status message.
const Size = 8

func (m Message) String() string {
	switch m {
	case Available:
		return "AVAILABLE"
	case Unavailable:
		return "UNAVAILABLE"
	case Connection:
		return "CONNECTION"
	case ConnectionMulti:
		return "CONNECTION_MULTI"
	}
	return fmt.Sprintf("0x%x", int32(m))
}

// Encode returns the 8 bytes a child writes to the status pipe. The struct
// in Cyrus is {int message; pid_t service_pid;}: two native 32-bit ints.
func Encode(m Message, pid int) [Size]byte {
	var b [Size]byte
	binary.NativeEndian.PutUint32(b[0:4], uint32(m))
	binary.NativeEndian.PutUint32(b[4:8], uint32(int32(pid)))
	return b
}

// Decode parses one status message.
func Decode(b []byte) (Message, int, error) {
	if len(b) != Size {
		return 0, 0, fmt.Errorf("status message of %d bytes, want %d", len(b), Size)
	}
	m := Message(int32(binary.NativeEndian.Uint32(b[0:4])))
	pid := int(int32(binary.NativeEndian.Uint32(b[4:8])))
	return m, pid, nil
}

// DaemonReady is what a wait=y daemon writes to fd 3 once it is ready.
const DaemonReady = "ok\r\n"
