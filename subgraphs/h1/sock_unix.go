//go:build unix

package h1

import (
	"io"
	"net"
	"os"
	"syscall"
)

// sock reads a plain TCP connection and writes each request from its
// first read of the answer. A read right after the request's write found
// nothing yet, the subgraph not having answered, and cost a system call
// that failed (EAGAIN, about 2 µs on the benchmark machine, once per
// fetch) before the wait for the answer. The request is written from
// within the wait's callback instead (syscall.RawConn.Read), after the
// poller forgot the socket's earlier readiness, so an answer arriving at
// any time after the write wakes the wait; the read follows the wake.
//
// A request the socket does not take at once (a full send buffer) is
// finished by the connection's blocking Write, and its answer read as
// usual.
type sock struct {
	nc  net.Conn
	raw syscall.RawConn
	// pending is the request to write before the next read; nil when
	// written.
	pending []byte
	// writeErr is why writing pending failed.
	writeErr error
	// The read in progress: its buffer, the bytes read and its error.
	p      []byte
	n      int
	err    error
	waited bool
	fn     func(fd uintptr) bool
}

// newSock returns the reader of nc, nil when nc is not a plain TCP
// connection.
func newSock(nc net.Conn) *sock {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	s := &sock{nc: nc, raw: raw}
	s.fn = s.step
	return s
}

// Read writes a pending request, waits for the answer and reads it; with
// nothing pending, it is the connection's Read.
func (s *sock) Read(p []byte) (int, error) {
	if s.pending == nil {
		return s.nc.Read(p)
	}
	s.p, s.n, s.err, s.waited = p, 0, nil, false
	err := s.raw.Read(s.fn)
	s.p = nil
	if oe, ok := err.(*net.OpError); ok && oe.Op == "raw-read" {
		oe.Op = "read" // as the connection's Read says it
	}
	if err != nil && s.pending != nil {
		// The deadline passed, or the connection was closed, before
		// the request was written.
		s.writeErr, s.pending = err, nil
		return 0, err
	}
	if rest := s.pending; rest != nil {
		// The socket took part of the request (or none of it).
		s.pending = nil
		if _, err := s.nc.Write(rest); err != nil {
			s.writeErr = err
			return 0, err
		}
		return s.nc.Read(p)
	}
	if err != nil {
		return 0, err
	}
	if s.writeErr != nil {
		return 0, s.writeErr
	}
	return s.n, s.err
}

// step is the callback of raw.Read: the first call writes the request
// (and returns false, to wait for the answer), the next ones read.
func (s *sock) step(fd uintptr) bool {
	if !s.waited {
		s.waited = true
		for len(s.pending) > 0 {
			n, err := syscall.Write(int(fd), s.pending)
			switch {
			case err == syscall.EINTR:
				continue
			case err == syscall.EAGAIN:
				return true // the rest is written by Read
			case err != nil:
				s.writeErr, s.pending = os.NewSyscallError("write", err), nil
				return true
			}
			s.pending = s.pending[n:]
		}
		s.pending = nil
		return false
	}
	for {
		n, err := syscall.Read(int(fd), s.p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return false // woken before the answer's bytes
		case err != nil:
			s.err = os.NewSyscallError("read", err)
		case n == 0 && len(s.p) > 0:
			s.err = io.EOF
		}
		s.n = max(n, 0)
		return true
	}
}
