//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package subscriptions

import (
	"syscall"
	"unsafe"
)

// rawWrites says rawWrite can write to a socket on this system.
const rawWrites = true

// rawWrite is one write system call to the non-blocking socket fd, made
// without the scheduler's bookkeeping (a raw system call). A system call
// the scheduler knows of that lasts over 20 µs (a loopback write runs the
// receiving side's TCP path too, and longer when the CPU is taken away)
// while other goroutines wait has its processor handed to another
// thread, and the writer then parks its own when the call returns: a
// fan-out of thousands of writes paid thread switches for that. The
// socket never blocks the call (the runtime's sockets are non-blocking),
// so nothing waits on it for long.
func rawWrite(fd uintptr, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
