package subscriptions

import (
	"net"
	"syscall"
)

// waitReadable blocks until conn has bytes to read (or is closed or
// broken) and reports whether it could wait this way; false when conn is
// not a socket (TLS), and the caller reads instead. It consumes nothing:
// a non-blocking MSG_PEEK finds data already there (the poller only
// reports data that arrives after a read came up empty), otherwise the
// runtime's poller parks the goroutine, whose stack stays at its minimum.
func waitReadable(conn net.Conn) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var b [1]byte
	_ = rc.Read(func(fd uintptr) bool {
		for {
			_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if err != syscall.EINTR {
				// Bytes, the end of the stream or an error: the reader
				// finds out which. EAGAIN: park until more arrive.
				return err != syscall.EAGAIN
			}
		}
	})
	return true
}
