package telemetry

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metrics holds the gateway's OpenTelemetry instruments. A nil *Metrics
// records nothing, so callers need no checks.
//
// Prometheus names (the exporter adds unit and _total suffixes):
//
//	fedgate_requests_total{operation,status}            client requests (and the hooks' labels, hooks.Hooks.Labels)
//	fedgate_request_duration_seconds{operation,status}  their latency
//	fedgate_requests_inflight                            client requests in progress
//	fedgate_reading_bytes                                bytes of bodies and WebSocket messages being read (of server.max_reading_bytes)
//	fedgate_requests_shed_total{reason}                  refused by load shedding or timed out
//	fedgate_listener_refused_total{reason}               refused before a request reached the handlers: connection_limit, headers_too_many, headers_too_large
//	fedgate_subgraph_requests_total{subgraph,code}       subgraph HTTP attempts (code "OK" or the error code)
//	fedgate_subgraph_errors_total{subgraph,code}         failed subgraph attempts
//	fedgate_subgraph_duration_seconds{subgraph}          subgraph attempt latency
//	fedgate_subgraph_retries_total{subgraph}             retried attempts
//	fedgate_circuit_breaker_state{subgraph}              0 closed, 1 half-open, 2 open
//	fedgate_cache_hits_total{kind}, fedgate_cache_misses_total{kind}
//	fedgate_rate_limited_total{tier}                     requests refused by rate limits
//	fedgate_operation_cost{kind}                         estimated and actual operation cost
//	fedgate_coprocessor_requests_total{stage,outcome}    coprocessor exchanges (continue, break, failed)
//	fedgate_coprocessor_duration_seconds{stage}          coprocessor exchange latency
//	fedgate_defer_parts_total{operation,outcome}         @defer payloads delivered (outcome ok, error or timeout)
//	fedgate_defer_part_duration_seconds{operation}       from a deferred part's start to its payload
type Metrics struct {
	requests      metric.Int64Counter
	duration      metric.Float64Histogram
	inflight      metric.Int64UpDownCounter
	shed          metric.Int64Counter
	refused       metric.Int64Counter
	subRequests   metric.Int64Counter
	subErrors     metric.Int64Counter
	subDuration   metric.Float64Histogram
	subRetries    metric.Int64Counter
	cacheCounts   sync.Map // cache kind -> func() (hits, misses int64)
	rateLimited   metric.Int64Counter
	cost          metric.Float64Histogram
	breakerStates sync.Map // subgraph -> func() int64
	reading       atomic.Pointer[func() int64]
	coproRequests metric.Int64Counter
	coproDuration metric.Float64Histogram
	deferParts    metric.Int64Counter
	deferDuration metric.Float64Histogram

	mu             sync.RWMutex
	opts           map[attrKey]metric.MeasurementOption
	operationNames map[string]bool
	// labelValues are the values seen of each hook label (labelValue).
	labelValues map[string]map[string]bool
}

// maxOperations bounds the distinct operation names used as labels; the
// rest are counted as "other" so that clients cannot grow the series
// without bound.
const maxOperations = 1000

