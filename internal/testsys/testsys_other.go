//go:build !unix && !windows

package testsys

import (
	"errors"
	"os/exec"
	"syscall"
	"time"
)

// ProcessCPU reports that this platform's CPU time is not read here.
func ProcessCPU() (time.Duration, error) {
	return 0, errors.New("testsys: no process CPU time on this platform")
}

// ReceiveBuffer leaves the socket's receive buffer as the platform sets it.
func ReceiveBuffer(n int) func(network, address string, c syscall.RawConn) error {
	return func(string, string, syscall.RawConn) error { return nil }
}

// KillGroupOnCancel leaves cmd as it is.
func KillGroupOnCancel(cmd *exec.Cmd) {}
