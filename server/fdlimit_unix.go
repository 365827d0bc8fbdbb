//go:build unix

package server

import "syscall"

// halfDescriptorLimit is half the process's soft limit of open files
// (RLIMIT_NOFILE; Go raises it to the hard limit at start), or 0 when it
// cannot be read.
func halfDescriptorLimit() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == 0 {
		return 0
	}
	if rl.Cur > 1<<40 {
		return 1 << 39
	}
	return int(rl.Cur / 2)
}