// latencyBuckets are the histogram boundaries in seconds.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// NewMetrics creates the instruments on meter.
func NewMetrics(meter metric.Meter) (*Metrics, error) {
	m := &Metrics{}
	var err error
	counter := func(name, desc string) metric.Int64Counter {
		if err != nil {
			return nil
		}
		var c metric.Int64Counter
		c, err = meter.Int64Counter(name, metric.WithDescription(desc))
		return c
	}
	histogram := func(name, desc string) metric.Float64Histogram {
		if err != nil {
			return nil
		}
		var h metric.Float64Histogram
		h, err = meter.Float64Histogram(name, metric.WithDescription(desc), metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(latencyBuckets...))
		return h
	}
	m.requests = counter("fedgate.requests", "Client GraphQL requests by operation name and HTTP status.")
	m.duration = histogram("fedgate.request.duration", "Latency of client GraphQL requests.")
	m.shed = counter("fedgate.requests.shed", "Client requests refused by load shedding (reason overloaded) or cut by the request deadline (reason timeout).")
	m.refused = counter("fedgate.listener.refused", "Connections and requests refused by the public listener before the request log and the other request metrics see them, by reason: connection_limit (429 CONNECTION_LIMIT), headers_too_many (431 REQUEST_HEADERS_TOO_MANY), headers_too_large (net/http's 431 past server.max_header_bytes).")
	m.subRequests = counter("fedgate.subgraph.requests", "Subgraph HTTP requests (each attempt) by subgraph and outcome code.")
	m.subErrors = counter("fedgate.subgraph.errors", "Failed subgraph requests by subgraph and error code.")
	m.subDuration = histogram("fedgate.subgraph.duration", "Latency of subgraph HTTP requests.")
	m.subRetries = counter("fedgate.subgraph.retries", "Retried subgraph requests.")
	m.rateLimited = counter("fedgate.rate_limited", "Requests refused by a rate limit, by tier.")
	m.coproRequests = counter("fedgate.coprocessor.requests", "Coprocessor exchanges by stage and outcome (continue, break, failed).")
	m.coproDuration = histogram("fedgate.coprocessor.duration", "Latency of coprocessor exchanges, by stage.")
	m.deferParts = counter("fedgate.defer.parts", "Deferred parts (@defer) delivered, by operation name and outcome: ok, error (the payload has errors) or timeout (the request deadline ended the stream first).")
	m.deferDuration = histogram("fedgate.defer.part.duration", "Time from a deferred part's start (its dependencies done) to its payload, by operation name.")
	if err == nil {
		m.cost, err = meter.Float64Histogram("fedgate.operation.cost", metric.WithDescription("Cost of operations (@cost/@listSize scoring), by kind: estimated before execution, actual from the response."),
			metric.WithExplicitBucketBoundaries(1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000))
	}
	if err != nil {
		return nil, fmt.Errorf("telemetry: metrics: %w", err)
	}
	m.inflight, err = meter.Int64UpDownCounter("fedgate.requests.inflight", metric.WithDescription("Client GraphQL requests in progress."))
	if err != nil {
		return nil, fmt.Errorf("telemetry: metrics: %w", err)
	}
	for _, c := range []struct {
		name, desc string
		hits       bool
	}{
		{"fedgate.cache.hits", "Cache hits by cache kind (response, entity, apq).", true},
		{"fedgate.cache.misses", "Cache misses by cache kind (response, entity, apq).", false},
	} {
		_, err = meter.Int64ObservableCounter(c.name, metric.WithDescription(c.desc),
			metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
				m.cacheCounts.Range(func(k, v any) bool {
					hits, misses := v.(func() (int64, int64))()
					if c.hits {
						o.Observe(hits, m.one("kind", k.(string)))
					} else {
						o.Observe(misses, m.one("kind", k.(string)))
					}
					return true
				})
				return nil
			}))
		if err != nil {
			return nil, fmt.Errorf("telemetry: metrics: %w", err)
		}
	}
	_, err = meter.Int64ObservableGauge("fedgate.reading.bytes",
		metric.WithDescription("Bytes held by request bodies and WebSocket messages being read, taken from server.max_reading_bytes: a body or message that does not fit is refused (503, or close 1013)."),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			if f := m.reading.Load(); f != nil {
				o.Observe((*f)())
			}
			return nil
		}))
	if err != nil {
		return nil, fmt.Errorf("telemetry: metrics: %w", err)
	}
	_, err = meter.Int64ObservableGauge("fedgate.circuit_breaker.state",
		metric.WithDescription("Circuit breaker state per subgraph: 0 closed, 1 half-open, 2 open."),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			m.breakerStates.Range(func(k, v any) bool {
				o.Observe(v.(func() int64)(), m.one("subgraph", k.(string)))
				return true
			})
			return nil
		}))
	if err != nil {
		return nil, fmt.Errorf("telemetry: metrics: %w", err)
	}
	return m, nil
}

type attrKey struct {
	k1, v1, k2, v2 string
	n              int
}

