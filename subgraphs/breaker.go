package subgraphs

import (
	"sync"
	"time"
)

// BreakerState is the state of a circuit breaker.
type BreakerState int

// The breaker states; the numbers are the values of the
// fedgate_circuit_breaker_state metric.
const (
	StateClosed   BreakerState = 0
	StateHalfOpen BreakerState = 1
	StateOpen     BreakerState = 2
)

func (s BreakerState) String() string {
	switch s {
	case StateOpen:
		return "open"
	case StateHalfOpen:
		return "half-open"
	}
	return "closed"
}

// breaker is a circuit breaker over a rolling window of outcomes (see
// Breaker for the rules). A nil *breaker allows everything.
type breaker struct {
	cfg      Breaker
	now      func() time.Time
	onChange func(from, to BreakerState)

	mu          sync.Mutex
	state       BreakerState
	openedAt    time.Time
	consecutive int
	probes      int // half-open: probes let through
	probeOK     int // half-open: probes that succeeded
	// outcomes holds successes (a) and failures (b) over cfg.Window.
	outcomes rollingPair
}

func newBreaker(cfg Breaker, now func() time.Time, onChange func(from, to BreakerState)) *breaker {
	if !cfg.Enabled {
		return nil
	}
	return &breaker{cfg: cfg, now: now, onChange: onChange, outcomes: rollingPair{window: cfg.Window}}
}

// State returns the current state (an open breaker whose timeout has
// passed reports half-open).
func (b *breaker) State() BreakerState {
	if b == nil {
		return StateClosed
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == StateOpen && b.now().Sub(b.openedAt) >= b.cfg.OpenTimeout {
		return StateHalfOpen
	}
	return b.state
}

// Allow says whether a request may be sent. A request allowed must be
// followed by Record or Cancel.
func (b *breaker) Allow() bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case StateClosed:
		return true
	case StateOpen:
		if b.now().Sub(b.openedAt) < b.cfg.OpenTimeout {
			return false
		}
		b.setState(StateHalfOpen)
		b.probes, b.probeOK = 0, 0
	}
	if b.probes >= b.cfg.HalfOpenRequests {
		return false
	}
	b.probes++
	return true
}

// Cancel gives back an allowance that led to no request (the caller's
// context ended before it was sent).
func (b *breaker) Cancel() {
	if b == nil {
		return
	}
	b.mu.Lock()
	if b.state == StateHalfOpen && b.probes > 0 {
		b.probes--
	}
	b.mu.Unlock()
}

// Record reports the outcome of an allowed request.
func (b *breaker) Record(ok bool) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case StateHalfOpen:
		if !ok {
			b.open()
			return
		}
		b.probeOK++
		if b.probeOK >= b.cfg.HalfOpenRequests {
			b.reset()
			b.setState(StateClosed)
		}
		return
	case StateOpen:
		// An answer to a request sent before the breaker opened.
		return
	}
	now := b.now()
	if ok {
		b.outcomes.addA(now)
		b.consecutive = 0
		return
	}
	b.outcomes.addB(now)
	b.consecutive++
	if b.cfg.ConsecutiveFailures > 0 && b.consecutive >= b.cfg.ConsecutiveFailures {
		b.open()
		return
	}
	s, f := b.outcomes.sums(now)
	if s+f >= b.cfg.MinRequests && float64(f) >= b.cfg.FailureRatio*float64(s+f) {
		b.open()
	}
}

// Trip opens the breaker now (a failed health check).
func (b *breaker) Trip() {
	if b == nil {
		return
	}
	b.mu.Lock()
	if b.state != StateOpen {
		b.open()
	}
	b.mu.Unlock()
}

// Probe lets an open breaker probe now instead of waiting for its
// timeout (a passed health check).
func (b *breaker) Probe() {
	if b == nil {
		return
	}
	b.mu.Lock()
	if b.state == StateOpen {
		b.openedAt = b.now().Add(-b.cfg.OpenTimeout)
	}
	b.mu.Unlock()
}

func (b *breaker) open() {
	b.openedAt = b.now()
	b.reset()
	b.setState(StateOpen)
}

func (b *breaker) reset() {
	b.consecutive, b.probes, b.probeOK = 0, 0, 0
	b.outcomes.clear()
}

func (b *breaker) setState(s BreakerState) {
	if b.state == s {
		return
	}
	from := b.state
	b.state = s
	if b.onChange != nil {
		b.onChange(from, s)
	}
}
