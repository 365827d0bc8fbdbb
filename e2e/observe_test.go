package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/internal/syncbuf"
	"github.com/fedgate/gateway/pkg/hooks"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs"
	"github.com/fedgate/gateway/telemetry"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// headerSpy records the headers of the requests a subgraph receives.
type headerSpy struct {
	next http.Handler
	mu   sync.Mutex
	seen []http.Header
}

func (s *headerSpy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.seen = append(s.seen, r.Header.Clone())
	s.mu.Unlock()
	s.next.ServeHTTP(w, r)
}

func (s *headerSpy) headers() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.seen...)
}

// startObserved starts the fault gateway with telemetry wired as the
// gateway command wires it: metrics on the public listener.
func startObserved(t *testing.T, side http.Handler, main http.Handler, cfg *subgraphs.Config, opts telemetry.Options) (*gatewaytest.Gateway, *telemetry.Telemetry) {
	t.Helper()
	tc := telemetry.DefaultConfig()
	tc.Metrics.Prometheus.Listen = ""
	tel, err := telemetry.New(context.Background(), tc, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	so := server.DefaultOptions()
	so.Observe = server.Observe{Tracer: tel.Tracer, Metrics: tel.Metrics, RequestLog: tel.RequestLog(),
		MetricsHandler: tel.MetricsHandler(), MetricsPath: tel.MetricsPath()}
	g := gatewaytest.Start(t,
		gatewaytest.WithSupergraph(faultSupergraph(t)),
		gatewaytest.WithHandler("main", main),
		gatewaytest.WithHandler("side", side),
		gatewaytest.WithClientOptions(subgraphs.Options{Config: cfg, Tracer: tel.Tracer, Propagate: true, Metrics: tel.Metrics, Logger: tel.Logger}),
		gatewaytest.WithServerOptions(so))
	return g, tel
}

func doRequest(t *testing.T, g *gatewaytest.Gateway, query string, header map[string]string) *gatewaytest.Response {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	req, err := http.NewRequest(http.MethodPost, g.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := g.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestMetricsScrape scrapes /metrics after traffic and finds every
// metric of the gateway with its labels.
func TestMetricsScrape(t *testing.T) {
	t.Parallel()
	side := &flapper{}
	cfg := settings(func(s *subgraphs.Settings) {
		s.Retry.Backoff, s.Retry.MaxBackoff = time.Millisecond, time.Millisecond
		s.Breaker = subgraphs.Breaker{Enabled: true, Window: 10 * time.Second, MinRequests: 4, FailureRatio: 0.5,
			OpenTimeout: time.Minute, HalfOpenRequests: 1}
	})
	g, tel := startObserved(t, side, mainHandler(), cfg, telemetry.Options{LogOutput: io.Discard})
	if resp := doRequest(t, g, `query Good { things { id name extra } }`, nil); resp.Status != 200 {
		t.Fatalf("%d %s", resp.Status, resp.Body)
	}
	side.failing.Store(true)
	for range 4 {
		doRequest(t, g, `query Bad { things { id extra } }`, nil)
	}
	if resp := doRequest(t, g, `{ things { `, nil); resp.Status != 400 {
		t.Fatalf("a syntax error: %d", resp.Status)
	}
	ctx := context.Background()
	tel.Metrics.ObserveCache("response", func() (int64, int64) { return 1, 0 })
	tel.Metrics.ObserveCache("entity", func() (int64, int64) { return 0, 1 })
	tel.Metrics.RateLimited(ctx, "anonymous")
	tel.Metrics.OperationCost(ctx, 12, -1)

	req, _ := http.NewRequest(http.MethodGet, g.BaseURL+"/metrics", nil)
	resp, err := g.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 {
		t.Fatalf("/metrics: %d", resp.Status)
	}
	text := string(resp.Body)
	for _, want := range []string{
		`fedgate_requests_total{operation="Good",status="200"} 1`,
		`fedgate_requests_total{operation="Bad",status="200"} 4`,
		`fedgate_requests_total{operation="anonymous",status="400"} 1`,
		`fedgate_request_duration_seconds_bucket{operation="Good",status="200",le="0.1"}`,
		`fedgate_request_duration_seconds_count{operation="Bad",status="200"} 4`,
		`fedgate_requests_inflight 0`,
		`fedgate_subgraph_requests_total{code="OK",subgraph="main"} 5`,
		`fedgate_subgraph_requests_total{code="OK",subgraph="side"} 1`,
		`fedgate_subgraph_errors_total{code="SUBREQUEST_HTTP_ERROR",subgraph="side"}`,
		`fedgate_subgraph_errors_total{code="SUBREQUEST_CIRCUIT_OPEN",subgraph="side"}`,
		`fedgate_subgraph_duration_seconds_bucket{subgraph="side",le="0.005"}`,
		`fedgate_subgraph_retries_total{subgraph="side"}`,
		`fedgate_circuit_breaker_state{subgraph="main"} 0`,
		`fedgate_circuit_breaker_state{subgraph="side"} 2`,
		`fedgate_cache_hits_total{kind="response"} 1`,
		`fedgate_cache_misses_total{kind="entity"} 1`,
		`fedgate_operation_cost_count{kind="estimated"} 1`,
		`fedgate_rate_limited_total{tier="anonymous"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", text)
	}
}

// TestReadingBytesGauge: fedgate_reading_bytes counts the bytes of a
// body being read (its buffer: at least what arrived, at most what it
// announced and one byte more) and drops to 0 when its client leaves.
func TestReadingBytesGauge(t *testing.T) {
	t.Parallel()
	g, _ := startObserved(t, sideHandler(faultNone), mainHandler(), nil, telemetry.Options{LogOutput: io.Discard})
	gauge := func() int64 {
		req, _ := http.NewRequest(http.MethodGet, g.BaseURL+"/metrics", nil)
		resp, err := g.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^fedgate_reading_bytes (\d+)$`).FindSubmatch(resp.Body)
		if m == nil {
			t.Fatalf("/metrics lacks fedgate_reading_bytes:\n%s", resp.Body)
		}
		n, _ := strconv.ParseInt(string(m[1]), 10, 64)
		return n
	}
	if n := gauge(); n != 0 {
		t.Fatalf("fedgate_reading_bytes %d before any body", n)
	}
	const announced, sent = 100_000, 40_000
	c, err := net.Dial("tcp", strings.TrimPrefix(g.BaseURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		announced, strings.Repeat(" ", sent))
	var n int64
	waitFor(t, "the body's bytes in fedgate_reading_bytes", func() bool { n = gauge(); return n >= sent })
	if n > announced+1 {
		t.Fatalf("fedgate_reading_bytes %d for a body of %d bytes", n, announced)
	}
	c.Close()
	waitFor(t, "fedgate_reading_bytes back to 0", func() bool { return gauge() == 0 })
}

// TestTraceSpanTree sends a federated query with a traceparent and checks
// the spans recorded by an in-memory exporter: one trace continuing the
// caller's, the request span with its stages, a fetch span per subgraph
// with an attempt span under it, and the traceparent each subgraph
// received pointing at that attempt span.
func TestTraceSpanTree(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	mainSpy := &headerSpy{next: mainHandler()}
	sideSpy := &headerSpy{next: sideHandler(faultNone)}
	g, _ := startObserved(t, sideSpy, mainSpy, nil, telemetry.Options{SpanExporter: exp, LogOutput: io.Discard})
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	resp := doRequest(t, g, `{ things { id name extra } }`, map[string]string{"traceparent": "00-" + traceID + "-" + parentID + "-01"})
	if resp.Status != 200 || bytes.Contains(resp.Body, []byte(`"errors"`)) {
		t.Fatalf("%d %s", resp.Status, resp.Body)
	}
	waitFor(t, "the request span", func() bool {
		for _, s := range exp.GetSpans() {
			if s.Name == telemetry.SpanRequest {
				return true
			}
		}
		return false
	})
	spans := exp.GetSpans()
	byID := map[string]tracetest.SpanStub{}
	var names []string
	for _, s := range spans {
		byID[s.SpanContext.SpanID().String()] = s
		names = append(names, s.Name)
		if got := s.SpanContext.TraceID().String(); got != traceID {
			t.Errorf("span %s is in trace %s, want the caller's %s", s.Name, got, traceID)
		}
	}
	parentName := func(s tracetest.SpanStub) string {
		if p, ok := byID[s.Parent.SpanID().String()]; ok {
			return p.Name
		}
		return "remote:" + s.Parent.SpanID().String()
	}
	count := map[string]int{}
	for _, s := range spans {
		count[s.Name]++
		want := map[string]string{
			telemetry.SpanRequest:  "remote:" + parentID,
			telemetry.SpanParse:    telemetry.SpanRequest,
			telemetry.SpanValidate: telemetry.SpanRequest,
			telemetry.SpanPlan:     telemetry.SpanRequest,
			telemetry.SpanExecute:  telemetry.SpanRequest,
			telemetry.SpanFetch:    telemetry.SpanExecute,
			telemetry.SpanAttempt:  telemetry.SpanFetch,
			telemetry.SpanMerge:    telemetry.SpanExecute,
		}[s.Name]
		if want == "" {
			t.Errorf("unexpected span %q", s.Name)
		} else if got := parentName(s); got != want {
			t.Errorf("span %s has parent %s, want %s", s.Name, got, want)
		}
	}
	for name, n := range map[string]int{telemetry.SpanRequest: 1, telemetry.SpanParse: 1, telemetry.SpanValidate: 1,
		telemetry.SpanPlan: 1, telemetry.SpanExecute: 1, telemetry.SpanFetch: 2, telemetry.SpanAttempt: 2, telemetry.SpanMerge: 1} {
		if count[name] != n {
			t.Errorf("%d spans named %s, want %d (spans: %v)", count[name], name, n, names)
		}
	}
	// Each subgraph got a traceparent in the caller's trace whose parent
	// is its attempt span, which names the subgraph and the attempt.
	for name, spy := range map[string]*headerSpy{"main": mainSpy, "side": sideSpy} {
		hs := spy.headers()
		if len(hs) != 1 {
			t.Fatalf("%s received %d requests", name, len(hs))
		}
		tp := strings.Split(hs[0].Get("traceparent"), "-")
		if len(tp) != 4 || tp[1] != traceID {
			t.Fatalf("%s received traceparent %q, want one in trace %s", name, hs[0].Get("traceparent"), traceID)
		}
		attempt, ok := byID[tp[2]]
		if !ok || attempt.Name != telemetry.SpanAttempt {
			t.Fatalf("%s's traceparent parent %s is not an attempt span", name, tp[2])
		}
		attrs := map[string]string{}
		for _, kv := range attempt.Attributes {
			attrs[string(kv.Key)] = kv.Value.Emit()
		}
		if attrs["subgraph.name"] != name || attrs["fetch.attempt"] != "1" {
			t.Errorf("%s's attempt span has attributes %v", name, attrs)
		}
	}
}

// TestRequestLogAndID checks the request log line and X-Request-ID: a
// valid id is kept, echoed and forwarded to subgraphs; an invalid one is
// replaced by a generated id.
func TestRequestLogAndID(t *testing.T) {
	t.Parallel()
	var logs syncbuf.Buffer
	mainSpy := &headerSpy{next: mainHandler()}
	sideSpy := &headerSpy{next: sideHandler(faultErrors)}
	g, _ := startObserved(t, sideSpy, mainSpy, nil, telemetry.Options{LogOutput: &logs})
	const query = `query Things { things { id name extra } }`
	resp := doRequest(t, g, query, map[string]string{"X-Request-ID": "req-42.a_b:c", "Apollographql-Client-Name": "web"})
	if resp.Status != 200 {
		t.Fatalf("%d %s", resp.Status, resp.Body)
	}
	if got := resp.Header.Get("X-Request-ID"); got != "req-42.a_b:c" {
		t.Errorf("echoed X-Request-ID %q", got)
	}
	for name, spy := range map[string]*headerSpy{"main": mainSpy, "side": sideSpy} {
		if got := spy.headers()[0].Get("X-Request-ID"); got != "req-42.a_b:c" {
			t.Errorf("%s received X-Request-ID %q", name, got)
		}
	}
	var line struct {
		Msg           string  `json:"msg"`
		RequestID     string  `json:"request_id"`
		ClientID      string  `json:"client_id"`
		OperationName string  `json:"operation_name"`
		OperationHash string  `json:"operation_hash"`
		Status        int     `json:"status"`
		LatencyMS     float64 `json:"latency_ms"`
		Subgraphs     []struct {
			Name     string  `json:"name"`
			MS       float64 `json:"ms"`
			Attempts int     `json:"attempts"`
		} `json:"subgraphs"`
	}
	waitFor(t, "the log line", func() bool { return strings.Contains(logs.String(), `"msg":"request"`) })
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(l, `"msg":"request"`) {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatalf("log line is not JSON: %v: %s", err, l)
			}
		}
	}
	sum := sha256.Sum256([]byte(query))
	if line.RequestID != "req-42.a_b:c" || line.ClientID != "web" || line.OperationName != "Things" ||
		line.OperationHash != hex.EncodeToString(sum[:]) || line.Status != 200 || line.LatencyMS <= 0 {
		t.Errorf("log line %+v", line)
	}
	if len(line.Subgraphs) != 2 || line.Subgraphs[0].Name != "main" || line.Subgraphs[1].Name != "side" || line.Subgraphs[0].Attempts != 1 {
		t.Errorf("per-subgraph timings %+v", line.Subgraphs)
	}

	for _, bad := range []string{"has space", strings.Repeat("x", 129), "semi;colon", "\u00e9t\u00e9"} {
		resp := doRequest(t, g, query, map[string]string{"X-Request-ID": bad})
		id := resp.Header.Get("X-Request-ID")
		if id == bad || len(id) != 32 || !telemetry.ValidRequestID(id) {
			t.Errorf("for X-Request-ID %q the gateway used %q, want a generated id", bad, id)
		}
	}
}

// TestClientGoneIsLogged499: a client that leaves before its answer is
// logged with status 499, not as a gateway failure.
func TestClientGoneIsLogged499(t *testing.T) {
	t.Parallel()
	var logs syncbuf.Buffer
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		mainHandler().ServeHTTP(w, r)
	})
	g, _ := startObserved(t, sideHandler(faultNone), slow, nil, telemetry.Options{LogOutput: &logs})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	body, _ := json.Marshal(map[string]string{"query": `{ things { id name } }`})
	if _, err := g.Post(ctx, body); err == nil {
		t.Fatal("the request outlived its client's deadline")
	}
	waitFor(t, "the log line", func() bool { return strings.Contains(logs.String(), `"msg":"request"`) })
	if !strings.Contains(logs.String(), `"status":499`) {
		t.Fatalf("log line without status 499:\n%s", logs.String())
	}
}

