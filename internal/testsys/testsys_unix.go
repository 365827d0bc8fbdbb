//go:build unix

package testsys

import (
	"os/exec"
	"syscall"
	"time"
)

// ProcessCPU is the user plus system CPU time this process has used.
func ProcessCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// ReceiveBuffer is a net.Dialer Control that asks for a socket receive
// buffer of n bytes (the kernel may round it), so that a client that
// does not read fills its socket soon.
func ReceiveBuffer(n int) func(network, address string, c syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, n) })
	}
}

// KillGroupOnCancel makes cmd start a process group of its own and, when
// its context ends, kill the whole group: a shell's children too, which
// would otherwise hold its output open.
func KillGroupOnCancel(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
