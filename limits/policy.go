package limits

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/fedgate/gateway/planner"
	"github.com/redis/go-redis/v9"
)

// Policy is the per-operation stage of this package: it identifies the
// client, estimates the operation's cost, refuses operations over the
// maximum, counts the request and its cost against the client's tier, and
// after execution reports the cost. It is safe for concurrent use.
type Policy struct {
	cost CostConfig
	// maxCycles is Config.MaxFieldCycles.
	maxCycles int
	ident     *Identifier
	tiers     map[string]Tier
	limiter   Limiter // nil without tiers
	observe   func(context.Context, Outcome)
}

// PolicyOptions are what the gateway passes to NewPolicy beside the
// configuration.
type PolicyOptions struct {
	// Redis holds shared counters when not nil (redis.url); without it the
	// counters are in process.
	Redis redis.UniversalClient
	// RedisTimeout bounds one limiter call to Redis (redis.timeout).
	RedisTimeout time.Duration
	// Logger gets the Redis down and up messages.
	Logger *slog.Logger
	// Observe, when set, is called once per operation that reached the
	// stage, after it ran or was refused: the hook for metrics (estimated
	// and actual cost histograms, refusals by code).
	Observe func(context.Context, Outcome)
	// Limiter replaces the limiter built from Redis (for tests).
	Limiter Limiter
}

// Outcome is what Policy reports to Observe for one operation.
type Outcome struct {
	Client    Client
	Operation string // the operation name, "" when anonymous
	// Estimated is the estimated cost; -1 when cost analysis is off.
	Estimated float64
	// Actual is the cost computed from the response; -1 when it was not
	// computed (refused, or neither exposed nor configured).
	Actual float64
	// Result is COST_OK, or the code the operation was refused with:
	// COST_ESTIMATED_TOO_EXPENSIVE, GRAPHQL_VALIDATION_FAILED (slicing
	// arguments), RATE_LIMITED, COST_LIMIT_EXCEEDED or
	// RATE_LIMIT_UNAVAILABLE.
	Result string
	// LocalLimits is true when the rate limit verdict came from local
	// counters because Redis was unreachable.
	LocalLimits bool
}

// NewPolicy builds the stage from a validated Config.
func NewPolicy(cfg Config, opt PolicyOptions) *Policy {
	p := &Policy{cost: cfg.Cost, maxCycles: cfg.MaxFieldCycles, ident: NewIdentifier(cfg.Clients), tiers: map[string]Tier{}, observe: opt.Observe}
	for name, t := range cfg.Tiers {
		p.tiers[name] = Tier{Name: name, Requests: t.Requests, Cost: t.Cost, Window: t.Window}
	}
	switch {
	case opt.Limiter != nil:
		p.limiter = opt.Limiter
	case len(p.tiers) == 0:
	case opt.Redis != nil:
		p.limiter = NewRedisLimiter(opt.Redis, RedisLimiterOptions{Prefix: cfg.Redis.KeyPrefix, Timeout: opt.RedisTimeout,
			FailClosed: cfg.Redis.OnError == "closed", LocalFraction: cfg.Redis.LocalFraction, Logger: opt.Logger})
	default:
		p.limiter = NewMemoryLimiter(nil)
	}
	return p
}

// Admission is the decision for one operation, kept until its response.
type Admission struct {
	Client    Client
	Estimated float64 // -1 when cost analysis is off
	Verdict   Verdict
	// Limited is true when a limiter counted the request; Verdict is then
	// meaningful and its headers belong on the response.
	Limited bool
	expose  bool
	op      string
}

