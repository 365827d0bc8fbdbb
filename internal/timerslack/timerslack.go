package timerslack

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// EnvVar names the environment variable that sets the slack: a Go
// duration such as 250us, or 0 or off to keep the kernel's default.
const EnvVar = "FEDGATE_TIMER_SLACK"

// execMark is set in the environment of the copy Ensure starts, so that
// the copy never starts another (whatever its slack turns out to be), and
// removed by the copy.
const execMark = "FEDGATE_TIMER_SLACK_EXECED"

// Default is the slack when EnvVar is not set: under the shared benchmark
// harness's load (docs/bench.md, session 11) it took the gateway's context
// switches per request from 11.1 to 9.4 and the monitor thread's sleeps
// from 3.7 to 2.6. A larger one delays every timer the runtime sleeps on
// more and did little more good.
const Default = 250 * time.Microsecond

// Max bounds the slack EnvVar may ask for: the runtime's timers (timeouts,
// deadlines, sleeps) may fire up to the slack late.
const Max = 10 * time.Millisecond

// Parse reads EnvVar's value: "" is Default, "0" and "off" are 0 (keep
// the kernel's default), anything else a duration from 0 to Max.
func Parse(v string) (time.Duration, error) {
	switch strings.TrimSpace(v) {
	case "":
		return Default, nil
	case "0", "off":
		return 0, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", EnvVar, err)
	}
	if d < 0 || d > Max {
		return 0, fmt.Errorf("%s: %v is not between 0 and %v", EnvVar, d, Max)
	}
	return d, nil
}

// FromEnv is Ensure with the slack EnvVar asks for. A value Parse refuses
// is reported on stderr and leaves the slack alone.
func FromEnv() {
	want, err := Parse(os.Getenv(EnvVar))
	if err != nil {
		os.Unsetenv(execMark)
		fmt.Fprintln(os.Stderr, "gateway:", err)
		return
	}
	if err := Ensure(want); err != nil {
		fmt.Fprintln(os.Stderr, "gateway: timer slack not set:", err)
	}
}

// Ensure gives the process a timer slack of at least want, replacing the
// process with a new copy of its program (same pid, arguments and
// environment) when its threads have less. It returns when nothing needs
// to be done (want is 0, the slack is already that large, the process is
// the copy Ensure started, or not on Linux), or with the error that kept
// it from replacing the process, which then goes on unchanged.
func Ensure(want time.Duration) error {
	if _, ok := os.LookupEnv(execMark); ok {
		os.Unsetenv(execMark)
		return nil
	}
	if want <= 0 {
		return nil
	}
	return ensure(want)
}
