package server

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/internal/reqerr"
	"github.com/fedgate/gateway/limits"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/telemetry"
)

// Incremental delivery of @defer over HTTP: multipart/mixed with
// deferSpec=20220824, the format Apollo Client and Relay ask for. A client
// whose Accept does not offer it gets the operation run unsplit, as one
// JSON body.

// multipartContentType is the response type of incremental delivery; the
// boundary "-" makes every part start with "\r\n---".
const multipartContentType = `multipart/mixed;boundary="-";deferSpec=20220824`

// acceptsIncremental reports whether an Accept header offers
// multipart/mixed with deferSpec=20220824 (or with no deferSpec, which
// Apollo's tools read as that one).
func acceptsIncremental(accept string) bool {
	// Walked with Cut rather than Split: every request asks, and the
	// slices of a Split were two allocations per request.
	for rest := accept; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		media, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(media), "multipart/mixed") {
			continue
		}
		spec := ""
		for params != "" {
			var p string
			p, params, _ = strings.Cut(params, ";")
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "deferSpec") {
				spec = strings.Trim(v, `"`)
			}
		}
		if spec == "" || spec == "20220824" {
			return true
		}
	}
	return false
}

// incrementalRun returns the run of a query with @defer, started when
// the request pipeline is done with it: it executes the plan part by part
// and gives each payload to emit (the multipart writer, or a WebSocket
// or SSE transport's next message), stopping when emit returns false.
func (s *Server) incrementalRun(ctx context.Context, a *answerInput) func(emit func([]byte) bool) {
	return func(emit func([]byte) bool) {
		// The answer ends when the caller's token does, as a
		// subscription does: the parts not sent by then are not sent,
		// a last payload says UNAUTHENTICATED. Before, a long @defer
		// answer went on up to the request timeout after its token had
		// expired.
		if exp := tokenExpiry(auth.CallerFrom(ctx), s.opts.Auth.JWT.Leeway); !exp.IsZero() {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadlineCause(ctx, exp, errTokenExpired)
			defer cancel()
		}
		// The execution memory budget (max_inflight_bytes), as for a
		// one-body answer (run), held until the last part is sent: the
		// parts' executions and writes interleave. Before, an incremental
		// answer reserved nothing, so adding @defer to an operation took
		// it past the budget.
		reserved, rerr := s.reserve(ctx, a.entry)
		if rerr != nil {
			body := reqerr.Body(rerr)
			emit(append(body[:len(body)-1:len(body)-1], `,"hasNext":false}`...))
			return
		}
		defer s.unreserve(reserved)
		in := executor.Input{Variables: a.forwarded, Tracer: s.obs.tracer, RedactErrors: s.opts.redactErrors,
			InvalidValuesAsErrors: s.opts.InvalidValuesAsErrors}
		s.subgraphHeaders(&in, a.hr)
		if s.opts.Introspection {
			rt, coerced := a.rt, a.coerced
			in.Introspect = func(buf []byte, f *planner.ShapeField) ([]byte, [][]any) { return rt.intro.Field(buf, f, coerced) }
		}
		// The entity cache applies per fetch; the response cache never
		// stores a deferred answer.
		in.Entities = s.entityCacheFor(ctx, a)
		var stats executor.Stats
		in.Stats = &stats
		ectx, span := s.startSpan(ctx, telemetry.SpanExecute)
		defer span.End()
		if hook := s.deferPartHook(ctx, a.op.Name); hook != nil { // hooks.go
			next := emit
			emit = func(payload []byte) bool {
				payload, last := hook(payload)
				return next(payload) && !last
			}
		}
		if a.includePlan {
			// The playground's plan panel: the plan goes in the initial
			// payload's extensions, as in a one-body answer.
			if pj, err := json.Marshal(a.entry.plan); err == nil {
				next, first := emit, true
				emit = func(payload []byte) bool {
					if first && len(payload) > 0 && payload[len(payload)-1] == '}' {
						first = false
						payload = appendExtensions(payload, []extension{{"queryPlan", pj}})
					}
					return next(payload)
				}
			}
		}
		// What the parts' payloads weigh, for the plan's next reservation.
		var emitted int64
		next := emit
		emit = func(payload []byte) bool {
			emitted += int64(len(payload))
			return next(payload)
		}
		executor.ExecuteIncrementalObserved(ectx, a.entry.plan, in, a.rt.transport, emit, s.partObserver(a.op.Name))
		if ctx.Err() == nil {
			a.entry.weight.Store(nextWeight(a.entry.weight.Load(), stats.SubgraphBytes*parsedFactor+emitted))
		}
	}
}

