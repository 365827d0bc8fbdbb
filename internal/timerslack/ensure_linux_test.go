package timerslack

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestMain runs the helper instead of the tests when helperEnv is set: a
// process that calls Ensure (or FromEnv) and reports what it sees.
func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		helper(mode)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const helperEnv = "TIMERSLACK_TEST_HELPER"

// helper prints "start PID" (once per program start: twice when Ensure
// replaced the process), calls Ensure with the duration mode names (or
// FromEnv for "env"), and prints the slack of the main thread and of the
// thread it runs on, and whether the exec mark is still in the
// environment.
func helper(mode string) {
	fmt.Printf("start %d\n", os.Getpid())
	if mode == "env" {
		FromEnv()
	} else {
		want, err := time.ParseDuration(mode)
		if err != nil {
			fmt.Println("bad mode", mode)
			return
		}
		if err := Ensure(want); err != nil {
			fmt.Println("error", err)
		}
	}
	b, err := os.ReadFile("/proc/self/timerslack_ns")
	if err != nil {
		fmt.Println("error", err)
		return
	}
	runtime.LockOSThread()
	cur, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		fmt.Println("error", err)
		return
	}
	_, marked := os.LookupEnv(execMark)
	fmt.Printf("slack %s %d\nmarked %v\n", strings.TrimSpace(string(b)), cur, marked)
}

// ownSlack is the slack of the calling goroutine's thread.
func ownSlack(t *testing.T) int {
	t.Helper()
	cur, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return cur
}

func TestEnsure(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	base := ownSlack(t)
	tests := []struct {
		name string
		mode string
		env  []string
		// start is the slack the child starts with (0: the test's).
		start     int
		wantSlack int
		wantExec  bool
		wantOut   string
	}{
		{name: "raised by starting again", mode: "1ms", wantSlack: 1000000, wantExec: true},
		{name: "zero leaves it", mode: "0s", wantSlack: base},
		{name: "already larger", mode: "300us", start: 2000000, wantSlack: 2000000},
		{name: "mark present: never again", mode: "1ms", env: []string{execMark + "=1"}, wantSlack: base},
		{name: "from the environment", mode: "env", env: []string{EnvVar + "=400us"}, wantSlack: 400000, wantExec: true},
		{name: "default from the environment", mode: "env", wantSlack: int(Default), wantExec: true},
		{name: "off in the environment", mode: "env", env: []string{EnvVar + "=off"}, wantSlack: base},
		{name: "bad value in the environment", mode: "env", env: []string{EnvVar + "=1s"}, wantSlack: base, wantOut: "not between"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wantSlack == base && tt.wantExec {
				t.Skip("the test process already has the slack asked for")
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(append(envWithout(EnvVar, execMark), helperEnv+"="+tt.mode), tt.env...)
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			// A child's threads start with the slack of the thread that
			// forks it: this one, locked.
			if tt.start != 0 {
				if err := unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(tt.start), 0, 0, 0); err != nil {
					t.Fatal(err)
				}
			}
			err := cmd.Start()
			if tt.start != 0 {
				_ = unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(base), 0, 0, 0)
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("helper: %v\n%s%s", err, out.String(), errOut.String())
			}
			pid := strconv.Itoa(cmd.Process.Pid)
			starts := strings.Count(out.String(), "start "+pid+"\n")
			if want := map[bool]int{false: 1, true: 2}[tt.wantExec]; starts != want || strings.Count(out.String(), "start ") != want {
				t.Errorf("program started %d times as pid %s, want %d:\n%s", starts, pid, want, out.String())
			}
			if want := fmt.Sprintf("slack %d %d\nmarked false\n", tt.wantSlack, tt.wantSlack); !strings.HasSuffix(out.String(), want) {
				t.Errorf("helper printed\n%s\nwant it to end with\n%s", out.String(), want)
			}
			if !strings.Contains(errOut.String(), tt.wantOut) {
				t.Errorf("stderr %q, want %q in it", errOut.String(), tt.wantOut)
			}
		})
	}
}

// envWithout is the test's environment without the names given.
func envWithout(names ...string) []string {
	var env []string
next:
	for _, kv := range os.Environ() {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue next
			}
		}
		env = append(env, kv)
	}
	return env
}
