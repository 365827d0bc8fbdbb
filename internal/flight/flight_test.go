package flight

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSharesOneComputation(t *testing.T) {
	var g Group[int]
	var calls atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	results := make([]int, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, _, err := g.Do(context.Background(), "k", func(context.Context) (int, error) {
				calls.Add(1)
				<-release
				return 42, nil
			})
			if err != nil {
				t.Error(err)
			}
			results[i] = v
		}()
	}
	for g.InFlight() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if calls.Load() != 1 {
		t.Fatalf("%d computations, want 1", calls.Load())
	}
	for _, r := range results {
		if r != 42 {
			t.Fatalf("got %d", r)
		}
	}
}

// TestAbandonedComputationIsCancelled: when every caller has left, the
// computation's context ends (issue 15 item 14), and it keeps the first
// caller's deadline.
func TestAbandonedComputationIsCancelled(t *testing.T) {
	var g Group[int]
	ended := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	_, _, err := g.Do(ctx, "k", func(c context.Context) (int, error) {
		<-c.Done()
		ended <- c.Err()
		return 0, c.Err()
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Do: %v", err)
	}
	select {
	case <-ended:
	case <-time.After(2 * time.Second):
		t.Fatal("the computation ran on after every caller left")
	}
	dctx, dcancel := context.WithTimeout(context.Background(), time.Hour)
	defer dcancel()
	_, _, _ = g.Do(dctx, "d", func(c context.Context) (int, error) {
		if _, ok := c.Deadline(); !ok {
			t.Error("the computation lost the caller's deadline")
		}
		return 0, nil
	})
}

func TestPanicIsAnError(t *testing.T) {
	var g Group[int]
	_, _, err := g.Do(context.Background(), "k", func(context.Context) (int, error) { panic("boom") })
	if err == nil {
		t.Fatal("want an error")
	}
}
