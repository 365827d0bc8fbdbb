package limits

import (
	"context"
	"hash/maphash"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Tier is a class of clients and what each of its clients may spend per
// window: Requests operations and Cost points of estimated cost. A limit
// of 0 is no limit.
type Tier struct {
	Name     string
	Requests int64
	Cost     int64
	Window   time.Duration
}

// unlimited reports whether the tier limits nothing.
func (t Tier) unlimited() bool { return t.Requests <= 0 && t.Cost <= 0 || t.Window <= 0 }

// Verdict is a limiter's answer for one request.
type Verdict struct {
	// Allowed is true when the request may run; its request and cost were
	// counted.
	Allowed bool
	// Code is RATE_LIMITED or COST_LIMIT_EXCEEDED when the request is
	// refused for that limit, RATE_LIMIT_UNAVAILABLE when the shared
	// limiter is unreachable and the policy fails closed.
	Code string
	// Limit, Remaining and Reset describe the limit the headers report:
	// the requests per window, or the cost points when cost refused the
	// request (or when the tier limits only cost). Reset is how long until
	// the client's allowance is whole again.
	Limit, Remaining int64
	Reset            time.Duration
	// RetryAfter is how long to wait before the same request could pass.
	RetryAfter time.Duration
	// Local is true when the verdict came from the local fallback because
	// Redis was unreachable.
	Local bool
}

// SetHeaders writes the RateLimit-Limit, RateLimit-Remaining and
// RateLimit-Reset headers (draft-ietf-httpapi-ratelimit-headers, delta
// seconds), and Retry-After when the request was refused.
func (v Verdict) SetHeaders(h http.Header) {
	if v.Limit > 0 {
		h.Set("RateLimit-Limit", strconv.FormatInt(v.Limit, 10))
		h.Set("RateLimit-Remaining", strconv.FormatInt(max(v.Remaining, 0), 10))
		h.Set("RateLimit-Reset", strconv.FormatInt(ceilSeconds(v.Reset), 10))
	}
	if !v.Allowed {
		h.Set("Retry-After", strconv.FormatInt(max(ceilSeconds(v.RetryAfter), 1), 10))
	}
}

func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// Limiter counts requests and cost points per client key.
type Limiter interface {
	// Take counts one request costing cost points for key under tier, if
	// both fit; otherwise it counts nothing and refuses.
	Take(ctx context.Context, key string, tier Tier, cost int64) (Verdict, error)
}

// The limiter is GCRA (the generic cell rate algorithm), in the form of a
// token bucket that needs one number per limit: the theoretical arrival
// time (TAT). A tier allowing L per window W emits one unit every T = W/L;
// a request of n units moves the TAT to max(TAT, now) + n·T, and is
// allowed when the new TAT is at most W ahead of now. So a client may
// burst up to L at once and then gets exactly L per W, with no window
// boundary to game, and a refused request consumes nothing. Requests and
// cost are two such limits on one key, checked and updated together.

// gcraState is the TATs of one key, in microseconds since the epoch.
type gcraState struct {
	req, cost float64
}

// gcraLimit is one dimension of a decision.
type gcraLimit struct {
	ok           bool
	tat          float64 // the new TAT when ok
	limit        int64
	remaining    int64
	reset, retry float64 // microseconds
}

// gcra decides one dimension: limit units per window, n units asked.
func gcra(now, tat float64, limit int64, window time.Duration, n float64) gcraLimit {
	w := float64(window / time.Microsecond)
	g := gcraLimit{limit: limit}
	if limit <= 0 {
		g.ok = true
		return g
	}
	interval := w / float64(limit)
	tat = max(tat, now)
	next := tat + n*interval
	if next-now <= w {
		g.ok, g.tat = true, next
		g.remaining = int64(math.Floor((w - (next - now)) / interval))
		g.reset = next - now
		return g
	}
	g.retry = next - now - w
	g.remaining = int64(math.Floor((w - (tat - now)) / interval))
	g.reset = tat - now
	return g
}

// decide applies a request of cost points to st under tier at now
// (microseconds), returning the new state (unchanged when refused).
func decide(now float64, st gcraState, tier Tier, cost int64) (gcraState, Verdict) {
	r := gcra(now, st.req, tier.Requests, tier.Window, 1)
	c := gcra(now, st.cost, tier.Cost, tier.Window, float64(max(cost, 0)))
	v := Verdict{Allowed: r.ok && c.ok}
	report := r
	switch {
	case !r.ok:
		v.Code = CodeRateLimited
		v.RetryAfter = micros(max(r.retry, c.retry))
	case !c.ok:
		v.Code, report = CodeCostLimitExceeded, c
		v.RetryAfter = micros(c.retry)
	case tier.Requests <= 0:
		report = c
	}
	v.Limit, v.Remaining, v.Reset = report.limit, report.remaining, micros(report.reset)
	if v.Allowed {
		if tier.Requests > 0 {
			st.req = r.tat
		}
		if tier.Cost > 0 && cost > 0 {
			st.cost = c.tat
		}
	}
	return st, v
}

func micros(us float64) time.Duration { return time.Duration(us) * time.Microsecond }

// MemoryLimiter keeps the counters in this process. The zero value is not
// usable; call NewMemoryLimiter.
type MemoryLimiter struct {
	now    func() time.Time
	seed   maphash.Seed
	shards [64]memoryShard
}

type memoryShard struct {
	mu    sync.Mutex
	keys  map[string]*memoryEntry
	takes int
}

type memoryEntry struct {
	st      gcraState
	expires float64 // microseconds: after it, the entry equals a fresh one
}

// NewMemoryLimiter returns an in-process limiter. now is the clock
// (time.Now when nil).
func NewMemoryLimiter(now func() time.Time) *MemoryLimiter {
	if now == nil {
		now = time.Now
	}
	m := &MemoryLimiter{now: now, seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].keys = map[string]*memoryEntry{}
	}
	return m
}

// Take implements Limiter.
func (m *MemoryLimiter) Take(_ context.Context, key string, tier Tier, cost int64) (Verdict, error) {
	if tier.unlimited() {
		return Verdict{Allowed: true}, nil
	}
	now := float64(m.now().UnixMicro())
	sh := &m.shards[maphash.String(m.seed, key)%uint64(len(m.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.takes++
	if sh.takes%1024 == 0 {
		for k, e := range sh.keys {
			if e.expires < now {
				delete(sh.keys, k)
			}
		}
	}
	e := sh.keys[key]
	var st gcraState
	if e != nil {
		st = e.st
	}
	st, v := decide(now, st, tier, cost)
	if v.Allowed {
		if e == nil {
			e = &memoryEntry{}
			sh.keys[key] = e
		}
		e.st = st
		e.expires = max(st.req, st.cost)
	}
	return v, nil
}

// scaled returns the tier with its limits multiplied by f (rounded up).
func (t Tier) scaled(f float64) Tier {
	if f <= 0 || f == 1 {
		return t
	}
	if t.Requests > 0 {
		t.Requests = int64(math.Ceil(float64(t.Requests) * f))
	}
	if t.Cost > 0 {
		t.Cost = int64(math.Ceil(float64(t.Cost) * f))
	}
	return t
}
