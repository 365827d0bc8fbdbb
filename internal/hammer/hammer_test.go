package hammer

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestRunLoopsUntilStop: every goroutine runs rounds with its own index
// until stop is closed, and wait returns once all have returned.
func TestRunLoopsUntilStop(t *testing.T) {
	const n = 4
	var rounds [n]atomic.Int64
	stop := make(chan struct{})
	wait := Run(n, stop, func(i int) bool {
		rounds[i].Add(1)
		time.Sleep(time.Millisecond)
		return true
	})
	deadline := time.Now().Add(10 * time.Second)
	for i := range n {
		for rounds[i].Load() < 3 {
			if time.Now().After(deadline) {
				t.Fatalf("goroutine %d ran %d rounds in 10s", i, rounds[i].Load())
			}
			time.Sleep(time.Millisecond)
		}
	}
	close(stop)
	wait()
	var after [n]int64
	for i := range n {
		after[i] = rounds[i].Load()
	}
	time.Sleep(20 * time.Millisecond)
	for i := range n {
		if got := rounds[i].Load(); got != after[i] {
			t.Errorf("goroutine %d ran %d rounds after wait returned", i, got-after[i])
		}
	}
}

// TestRunRoundEndsItsGoroutine: a round that returns false ends its own
// goroutine only; the others run until stop.
func TestRunRoundEndsItsGoroutine(t *testing.T) {
	var rounds [2]atomic.Int64
	stop := make(chan struct{})
	wait := Run(2, stop, func(i int) bool {
		rounds[i].Add(1)
		time.Sleep(time.Millisecond)
		return i != 0
	})
	deadline := time.Now().Add(10 * time.Second)
	for rounds[1].Load() < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("goroutine 1 ran %d rounds in 10s", rounds[1].Load())
		}
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wait()
	if got := rounds[0].Load(); got != 1 {
		t.Errorf("goroutine 0 ran %d rounds, want 1 (its round returned false)", got)
	}
}

// TestRunStoppedBeforeStart: with stop already closed no round runs.
func TestRunStoppedBeforeStart(t *testing.T) {
	stop := make(chan struct{})
	close(stop)
	var rounds atomic.Int64
	Run(3, stop, func(int) bool { rounds.Add(1); return true })()
	if got := rounds.Load(); got != 0 {
		t.Errorf("%d rounds ran after stop", got)
	}
}
