//go:build unix

package freeport

import (
	"fmt"
	"io"
	"syscall"
)

// hold binds a socket to port of 127.0.0.1 (0: one the kernel chooses)
// without listening, and returns the port bound and the socket.
func hold(port int) (int, io.Closer, error) {
	fd, err := socket()
	if err != nil {
		return 0, nil, fmt.Errorf("socket: %w", err)
	}
	// SO_REUSEADDR lets a server with SO_REUSEADDR bind the port beside
	// this socket (Linux, Shares); a bind to port 0 and a connect() still
	// never choose it.
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		_ = syscall.Close(fd)
		return 0, nil, fmt.Errorf("SO_REUSEADDR: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		_ = syscall.Close(fd)
		return 0, nil, fmt.Errorf("bind 127.0.0.1:%d: %w", port, err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		_ = syscall.Close(fd)
		return 0, nil, fmt.Errorf("getsockname: %w", err)
	}
	in4, ok := sa.(*syscall.SockaddrInet4)
	if !ok {
		_ = syscall.Close(fd)
		return 0, nil, fmt.Errorf("getsockname: %T, want an IPv4 address", sa)
	}
	return in4.Port, fdCloser(fd), nil
}

// fdCloser closes a socket's file descriptor.
type fdCloser int

func (fd fdCloser) Close() error { return syscall.Close(int(fd)) }
