package server

import (
	goruntime "runtime"
	"testing"
)

// TestDefaultMaxInflightBytes: the default budget of executing plans is
// 4 MiB per core the scheduler uses, never less than 8 MiB.
func TestDefaultMaxInflightBytes(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(0))
	for _, tt := range []struct {
		procs int
		want  int64
	}{{1, 8 << 20}, {2, 8 << 20}, {3, 12 << 20}, {4, 16 << 20}, {16, 64 << 20}} {
		goruntime.GOMAXPROCS(tt.procs)
		if got := DefaultMaxInflightBytes(); got != tt.want {
			t.Errorf("GOMAXPROCS %d: %d MiB, want %d MiB", tt.procs, got>>20, tt.want>>20)
		}
		if got := DefaultOptions().MaxInflightBytes; got != tt.want {
			t.Errorf("GOMAXPROCS %d: DefaultOptions has %d MiB", tt.procs, got>>20)
		}
	}
}
