package executor

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestWorkerPool: every function handed over runs exactly once, however
// many run at once; the workers left waiting afterwards are at most the
// pool's bound, and a waiting worker takes the next function (no new
// goroutine).
func TestWorkerPool(t *testing.T) {
	for _, tc := range []struct {
		name       string
		maxIdle    int32
		concurrent int
	}{
		{"fewer than the bound", 4, 3},
		{"as many as the bound", 4, 4},
		{"more than the bound", 4, 20},
		{"no idle workers", 0, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newWorkerPool(tc.maxIdle)
			var ran atomic.Int32
			var started, done sync.WaitGroup
			gate := make(chan struct{})
			for range tc.concurrent {
				started.Add(1)
				done.Add(1)
				p.Go(func() {
					started.Done()
					<-gate // all run at once: each needs its own worker
					ran.Add(1)
					done.Done()
				})
			}
			started.Wait()
			close(gate)
			done.Wait()
			if got := ran.Load(); got != int32(tc.concurrent) {
				t.Fatalf("ran %d functions, want %d", got, tc.concurrent)
			}
			want := min(tc.maxIdle, int32(tc.concurrent))
			waitFor(t, func() bool { return p.idle.Load() == want })
			// A second round is taken by the waiting workers: the one
			// that takes a function stops counting itself idle while it
			// runs it (a new goroutine would leave the count as it was).
			for range 3 {
				waitFor(t, func() bool { return p.idle.Load() == want })
				var during int32
				done.Add(1)
				p.Go(func() { during = p.idle.Load(); ran.Add(1); done.Done() })
				done.Wait()
				if wantDuring := max(want-1, 0); during != wantDuring {
					t.Fatalf("%d idle workers while one ran, want %d", during, wantDuring)
				}
			}
			if got := ran.Load(); got != int32(tc.concurrent)+3 {
				t.Fatalf("ran %d functions, want %d", got, tc.concurrent+3)
			}
			waitFor(t, func() bool { return p.idle.Load() == want })
			if n := p.idle.Load(); n > tc.maxIdle {
				t.Fatalf("%d idle workers, bound %d", n, tc.maxIdle)
			}
		})
	}
}

// waitFor polls cond for up to 5 s: a worker counts itself idle just
// after the function it ran returns.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}
