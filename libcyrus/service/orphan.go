package service

import (
	"errors"

	"golang.org/x/sys/unix"
)

// watchMaster reports, by closing the returned channel, that master is
// gone: the read end of the status pipe (fd) has no reader left, which
// poll(2) tells the writer as POLLERR. A master killed with SIGKILL
// cannot shut its listeners down, and a child still accepting on them
// would keep the ports bound and serve on with nobody counting its
// processes; so the child stops accepting, finishes its sessions and
// exits, and the next master can bind. A fd that is not a pipe (a file,
// in tests) never reports, and the channel stays open.
func watchMaster(fd int) <-chan struct{} {
	gone := make(chan struct{})
	if fd < 0 {
		return gone
	}
	go func() {
		// Events 0: only POLLERR, POLLHUP and POLLNVAL can wake us.
		fds := []unix.PollFd{{Fd: int32(fd)}}
		for {
			_, err := unix.Poll(fds, -1)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				return
			}
			if fds[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0 {
				close(gone)
			}
			return
		}
	}()
	return gone
}
