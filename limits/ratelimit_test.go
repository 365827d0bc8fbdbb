package limits

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for the memory limiter.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestMemoryLimiterGCRA(t *testing.T) {
	type step struct {
		advance time.Duration
		cost    int64
		allowed bool
		code    string
		remain  int64
		retry   time.Duration // checked when not allowed
	}
	tests := []struct {
		name  string
		tier  Tier
		steps []step
	}{
		{name: "burst of the limit, then one per interval",
			tier: Tier{Name: "t", Requests: 3, Window: 3 * time.Second},
			steps: []step{
				{allowed: true, remain: 2},
				{allowed: true, remain: 1},
				{allowed: true, remain: 0},
				{allowed: false, code: CodeRateLimited, retry: time.Second},
				{advance: 500 * time.Millisecond, allowed: false, code: CodeRateLimited, retry: 500 * time.Millisecond},
				{advance: 500 * time.Millisecond, allowed: true, remain: 0},
				{advance: 3 * time.Second, allowed: true, remain: 2},
			}},
		{name: "cost points",
			tier: Tier{Name: "t", Cost: 100, Window: 10 * time.Second},
			steps: []step{
				{cost: 60, allowed: true, remain: 40},
				{cost: 50, allowed: false, code: CodeCostLimitExceeded, retry: time.Second},
				{cost: 40, allowed: true, remain: 0}, // the refused request took nothing
				{advance: 2 * time.Second, cost: 20, allowed: true, remain: 0},
				{cost: 1, allowed: false, code: CodeCostLimitExceeded, retry: 100 * time.Millisecond},
			}},
		{name: "both limits: a refusal by cost counts no request",
			tier: Tier{Name: "t", Requests: 2, Cost: 10, Window: time.Second},
			steps: []step{
				{cost: 8, allowed: true, remain: 1},
				{cost: 8, allowed: false, code: CodeCostLimitExceeded},
				{cost: 2, allowed: true, remain: 0},
				{cost: 0, allowed: false, code: CodeRateLimited, retry: 500 * time.Millisecond},
			}},
		{name: "unlimited tier",
			tier:  Tier{Name: "t"},
			steps: []step{{allowed: true}, {allowed: true}, {cost: 1 << 40, allowed: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
			m := NewMemoryLimiter(clock.now)
			for i, s := range tt.steps {
				clock.advance(s.advance)
				v, err := m.Take(context.Background(), "client", tt.tier, s.cost)
				if err != nil {
					t.Fatal(err)
				}
				if v.Allowed != s.allowed || v.Code != s.code {
					t.Fatalf("step %d: allowed %v code %q, want %v %q", i, v.Allowed, v.Code, s.allowed, s.code)
				}
				if s.allowed && v.Remaining != s.remain {
					t.Fatalf("step %d: remaining %d, want %d", i, v.Remaining, s.remain)
				}
				if !s.allowed && s.retry > 0 && v.RetryAfter != s.retry {
					t.Fatalf("step %d: retry after %v, want %v", i, v.RetryAfter, s.retry)
				}
			}
		})
	}
}

// TestMemoryLimiterRate checks the long-run rate: over 10 simulated
// windows a client pressing 5 times its limit gets the burst plus exactly
// the limit per window.
func TestMemoryLimiterRate(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	m := NewMemoryLimiter(clock.now)
	tier := Tier{Name: "t", Requests: 100, Window: time.Second}
	served := 0
	for range 5000 { // 5000 attempts, 2ms apart: 10 s
		if v, _ := m.Take(context.Background(), "c", tier, 0); v.Allowed {
			served++
		}
		clock.advance(2 * time.Millisecond)
	}
	if served < 1099 || served > 1101 { // burst 100 + 10 s × 100
		t.Fatalf("served %d, want 1100", served)
	}
	if v, _ := m.Take(context.Background(), "other", tier, 0); !v.Allowed {
		t.Fatal("another client was limited")
	}
}

func TestVerdictHeaders(t *testing.T) {
	rec := httptest.NewRecorder()
	Verdict{Allowed: false, Code: CodeRateLimited, Limit: 10, Remaining: 0, Reset: 1500 * time.Millisecond, RetryAfter: 100 * time.Millisecond}.SetHeaders(rec.Header())
	want := map[string]string{"RateLimit-Limit": "10", "RateLimit-Remaining": "0", "RateLimit-Reset": "2", "Retry-After": "1"}
	for k, v := range want {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	rec = httptest.NewRecorder()
	Verdict{Allowed: true, Limit: 10, Remaining: 4, Reset: 3 * time.Second}.SetHeaders(rec.Header())
	if rec.Header().Get("Retry-After") != "" || rec.Header().Get("RateLimit-Remaining") != "4" {
		t.Fatalf("headers %v", rec.Header())
	}
}
