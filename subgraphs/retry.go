package subgraphs

import (
	"math/rand/v2"
	"sync"
	"time"
)

// retryBudget caps retries at a share of recent requests: over the last
// window, retries may not exceed ratio × requests + minPerSecond × window.
type retryBudget struct {
	ratio float64
	floor float64
	now   func() time.Time

	mu sync.Mutex
	// counts holds requests (a) and retries (b).
	counts rollingPair
}

func newRetryBudget(r Retry, now func() time.Time) *retryBudget {
	return &retryBudget{ratio: r.BudgetRatio, floor: r.MinPerSecond * r.BudgetWindow.Seconds(), now: now,
		counts: rollingPair{window: r.BudgetWindow}}
}

// Request counts a first attempt.
func (b *retryBudget) Request() {
	b.mu.Lock()
	b.counts.addA(b.now())
	b.mu.Unlock()
}

// Withdraw takes one retry from the budget; false when it is spent.
func (b *retryBudget) Withdraw() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	req, ret := b.counts.sums(now)
	if float64(ret+1) > b.ratio*float64(req)+b.floor {
		return false
	}
	b.counts.addB(now)
	return true
}

// backoff is the jittered wait before retry number n (1 for the first):
// base × 2^(n-1), capped at max, then a random duration between half of
// it and all of it.
func backoff(r Retry, n int) time.Duration {
	d := r.Backoff
	for i := 1; i < n && d < r.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, r.MaxBackoff)
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + rand.N(d-half+1)
}
