package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/fedgate/gateway/internal/reqerr"
	"github.com/fedgate/gateway/limits"
	"github.com/fedgate/gateway/telemetry"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Observe configures the server's resilience and observability: load
// shedding, the request deadline, traces, metrics, the request log and
// the /ready and /metrics endpoints. The zero value turns all of it off.
type Observe struct {
	// MaxInflightRequests is the most client requests served at once;
	// past it a request gets 503 SERVICE_OVERLOADED at once, with
	// Retry-After. 0 is unlimited.
	MaxInflightRequests int
	// RetryAfter is the Retry-After of a shed request, rounded up to
	// whole seconds; 0 means 1s.
	RetryAfter time.Duration
	// RequestTimeout is the deadline of a client request; a request
	// still running then is answered 504 GATEWAY_TIMEOUT. 0 is none.
	RequestTimeout time.Duration
	// Tracer starts the spans of each request; nil is a no-op tracer
	// (an incoming traceparent is still passed on).
	Tracer trace.Tracer
	// Metrics records request metrics; nil records nothing.
	Metrics *telemetry.Metrics
	// RequestLog writes one line per client request; nil writes none.
	RequestLog *slog.Logger
	// MetricsHandler, when set, is served at MetricsPath on this
	// listener (when the metrics have no listener of their own).
	MetricsHandler http.Handler
	// MetricsPath is where MetricsHandler is served; empty is /metrics.
	MetricsPath string
	// Health reports the subgraphs' health for /ready (informational:
	// an unhealthy subgraph does not make the gateway unready, since it
	// still serves the other subgraphs' fields).
	Health func() any
}

// Error codes of requests refused or cut by the server.
const (
	CodeOverloaded     = "SERVICE_OVERLOADED"
	CodeGatewayTimeout = "GATEWAY_TIMEOUT"
)

var errGatewayTimeout = &reqerr.Error{Code: CodeGatewayTimeout, Message: "the request did not complete within the gateway's request timeout", Status: http.StatusGatewayTimeout}

// serverKind is made once: building the option allocates.
var serverKind = trace.WithSpanKind(trace.SpanKindServer)

// observer is the server's state for Observe.
type observer struct {
	tracer   trace.Tracer
	inflight atomic.Int64
	draining atomic.Bool
	// refusals counts and logs what the listener refuses before this
	// layer sees a request.
	refusals *refusals
}

func (s *Server) initObserve() {
	s.obs.tracer = s.opts.Observe.Tracer
	if s.obs.tracer == nil {
		s.obs.tracer = noop.NewTracerProvider().Tracer("")
	}
	s.obs.refusals = newRefusals(s.opts.Observe.Metrics, s.opts.Observe.RequestLog)
	if s.reading != nil {
		s.opts.Observe.Metrics.ObserveReading(s.reading.InUse)
	}
}

// startSpan starts a span of the request pipeline under the span in ctx
// (names are telemetry.Span*). The auth stage uses it with
// telemetry.SpanAuthorize.
func (s *Server) startSpan(ctx context.Context, name string) (context.Context, trace.Span) {
	if parent := trace.SpanFromContext(ctx); !parent.IsRecording() {
		// No span would be recorded under it: no cost.
		return ctx, parent
	}
	return s.obs.tracer.Start(ctx, name)
}

// Drain marks the server as shutting down: /ready answers 503 from now
// on, so load balancers stop sending new requests, while requests in
// flight finish.
func (s *Server) Drain() { s.obs.draining.Store(true) }

// InFlight returns the number of client requests being served.
func (s *Server) InFlight() int64 { return s.obs.inflight.Load() }

// ServeHTTP implements http.Handler through the public ServeMux (routes).
// The connection of a request with a chunked body is closed after its
// answer (smuggling.go).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if len(r.TransferEncoding) > 0 {
		closeAfterChunked(w)
	}
	s.mux.ServeHTTP(w, r)
}