// Admit runs the stage for op, an operation that passed validation and
// normalization, with vars its coerced variables. model is the cost model
// of the supergraph op was normalized against. The error, when not nil, is
// an *Error to answer instead of executing; either way the Admission's
// headers belong on the response (SetHeaders).
//
// memo, when not nil, is the caller's memo of op's estimate (one per
// cached operation and cost model): an operation without variables is
// estimated once.
func (p *Policy) Admit(ctx context.Context, r *http.Request, model *CostModel, op *planner.Operation, vars map[string]any, memo *EstimateMemo) (*Admission, error) {
	a := &Admission{Client: p.ident.Identify(r), Estimated: -1, op: op.Name}
	a.expose = p.cost.Expose == "always" || p.cost.Expose == "header" && r.Header.Get("Fedgate-Include-Cost") == "true"
	tier := p.tierOf(a)
	if err := memo.checkCycles(op, p.maxCycles); err != nil {
		// Counted as one request of no cost, as an invalid document is
		// (AdmitInvalid): refusing costs the gateway its planning.
		if p.limiter != nil && !tier.unlimited() {
			if lerr := p.take(ctx, a, tier, 0); lerr != nil {
				return a, lerr
			}
		}
		return a, p.refuse(ctx, a, err)
	}
	if p.cost.Mode != CostOff && model != nil {
		est, err := memo.estimate(model, op, vars, CostOptions{ListSize: p.cost.ListSize})
		a.Estimated = est
		if p.cost.Mode == CostEnforce {
			var e *Error
			if errors.As(err, &e) {
				return a, p.refuse(ctx, a, e)
			}
			if p.cost.Max > 0 && est > p.cost.Max {
				return a, p.refuse(ctx, a, tooExpensive(est, p.cost.Max, "the maximum per operation"))
			}
		}
	}
	if p.limiter == nil || tier.unlimited() {
		return a, nil
	}
	cost := int64(0)
	if a.Estimated > 0 {
		cost = int64(math.Ceil(a.Estimated))
	}
	if tier.Cost > 0 && cost > tier.Cost {
		// It could never fit in the window: retrying cannot help.
		return a, p.refuse(ctx, a, tooExpensive(a.Estimated, float64(tier.Cost), "what tier "+strconv.Quote(tier.Name)+" allows per window"))
	}
	return a, p.take(ctx, a, tier, cost)
}

// EstimateMemo remembers the cost estimate of one operation made without
// variables: such an operation costs the same every time (its arguments
// are literals and the variables' defaults), so a caller that keeps a
// memo per cached operation estimates it once (the harness's query took
// about 28,000 instructions a request). The zero value is empty; it is
// safe for concurrent use.
type EstimateMemo struct {
	last atomic.Pointer[memoEstimate]
	// cycled is the operation last found within the field cycle limit.
	cycled atomic.Pointer[memoCycles]
}

// memoCycles is an operation that passed checkCycles with max.
type memoCycles struct {
	op  *planner.Operation
	max int
}

// checkCycles is checkCycles(op, max), remembered in m (nil: not
// remembered) when op passes: a cached operation is walked once.
func (m *EstimateMemo) checkCycles(op *planner.Operation, max int) *Error {
	if max <= 0 {
		return nil // off (the default): nothing to walk or remember
	}
	if m != nil {
		if r := m.cycled.Load(); r != nil && r.op == op && r.max == max {
			return nil
		}
	}
	if err := checkCycles(op, max); err != nil {
		return err
	}
	if m != nil {
		m.cycled.Store(&memoCycles{op: op, max: max})
	}
	return nil
}

// memoEstimate is an estimate and what it was made from.
type memoEstimate struct {
	model    *CostModel
	op       *planner.Operation
	listSize int
	est      float64
}

// estimate is model.Estimate, remembered in m (nil: not remembered) when
// there are no variables and the estimate has no error.
func (m *EstimateMemo) estimate(model *CostModel, op *planner.Operation, vars map[string]any, opt CostOptions) (float64, error) {
	if m == nil || len(vars) > 0 {
		return model.Estimate(op, vars, opt)
	}
	if r := m.last.Load(); r != nil && r.model == model && r.op == op && r.listSize == opt.ListSize {
		return r.est, nil
	}
	est, err := model.Estimate(op, vars, opt)
	if err == nil {
		m.last.Store(&memoEstimate{model: model, op: op, listSize: opt.ListSize, est: est})
	}
	return est, err
}

// tierOf returns the tier of a's client, placing a client whose tier does
// not exist in the default tier.
func (p *Policy) tierOf(a *Admission) Tier {
	tier, ok := p.tiers[a.Client.Tier]
	if !ok {
		tier = p.tiers[p.ident.cfg.DefaultTier]
		a.Client.Tier = tier.Name
	}
	return tier
}

// take counts one request of cost points for a's client and records the
// verdict in a; the error is the refusal, if any. A limiter error with no
// fallback serves rather than fails.
func (p *Policy) take(ctx context.Context, a *Admission, tier Tier, cost int64) error {
	v, err := p.limiter.Take(ctx, a.Client.ID, tier, cost)
	if err != nil {
		return nil
	}
	a.Verdict, a.Limited = v, true
	if !v.Allowed {
		return p.refuse(ctx, a, limitError(v))
	}
	return nil
}