// opt returns the cached measurement option carrying the attributes
// {k1=v1[, k2=v2]} (or {k1=v1, k2=n} when k2 names a number), so that a
// hot path records without building a set or boxing an option.
func (m *Metrics) opt(key attrKey) metric.MeasurementOption {
	m.mu.RLock()
	o, ok := m.opts[key]
	m.mu.RUnlock()
	if ok {
		return o
	}
	kvs := []attribute.KeyValue{attribute.String(key.k1, key.v1)}
	switch {
	case key.k2 != "" && key.v2 == "":
		kvs = append(kvs, attribute.String(key.k2, strconv.Itoa(key.n)))
	case key.k2 != "":
		kvs = append(kvs, attribute.String(key.k2, key.v2))
	}
	o = metric.WithAttributeSet(attribute.NewSet(kvs...))
	m.mu.Lock()
	if m.opts == nil {
		m.opts = map[attrKey]metric.MeasurementOption{}
	}
	m.opts[key] = o
	m.mu.Unlock()
	return o
}

func (m *Metrics) one(k, v string) metric.MeasurementOption { return m.opt(attrKey{k1: k, v1: v}) }

func (m *Metrics) two(k1, v1, k2, v2 string) metric.MeasurementOption {
	return m.opt(attrKey{k1: k1, v1: v1, k2: k2, v2: v2})
}

