// Package serial marks tests that measure rates or latencies over real
// time. Such a test judges the machine as much as the code when other test
// binaries run beside it, so `make test` runs the whole suite with these
// tests skipped and then runs them alone, one package at a time.
package serial

import (
	"os"
	"testing"
)

// SkipEnv is the environment variable that, set to "1", skips every test
// marked with Timing. `make test` sets it for the parallel run of ./...
const SkipEnv = "FEDGATE_SKIP_TIMING_TESTS"

// Timing marks t as a timing-sensitive test: it is skipped while SkipEnv is
// set, because the Makefile runs it again in a serial step of its own.
// A plain `go test` runs it as usual.
func Timing(t testing.TB) {
	t.Helper()
	if os.Getenv(SkipEnv) == "1" {
		t.Skipf("timing-sensitive: runs in the serial step of make test (%s=1)", SkipEnv)
	}
}