// routes builds the ServeMux of the public listener: the probes, the
// metrics when they have no listener of their own, the playground's
// assets, and GraphQL on every other path (clients usually use
// /graphql). Transports added later (WebSocket, SSE) mount their paths
// with Handle, wrapped in the same observe layer.
func (s *Server) routes() {
	mux := http.NewServeMux()
	health := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"pass"}`))
	}
	mux.HandleFunc("/health", health)
	mux.HandleFunc("/healthz", health)
	ready := func(w http.ResponseWriter, _ *http.Request) { s.serveReady(w, false) }
	mux.HandleFunc("/ready", ready)
	mux.HandleFunc("/readyz", ready)
	if o := s.opts.Observe; o.MetricsHandler != nil {
		mux.Handle(metricsPath(o.MetricsPath), o.MetricsHandler)
	}
	graphql := s.Observed(http.HandlerFunc(s.serveGraphQL))
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Before anything copies, sorts or forwards the headers: with
		// forward "*" each header went to every subgraph fetch and into
		// the dedupe and caller keys (9,000 in 64 KiB: 38 times a plain
		// request's CPU).
		if max := s.opts.HTTP.MaxHeaderCount; tooManyHeaders(r, max) {
			refuseHeaders(w, r, max)
			s.obs.refusals.record(refusedHeadersTooMany, addressOf(r.RemoteAddr), http.StatusRequestHeaderFieldsTooLarge)
			return
		}
		// The stream transports (WebSocket, SSE, multipart) answer on the
		// GraphQL paths too, told apart by their headers (subscribe.go).
		if s.serveStream(w, r) {
			return
		}
		graphql.ServeHTTP(w, r)
	}))
	s.mux = mux
}

// Handle serves h at pattern on the public listener (a transport of its
// own, such as WebSocket or SSE subscriptions). h should be wrapped in
// Observed to get the request id, trace, deadline, metrics and log line.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ReadyHandler answers /ready with the subgraphs' health (names and
// breaker states): for the metrics or admin listener, never the public
// one, whose /ready says only ready or not.
func (s *Server) ReadyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { s.serveReady(w, true) })
}

// Observed wraps a client request handler in the observe layer: the
// request id, the trace, the deadline, the metrics and the log line.
func (s *Server) Observed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.observe(w, r, next) })
}

func (s *Server) observe(w http.ResponseWriter, r *http.Request, next http.Handler) {
	o := &s.opts.Observe
	start := time.Now()
	// The canonical spelling: Get would canonicalize "X-Request-ID" into
	// a new string on every request.
	id := r.Header.Get(telemetry.RequestIDHeader)
	if !telemetry.ValidRequestID(id) {
		id = telemetry.NewRequestID()
	}

	ctx := telemetry.Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	ctx, span := s.obs.tracer.Start(ctx, telemetry.SpanRequest, serverKind)
	defer span.End()
	ri := telemetry.NewRequestInfo(id)
	w.Header()[telemetry.RequestIDHeader] = ri.IDHeader
	if client := r.Header.Get("Apollographql-Client-Name"); client != "" && len(client) <= 128 {
		ri.SetClient(client)
	}
	ctx = telemetry.WithRequestInfo(ctx, ri)
	if o.RequestTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.RequestTimeout)
		defer cancel()
	}
	o.Metrics.RequestStarted(ctx)
	sw := &statusWriter{ResponseWriter: w, ctx: ctx, parent: r.Context()}
	next.ServeHTTP(sw, r.WithContext(ctx))
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	elapsed := time.Since(start)
	op := limits.Clip(ri.Operation(), maxLoggedName)
	if sw.timedOut {
		o.Metrics.Shed(ctx, "timeout")
	}
	o.Metrics.RequestDone(ctx, op, sw.status, elapsed, ri.Labels()...)
	if span.IsRecording() {
		span.SetAttributes(attribute.Int("http.response.status_code", sw.status), attribute.String("graphql.operation.name", op))
		if sw.status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(sw.status))
		}
	}
	if o.RequestLog != nil {
		attrs := append(ri.LogAttrs(), slog.Int("status", sw.status), slog.Float64("latency_ms", float64(elapsed.Microseconds())/1000))
		if sc := span.SpanContext(); sc.HasTraceID() {
			attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
		}
		o.RequestLog.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
	}
}

// admitInflight counts a request whose body has been read against
// MaxInflightRequests; past it the request is shed (503) and admitInflight
// reports false. release must be called when the request is done.
func (s *Server) admitInflight(w http.ResponseWriter, r *http.Request) (release func(), ok bool) {
	release, ok = s.takeInflight()
	if !ok {
		s.shed(w, r)
	}
	return release, ok
}

// admitStreamOperation is admitInflight for an operation a stream
// transport received (a WebSocket message, an SSE request): false when
// max_inflight_requests are in flight (the caller answers
// SERVICE_OVERLOADED).
func (s *Server) admitStreamOperation(ctx context.Context) (release func(), ok bool) {
	release, ok = s.takeInflight()
	if !ok {
		s.opts.Observe.Metrics.Shed(ctx, "overloaded")
	}
	return release, ok
}

// takeInflight takes one of MaxInflightRequests' slots: false, and no
// slot held, when they are all taken.
func (s *Server) takeInflight() (release func(), ok bool) {
	n := s.obs.inflight.Add(1)
	release = func() { s.obs.inflight.Add(-1) }
	if m := s.opts.Observe.MaxInflightRequests; m > 0 && n > int64(m) {
		release()
		return nil, false
	}
	return release, true
}

func metricsPath(p string) string {
	if p == "" {
		return "/metrics"
	}
	return p
}

// serveReady answers 200 while a supergraph is loaded and the server is
// not draining, else 503; with details the body lists the subgraphs'
// health.
func (s *Server) serveReady(w http.ResponseWriter, details bool) {
	ready := s.rt.Load() != nil && !s.obs.draining.Load()
	body := struct {
		Status    string `json:"status"`
		Subgraphs any    `json:"subgraphs,omitempty"`
	}{Status: "ready"}
	switch {
	case s.obs.draining.Load():
		body.Status = "draining"
	case !ready:
		body.Status = "no supergraph"
	}
	if details && s.opts.Observe.Health != nil {
		body.Subgraphs = s.opts.Observe.Health()
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_, _ = w.Write(b)
}

// statusWriter records the status written, and replaces the answer of a
// request whose deadline passed with 504 GATEWAY_TIMEOUT.
type statusWriter struct {
	http.ResponseWriter
	ctx      context.Context
	parent   context.Context
	status   int
	timedOut bool
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status != 0 {
		return
	}
	if w.pastDeadline() && w.parent.Err() == nil {
		w.timeout()
		return
	}
	w.status = status
	if w.parent.Err() != nil {
		// Nobody reads this answer: the client went away. The log and the
		// metrics say so instead of blaming the gateway with a 5xx.
		w.status = StatusClientClosed
	}
	w.ResponseWriter.WriteHeader(status)
}

// pastDeadline reports whether the request's deadline has passed, also
// when its timer has not fired yet (an answer computed under a shared
// context with the same deadline may arrive first).
func (w *statusWriter) pastDeadline() bool {
	if w.ctx.Err() == context.DeadlineExceeded {
		return true
	}
	d, ok := w.ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// StatusClientClosed is the status logged and counted for a request whose
// client went away before its answer (nginx's 499); nothing is sent.
const StatusClientClosed = 499

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.timedOut {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// timeout writes the 504 answer; later writes are dropped.
func (w *statusWriter) timeout() {
	w.timedOut, w.status = true, http.StatusGatewayTimeout
	w.ResponseWriter.Header().Del("Content-Length")
	reqerr.Write(w.ResponseWriter, "application/json; charset=utf-8", errGatewayTimeout)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
