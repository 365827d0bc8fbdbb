//go:build unix

package h1

import "syscall"

// peekQuiet reports whether nothing can be read from the socket yet: no
// end of stream (the server closed it) and no unasked bytes. The socket is
// non-blocking, so the peek returns at once.
func peekQuiet(rc syscall.RawConn) bool {
	var b [1]byte
	quiet := false
	err := rc.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK)
		quiet = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
		return true
	})
	return err == nil && quiet
}
