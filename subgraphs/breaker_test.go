package subgraphs

import (
	"testing"
	"time"
)

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Unix(1_700_000_000, 0)} }
func outcomes(b *breaker, ok bool, n int) {
	for range n {
		if b.Allow() {
			b.Record(ok)
		}
	}
}

func TestBreaker(t *testing.T) {
	cfg := Breaker{Enabled: true, Window: 10 * time.Second, MinRequests: 10, FailureRatio: 0.5, OpenTimeout: 5 * time.Second, HalfOpenRequests: 2}
	for _, tc := range []struct {
		name string
		cfg  Breaker
		run  func(b *breaker, c *clock)
		want BreakerState
	}{
		{"few failures stay closed", cfg, func(b *breaker, c *clock) { outcomes(b, false, 9) }, StateClosed},
		{"min requests at the ratio open", cfg, func(b *breaker, c *clock) { outcomes(b, true, 5); outcomes(b, false, 5) }, StateOpen},
		{"below the ratio stays closed", cfg, func(b *breaker, c *clock) { outcomes(b, true, 6); outcomes(b, false, 4) }, StateClosed},
		{"old outcomes leave the window", cfg, func(b *breaker, c *clock) {
			outcomes(b, false, 9)
			c.advance(11 * time.Second)
			outcomes(b, false, 1)
		}, StateClosed},
		{"consecutive failures open", func() Breaker { c := cfg; c.ConsecutiveFailures = 3; return c }(), func(b *breaker, c *clock) {
			outcomes(b, true, 100)
			outcomes(b, false, 3)
		}, StateOpen},
		{"open becomes half-open after the timeout", cfg, func(b *breaker, c *clock) {
			outcomes(b, false, 10)
			c.advance(5 * time.Second)
		}, StateHalfOpen},
		{"half-open closes after enough good probes", cfg, func(b *breaker, c *clock) {
			outcomes(b, false, 10)
			c.advance(5 * time.Second)
			outcomes(b, true, 2)
		}, StateClosed},
		{"a failed probe reopens", cfg, func(b *breaker, c *clock) {
			outcomes(b, false, 10)
			c.advance(5 * time.Second)
			outcomes(b, true, 1)
			outcomes(b, false, 1)
		}, StateOpen},
		{"trip opens, probe half-opens", cfg, func(b *breaker, c *clock) {
			b.Trip()
			b.Probe()
		}, StateHalfOpen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			b := newBreaker(tc.cfg, c.now, nil)
			tc.run(b, c)
			if got := b.State(); got != tc.want {
				t.Errorf("state %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBreakerFailsFastAndLimitsProbes(t *testing.T) {
	c := newClock()
	var changes []string
	b := newBreaker(Breaker{Enabled: true, Window: 10 * time.Second, MinRequests: 2, FailureRatio: 1, OpenTimeout: time.Second, HalfOpenRequests: 1},
		c.now, func(from, to BreakerState) { changes = append(changes, from.String()+">"+to.String()) })
	outcomes(b, false, 2)
	if b.Allow() {
		t.Fatal("an open breaker allowed a request")
	}
	c.advance(time.Second)
	if !b.Allow() {
		t.Fatal("a half-open breaker refused the probe")
	}
	if b.Allow() {
		t.Fatal("a half-open breaker allowed a second concurrent probe")
	}
	b.Cancel()
	if !b.Allow() {
		t.Fatal("a cancelled probe was not given back")
	}
	b.Record(true)
	if !b.Allow() || b.State() != StateClosed {
		t.Fatalf("state %v after a good probe", b.State())
	}
	if got := len(changes); got != 3 || changes[0] != "closed>open" || changes[1] != "open>half-open" || changes[2] != "half-open>closed" {
		t.Errorf("state changes %v", changes)
	}
	var nilBreaker *breaker
	if !nilBreaker.Allow() || nilBreaker.State() != StateClosed {
		t.Error("a disabled breaker must allow everything")
	}
}

func TestRetryBudget(t *testing.T) {
	c := newClock()
	b := newRetryBudget(Retry{BudgetRatio: 0.2, MinPerSecond: 0, BudgetWindow: 10 * time.Second}, c.now)
	for range 50 {
		b.Request()
	}
	allowed := 0
	for range 50 {
		if b.Withdraw() {
			allowed++
		}
	}
	if allowed != 10 {
		t.Errorf("%d retries allowed for 50 requests at 20%%, want 10", allowed)
	}
	c.advance(11 * time.Second)
	if b.Withdraw() {
		t.Error("a retry allowed with no recent requests and no floor")
	}
	floor := newRetryBudget(Retry{BudgetRatio: 0, MinPerSecond: 1, BudgetWindow: 10 * time.Second}, c.now)
	n := 0
	for range 20 {
		if floor.Withdraw() {
			n++
		}
	}
	if n != 10 {
		t.Errorf("floor of 1/s over 10s allowed %d retries, want 10", n)
	}
}

func TestBackoff(t *testing.T) {
	r := Retry{Backoff: 100 * time.Millisecond, MaxBackoff: 300 * time.Millisecond}
	for _, tc := range []struct {
		n        int
		min, max time.Duration
	}{
		{1, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 100 * time.Millisecond, 200 * time.Millisecond},
		{3, 150 * time.Millisecond, 300 * time.Millisecond},
		{8, 150 * time.Millisecond, 300 * time.Millisecond},
	} {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := backoff(r, tc.n)
			if d < tc.min || d > tc.max {
				t.Fatalf("retry %d waited %v, want [%v, %v]", tc.n, d, tc.min, tc.max)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("retry %d: only %d distinct waits: no jitter", tc.n, len(seen))
		}
	}
}
