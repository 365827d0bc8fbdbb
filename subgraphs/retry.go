package subgraphs

import (
	"math/rand/v2"
	"sync"
	"time"
)

// budgetBuckets is the number of slots a retry budget's window is
// counted in.
const budgetBuckets = 10

// retryBudget caps retries at a share of recent requests: over the last
// window, retries may not exceed ratio × requests + minPerSecond × window.
type retryBudget struct {
	ratio  float64
	floor  float64
	window time.Duration
	now    func() time.Time

	mu       sync.Mutex
	slot     int64
	requests [budgetBuckets]int
	retries  [budgetBuckets]int
}

func newRetryBudget(r Retry, now func() time.Time) *retryBudget {
	return &retryBudget{ratio: r.BudgetRatio, floor: r.MinPerSecond * r.BudgetWindow.Seconds(), window: r.BudgetWindow, now: now}
}

// Request counts a first attempt.
func (b *retryBudget) Request() {
	b.mu.Lock()
	b.requests[b.advance()]++
	b.mu.Unlock()
}

// Withdraw takes one retry from the budget; false when it is spent.
func (b *retryBudget) Withdraw() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := b.advance()
	var req, ret int
	for j := range budgetBuckets {
		req += b.requests[j]
		ret += b.retries[j]
	}
	if float64(ret+1) > b.ratio*float64(req)+b.floor {
		return false
	}
	b.retries[i]++
	return true
}

func (b *retryBudget) advance() int {
	width := b.window / budgetBuckets
	slot := b.now().UnixNano() / int64(width)
	if gap := slot - b.slot; gap > 0 {
		if gap > budgetBuckets {
			gap = budgetBuckets
		}
		for k := int64(1); k <= gap; k++ {
			i := (b.slot + k) % budgetBuckets
			b.requests[i], b.retries[i] = 0, 0
		}
		b.slot = slot
	}
	return int(b.slot % budgetBuckets)
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
