package mailbox

import (
	"context"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Watch returns a channel that receives (without blocking the sender)
// whenever the mailbox's index file is written, so IDLE can tell its
// client at once about changes made by other processes (DESIGN.md 3). It
// uses inotify; where that fails, ok is false and the caller polls. Cancel
// ctx to stop watching.
func (m *Mailbox) Watch(ctx context.Context) (ch <-chan struct{}, ok bool) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, false
	}
	path := filepath.Join(m.fs.metaDir, indexFileName)
	if _, err := unix.InotifyAddWatch(fd, path, unix.IN_MODIFY|unix.IN_CLOSE_WRITE|unix.IN_ATTRIB|unix.IN_DELETE_SELF|unix.IN_MOVE_SELF); err != nil {
		unix.Close(fd)
		return nil, false
	}
	out := make(chan struct{}, 1)
	go func() {
		defer unix.Close(fd)
		buf := make([]byte, 4096)
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for ctx.Err() == nil {
			// Poll in short slices so cancellation is noticed without a
			// second descriptor to wake us.
			n, err := unix.Poll(fds, 200)
			if err != nil && err != unix.EINTR {
				return
			}
			if n <= 0 {
				continue
			}
			for {
				if k, _ := unix.Read(fd, buf); k <= 0 {
					break
				}
			}
			select {
			case out <- struct{}{}:
			default:
			}
		}
	}()
	return out, true
}