// errTokenExpired ends an incremental answer whose caller's token
// expired before its last part (the code and message of a subscription's).
var errTokenExpired = &reqerr.Error{Code: "UNAUTHENTICATED", Message: "the token has expired", Status: http.StatusUnauthorized}

// tokenExpiry is when the verified token of c stops being accepted: its
// exp plus the verification's leeway; zero without a token or an exp.
func tokenExpiry(c *auth.Caller, leeway time.Duration) time.Time {
	if c == nil || !c.Authenticated {
		return time.Time{}
	}
	exp, ok := c.Claims["exp"].(float64)
	if !ok || exp <= 0 || exp >= math.MaxInt32*4 {
		return time.Time{}
	}
	return time.Unix(int64(exp), 0).Add(leeway)
}

// writeMultipart writes the payloads of run as a multipart/mixed answer
// (deferSpec=20220824), each part flushed as it comes. A client that does
// not read stalls the writes, which hold one payload at a time: each write
// must be done by the request deadline (plus partWriteGrace, so that the
// deadline's own error payload can still go out; partWriteTimeout without
// a deadline), and a failed write ends the run.
func writeMultipart(ctx context.Context, w http.ResponseWriter, run func(emit func([]byte) bool)) {
	w.Header().Set("Content-Type", multipartContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	limit := func() time.Time {
		if d, ok := ctx.Deadline(); ok {
			return d.Add(partWriteGrace)
		}
		return time.Now().Add(partWriteTimeout)
	}
	// Each part is followed by the delimiter of the next at once ("\r\n---"),
	// so that a multipart parser (meros, Apollo Client, Go's
	// mime/multipart) sees a part end as soon as it is written, not when
	// the next part comes; the stream ends with the close delimiter's
	// "--". The bytes are those of multipart/mixed with boundary "-".
	_ = rc.SetWriteDeadline(limit())
	if _, err := w.Write([]byte("\r\n---")); err != nil {
		return
	}
	run(func(payload []byte) bool {
		_ = rc.SetWriteDeadline(limit())
		if _, err := w.Write([]byte("\r\nContent-Type: application/json; charset=utf-8\r\n\r\n")); err != nil {
			return false
		}
		if _, err := w.Write(payload); err != nil {
			return false
		}
		if _, err := w.Write([]byte("\r\n---")); err != nil {
			return false
		}
		return rc.Flush() == nil && ctx.Err() == nil
	})
	_ = rc.SetWriteDeadline(limit())
	_, _ = w.Write([]byte("--\r\n"))
}

// partWriteGrace is how long past the request deadline the last payloads
// may take to write; partWriteTimeout bounds each write of a request
// without a deadline.
const (
	partWriteGrace   = time.Second
	partWriteTimeout = 30 * time.Second
)

// partObserver records the spans and metrics of the deferred parts of
// one operation.
func (s *Server) partObserver(operation string) executor.PartObserver {
	return &deferParts{s: s, operation: operation, start: map[*planner.Defer]time.Time{}}
}

type deferParts struct {
	s         *Server
	operation string
	mu        sync.Mutex
	start     map[*planner.Defer]time.Time
}

func (o *deferParts) PartStart(ctx context.Context, d *planner.Defer) context.Context {
	o.mu.Lock()
	o.start[d] = time.Now()
	o.mu.Unlock()
	ctx, span := o.s.startSpan(ctx, telemetry.SpanDeferPart)
	if span.IsRecording() {
		span.SetAttributes(attribute.Int("defer.id", d.ID), attribute.String("defer.label", limits.Clip(d.Label, 128)),
			attribute.String("defer.path", limits.Clip(d.PathString(), 256)))
	}
	return ctx
}

func (o *deferParts) PartDone(ctx context.Context, d *planner.Defer, errors int, timedOut bool) {
	o.mu.Lock()
	started := o.start[d]
	o.mu.Unlock()
	outcome := "ok"
	switch {
	case timedOut:
		outcome = "timeout"
	case errors > 0:
		outcome = "error"
	}
	o.s.opts.Observe.Metrics.DeferPart(ctx, o.operation, outcome, time.Since(started))
	span := trace.SpanFromContext(ctx)
	if span.IsRecording() {
		span.SetAttributes(attribute.Int("defer.errors", errors))
		if outcome != "ok" {
			span.SetStatus(codes.Error, outcome)
		}
		span.End()
	}
}
