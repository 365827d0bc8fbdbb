//go:build unix && !linux

package freeport

import "syscall"

// socket is a TCP socket closed on exec. Without SOCK_CLOEXEC (macOS),
// the flag is set after the socket is made, under syscall.ForkLock as
// the net package does, so that no process forked meanwhile inherits it.
func socket() (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		return -1, err
	}
	syscall.CloseOnExec(fd)
	return fd, nil
}
