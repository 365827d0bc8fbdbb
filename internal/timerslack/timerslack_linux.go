package timerslack

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func ensure(want time.Duration) error {
	// The slack is per thread: set and replace on the same one.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cur, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		return fmt.Errorf("reading the timer slack: %w", err)
	}
	if time.Duration(cur) >= want {
		return nil
	}
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(want.Nanoseconds()), 0, 0, 0); err != nil {
		return fmt.Errorf("setting the timer slack: %w", err)
	}
	// The program's path rather than /proc/self/exe, whose name would
	// become the process's (ps, top). A program removed since it started
	// fails the exec (the process goes on); one replaced at its path in
	// the microseconds since is the one started, as it would be at the
	// next start anyway.
	self, err := os.Executable()
	if err == nil {
		err = syscall.Exec(self, os.Args, append(os.Environ(), execMark+"=1"))
	}
	// Still here: the process goes on as it is. Put this thread back as
	// it was, for whatever runs on it next.
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(cur), 0, 0, 0)
	return fmt.Errorf("starting the program again: %w", err)
}