// TestHookLabelsOnRequestMetrics: a hook set that declares Labels gives
// the request metrics a label per Context entry it names, read when the
// request ends (a request its RouterRequest hook stopped included); a
// label takes at most 100 values, the rest counting as "other", so that
// the series a label adds stay bounded.
func TestHookLabelsOnRequestMetrics(t *testing.T) {
	tc := telemetry.DefaultConfig()
	tc.Metrics.Prometheus.Listen = ""
	tel, err := telemetry.New(context.Background(), tc, telemetry.Options{LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	so := server.DefaultOptions()
	so.Observe = server.Observe{Metrics: tel.Metrics, MetricsHandler: tel.MetricsHandler(), MetricsPath: tel.MetricsPath()}
	so.Hooks = []hooks.Hooks{{
		// A test stands a header in for the verified claim a real hook
		// would read.
		RouterRequest: func(ctx context.Context, c *hooks.Call) error {
			tenant := c.Header.Get("X-Test-Tenant")
			c.Context["tenant"] = tenant
			if tenant == "blocked" {
				return &hooks.Break{Status: http.StatusForbidden, Code: "TENANT_BLOCKED", Message: "blocked"}
			}
			return nil
		},
		Labels: []string{"tenant"},
	}}
	g := gatewaytest.Start(t, gatewaytest.WithSupergraph(faultSupergraph(t)),
		gatewaytest.WithHandler("main", mainHandler()), gatewaytest.WithHandler("side", http.NotFoundHandler()),
		gatewaytest.WithServerOptions(so))
	for _, tenant := range []string{"acme", "acme", "blocked"} {
		doRequest(t, g, `query Good { things { id name } }`, map[string]string{"X-Test-Tenant": tenant})
	}
	for i := range 105 {
		doRequest(t, g, `query Many { things { id } }`, map[string]string{"X-Test-Tenant": fmt.Sprintf("t%03d", i)})
	}
	req, _ := http.NewRequest(http.MethodGet, g.BaseURL+"/metrics", nil)
	resp, err := g.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	text := string(resp.Body)
	for _, want := range []string{
		`fedgate_requests_total{operation="Good",status="200",tenant="acme"} 2`,
		`fedgate_requests_total{operation="anonymous",status="403",tenant="blocked"} 1`,
		`fedgate_request_duration_seconds_count{operation="Good",status="200",tenant="acme"} 2`,
		`fedgate_requests_total{operation="Many",status="200",tenant="t097"} 1`,
		`fedgate_requests_total{operation="Many",status="200",tenant="other"} 7`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(text, `tenant="t098"`) {
		t.Errorf("a label value past the 100th became a series:\n%s", text)
	}
}
