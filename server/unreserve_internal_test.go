package server

import (
	"context"
	goruntime "runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/semaphore"
)

// TestUnreserveStartsTheAdmittedFirst: an execution that gives the
// budget back to a waiting one lets it start before going on (to write
// its answer). On one processor the order is the scheduler's, not a
// matter of timing: the admitted goroutine finds that the releasing one
// has not continued yet, except when the scheduler's fairness check runs
// the global queue first (one schedule in 61). Without the yield in
// unreserve the releasing goroutine runs on every time.
func TestUnreserveStartsTheAdmittedFirst(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(1))
	const budget = 1 << 20
	s := &Server{budget: semaphore.NewWeighted(budget), budgetHeld: newClientBudget()}
	s.opts.MaxInflightBytes = budget
	entry := &planEntry{}
	entry.weight.Store(budget) // one execution at a time
	ctx := context.Background()

	const rounds = 40
	first := 0 // rounds in which the admitted execution started first
	for range rounds {
		held, err := s.reserve(ctx, entry)
		if err != nil {
			t.Fatal(err)
		}
		var continued atomic.Bool
		sawContinued := make(chan bool, 1)
		go func() {
			second, err := s.reserve(ctx, entry)
			if err != nil {
				t.Error(err)
			}
			sawContinued <- continued.Load()
			s.unreserve(second)
		}()
		deadline := time.Now().Add(10 * time.Second)
		for s.budgetWaiters.Load() == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the second execution never waited for the budget")
			}
			goruntime.Gosched()
		}
		s.unreserve(held)
		continued.Store(true)
		if !<-sawContinued {
			first++
		}
	}
	if first < rounds*3/4 {
		t.Fatalf("the admitted execution started first in %d of %d rounds; want nearly all", first, rounds)
	}
}