// operationLabel bounds the operation names used as label values.
func (m *Metrics) operationLabel(name string) string {
	if name == "" {
		return "anonymous"
	}
	if len(name) > 64 {
		name = name[:64]
	}
	m.mu.RLock()
	known := m.operationNames[name]
	m.mu.RUnlock()
	if known {
		return name
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.operationNames == nil {
		m.operationNames = map[string]bool{}
	}
	if m.operationNames[name] {
		return name
	}
	if len(m.operationNames) >= maxOperations {
		return "other"
	}
	m.operationNames[name] = true
	return name
}

// RequestStarted counts a client request in progress until RequestDone.
func (m *Metrics) RequestStarted(ctx context.Context) {
	if m == nil {
		return
	}
	m.inflight.Add(ctx, 1)
}

// RequestDone records a finished client request, with the labels the
// hooks gave it (RequestInfo.SetLabels) besides operation and status.
func (m *Metrics) RequestDone(ctx context.Context, operation string, status int, d time.Duration, labels ...Label) {
	if m == nil {
		return
	}
	m.inflight.Add(ctx, -1)
	var o metric.MeasurementOption
	if len(labels) == 0 {
		o = m.opt(attrKey{k1: "operation", v1: m.operationLabel(operation), k2: "status", n: status})
	} else {
		kvs := make([]attribute.KeyValue, 0, 2+len(labels))
		kvs = append(kvs, attribute.String("operation", m.operationLabel(operation)), attribute.String("status", strconv.Itoa(status)))
		for _, l := range labels {
			kvs = append(kvs, attribute.String(l.Name, m.labelValue(l.Name, l.Value)))
		}
		o = metric.WithAttributeSet(attribute.NewSet(kvs...))
	}
	m.requests.Add(ctx, 1, o)
	m.duration.Record(ctx, d.Seconds(), o)
}

// Label is a label of the request metrics that hooks give a request
// (hooks.Hooks.Labels): a name and its value for this request.
type Label struct{ Name, Value string }

// maxLabelValues bounds the distinct values of one hook label; further
// values are counted as "other", as operation names past maxOperations.
const maxLabelValues = 100

// labelValue bounds the values of the hook label name: cut to 64 bytes,
// and "other" past maxLabelValues distinct ones.
func (m *Metrics) labelValue(name, value string) string {
	if len(value) > 64 {
		value = value[:64]
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.labelValues == nil {
		m.labelValues = map[string]map[string]bool{}
	}
	seen := m.labelValues[name]
	if seen == nil {
		seen = map[string]bool{}
		m.labelValues[name] = seen
	}
	if !seen[value] {
		if len(seen) >= maxLabelValues {
			return "other"
		}
		seen[value] = true
	}
	return value
}

// Shed counts a client request refused (reason "overloaded") or cut by
// the request deadline (reason "timeout").
func (m *Metrics) Shed(ctx context.Context, reason string) {
	if m == nil {
		return
	}
	m.shed.Add(ctx, 1, m.one("reason", reason))
}

// ListenerRefused records one connection or request the public listener
// refused before the request log sees it (reason connection_limit,
// headers_too_many or headers_too_large).
func (m *Metrics) ListenerRefused(ctx context.Context, reason string) {
	if m == nil {
		return
	}
	m.refused.Add(ctx, 1, m.one("reason", reason))
}

// SubgraphRequest records one subgraph attempt; code is "" on success.
func (m *Metrics) SubgraphRequest(ctx context.Context, subgraph, code string, d time.Duration) {
	if m == nil {
		return
	}
	if code == "" {
		m.subRequests.Add(ctx, 1, m.two("subgraph", subgraph, "code", "OK"))
	} else {
		o := m.two("subgraph", subgraph, "code", code)
		m.subRequests.Add(ctx, 1, o)
		m.subErrors.Add(ctx, 1, o)
	}
	if d > 0 {
		m.subDuration.Record(ctx, d.Seconds(), m.one("subgraph", subgraph))
	}
}

// SubgraphRetry counts a retried subgraph request.
func (m *Metrics) SubgraphRetry(ctx context.Context, subgraph string) {
	if m == nil {
		return
	}
	m.subRetries.Add(ctx, 1, m.one("subgraph", subgraph))
}

// ObserveBreaker registers the function that reports a subgraph's
// breaker state (0 closed, 1 half-open, 2 open) when metrics are read.
func (m *Metrics) ObserveBreaker(subgraph string, state func() int64) {
	if m == nil {
		return
	}
	m.breakerStates.Store(subgraph, state)
}

// ObserveReading registers the function that reports the bytes taken
// from the read budget (server.max_reading_bytes) when metrics are read;
// a later call replaces it.
func (m *Metrics) ObserveReading(inUse func() int64) {
	if m == nil {
		return
	}
	m.reading.Store(&inUse)
}

// ObserveCache exports the hit and miss counts of the cache of the given
// kind (response, entity, apq), read when metrics are collected: the
// caches keep their own counters, so a lookup costs no metric call.
func (m *Metrics) ObserveCache(kind string, counts func() (hits, misses int64)) {
	if m == nil {
		return
	}
	m.cacheCounts.Store(kind, counts)
}

// OperationCost records an operation's estimated cost and, when it was
// computed, its actual cost; a negative value is not recorded.
func (m *Metrics) OperationCost(ctx context.Context, estimated, actual float64) {
	if m == nil {
		return
	}
	if estimated >= 0 {
		m.cost.Record(ctx, estimated, m.one("kind", "estimated"))
	}
	if actual >= 0 {
		m.cost.Record(ctx, actual, m.one("kind", "actual"))
	}
}

// RateLimited counts a request refused by the rate limit of the given
// tier (e.g. "client", "anonymous", "cost").
func (m *Metrics) RateLimited(ctx context.Context, tier string) {
	if m == nil {
		return
	}
	m.rateLimited.Add(ctx, 1, m.one("tier", tier))
}

// Coprocessor records one coprocessor exchange at stage: outcome is
// "continue", "break" or "failed".
func (m *Metrics) Coprocessor(ctx context.Context, stage, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.coproRequests.Add(ctx, 1, m.two("stage", stage, "outcome", outcome))
	m.coproDuration.Record(ctx, d.Seconds(), m.one("stage", stage))
}

// DeferPart records one deferred part of an incremental response:
// outcome is "ok", "error" or "timeout"; d runs from the part's start to
// its payload (not recorded for "timeout").
func (m *Metrics) DeferPart(ctx context.Context, operation, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	op := m.operationLabel(operation)
	m.deferParts.Add(ctx, 1, m.two("operation", op, "outcome", outcome))
	if outcome != "timeout" {
		m.deferDuration.Record(ctx, d.Seconds(), m.one("operation", op))
	}
}
