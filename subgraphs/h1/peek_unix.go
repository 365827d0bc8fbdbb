//go:build unix

package h1

import "syscall"

// peeker looks at an idle socket without reading from it. Its method
// value is made once per connection: a closure per check would allocate.
type peeker struct {
	b     [1]byte
	quiet bool
	fn    func(fd uintptr) bool
}

func (p *peeker) peek(fd uintptr) bool {
	_, _, err := syscall.Recvfrom(int(fd), p.b[:], syscall.MSG_PEEK)
	p.quiet = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
	return true
}

// peekQuiet reports whether nothing can be read from the socket yet: no
// end of stream (the server closed it) and no unasked bytes. The socket is
// non-blocking, so the peek returns at once.
func peekQuiet(rc syscall.RawConn, p *peeker) bool {
	if p.fn == nil {
		p.fn = p.peek
	}
	p.quiet = false
	return rc.Read(p.fn) == nil && p.quiet
}
