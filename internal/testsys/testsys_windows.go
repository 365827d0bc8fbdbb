//go:build windows

package testsys

import (
	"os/exec"
	"syscall"
	"time"
)

// ProcessCPU is the user plus system CPU time this process has used.
func ProcessCPU() (time.Duration, error) {
	h, err := syscall.GetCurrentProcess()
	if err != nil {
		return 0, err
	}
	var created, exited, kernel, user syscall.Filetime
	if err := syscall.GetProcessTimes(h, &created, &exited, &kernel, &user); err != nil {
		return 0, err
	}
	// A Filetime here is a duration in 100 ns units.
	ticks := func(f syscall.Filetime) int64 { return int64(f.HighDateTime)<<32 | int64(f.LowDateTime) }
	return time.Duration((ticks(kernel) + ticks(user)) * 100), nil
}

// ReceiveBuffer is a net.Dialer Control that asks for a socket receive
// buffer of n bytes, so that a client that does not read fills its
// socket soon.
func ReceiveBuffer(n int) func(network, address string, c syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(syscall.Handle(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, n)
		})
	}
}

// KillGroupOnCancel leaves cmd as it is: Windows has no process groups
// to signal; the context's end kills the process alone.
func KillGroupOnCancel(cmd *exec.Cmd) {}