// AdmitInvalid counts a request whose document failed before admission
// (parse, static limits, validation, variables) as one request of no cost
// against the client's tier, so that a client cannot spend the gateway's
// parse and validation work without spending its rate limit. The error,
// when not nil, is the rate limit refusal to answer instead of the
// document's own error; the Admission's headers belong on the response.
func (p *Policy) AdmitInvalid(ctx context.Context, r *http.Request) (*Admission, error) {
	a := &Admission{Client: p.ident.Identify(r), Estimated: -1}
	tier := p.tierOf(a)
	if p.limiter == nil || tier.unlimited() {
		return a, nil
	}
	return a, p.take(ctx, a, tier, 0)
}

func tooExpensive(est, maximum float64, what string) *Error {
	e := badRequest(CodeCostEstimatedTooExpensive, "the operation's estimated cost %s is over %s (%s)", formatCost(est), what, formatCost(maximum))
	e.Extensions = map[string]any{"cost": map[string]any{"estimated": est, "max": maximum}}
	return e
}

func limitError(v Verdict) *Error {
	switch v.Code {
	case CodeRateLimitUnavailable:
		return &Error{Code: v.Code, Status: http.StatusServiceUnavailable, Message: "rate limits cannot be checked right now; retry later"}
	case CodeCostLimitExceeded:
		return &Error{Code: v.Code, Status: http.StatusTooManyRequests,
			Message: "the client spent its cost points for this window; retry in " + strconv.FormatInt(max(ceilSeconds(v.RetryAfter), 1), 10) + "s"}
	}
	return &Error{Code: CodeRateLimited, Status: http.StatusTooManyRequests,
		Message: "too many requests from this client; retry in " + strconv.FormatInt(max(ceilSeconds(v.RetryAfter), 1), 10) + "s"}
}

func (p *Policy) refuse(ctx context.Context, a *Admission, err *Error) error {
	if p.observe != nil {
		p.observe(ctx, Outcome{Client: a.Client, Operation: a.op, Estimated: a.Estimated, Actual: -1, Result: err.Code, LocalLimits: a.Verdict.Local})
	}
	return err
}

// SetHeaders writes the rate limit headers of the admission, if a limiter
// counted it.
func (a *Admission) SetHeaders(h http.Header) {
	if a != nil && a.Limited {
		a.Verdict.SetHeaders(h)
	}
}

// Finish reports an executed operation: it computes the actual cost from
// the response body when it is exposed or Config.cost.actual asks for it,
// calls Observe, and returns the JSON of the "cost" member for the
// response extensions, or nil when the cost is not exposed.
func (p *Policy) Finish(ctx context.Context, a *Admission, model *CostModel, op *planner.Operation, vars map[string]any, response []byte) []byte {
	if a == nil || a.Estimated < 0 {
		if p.observe != nil && a != nil {
			p.observe(ctx, Outcome{Client: a.Client, Operation: a.op, Estimated: -1, Actual: -1, Result: CostOK, LocalLimits: a.Verdict.Local})
		}
		return nil
	}
	actual := -1.0
	if a.expose || p.cost.Actual && p.observe != nil {
		if c, err := model.ActualFromResponse(op, vars, response); err == nil {
			actual = c
		}
	}
	if p.observe != nil {
		p.observe(ctx, Outcome{Client: a.Client, Operation: a.op, Estimated: a.Estimated, Actual: actual, Result: CostOK, LocalLimits: a.Verdict.Local})
	}
	if !a.expose {
		return nil
	}
	ext := map[string]any{"estimated": a.Estimated, "result": CostOK}
	if actual >= 0 {
		ext["actual"] = actual
	}
	if p.cost.Mode == CostEnforce && p.cost.Max > 0 {
		ext["max"] = p.cost.Max
	}
	b, _ := json.Marshal(ext)
	return b
}

func formatCost(c float64) string { return strconv.FormatFloat(c, 'f', -1, 64) }

// Degraded reports whether the shared limiter is unreachable and local
// limits (or refusals, when failing closed) apply: for a health gauge.
func (p *Policy) Degraded() bool {
	r, ok := p.limiter.(*RedisLimiter)
	return ok && r.Degraded()
}
