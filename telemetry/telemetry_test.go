package telemetry

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestOTLPExport sends spans to a collector stand-in over OTLP/HTTP and
// checks that they arrive as protobuf on /v1/traces.
func TestOTLPExport(t *testing.T) {
	var mu sync.Mutex
	var got []string
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, fmt.Sprintf("%s %s %s %d", r.Method, r.URL.Path, r.Header.Get("Content-Type"), len(body)))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	cfg := DefaultConfig()
	cfg.Tracing.OTLP.Enabled = true
	cfg.Tracing.OTLP.Endpoint = collector.URL + "/v1/traces"
	cfg.Metrics.Prometheus.Enabled = false
	tel, err := New(context.Background(), cfg, Options{LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tel.Tracer.Start(context.Background(), SpanRequest)
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tel.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) == 0 || !strings.HasPrefix(got[0], "POST /v1/traces application/x-protobuf") {
		t.Fatalf("collector received %v", got)
	}
}

// TestNoExportByDefault: without an exporter no span is recorded, yet a
// span context in the request is kept (so traceparent is propagated).
func TestNoExportByDefault(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Metrics.Prometheus.Enabled = false
	tel, err := New(context.Background(), cfg, Options{LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tel.Tracer.Start(context.Background(), SpanRequest)
	if span.IsRecording() {
		t.Error("a span is recorded with no exporter")
	}
	if tel.MetricsHandler() != nil || tel.Metrics != nil {
		t.Error("metrics are on though Prometheus is off")
	}
}

// TestOperationLabelsAreBounded: past 1000 distinct operation names,
// requests are counted under "other".
func TestOperationLabelsAreBounded(t *testing.T) {
	tel, err := New(context.Background(), DefaultConfig(), Options{LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range maxOperations + 5 {
		tel.Metrics.RequestStarted(ctx)
		tel.Metrics.RequestDone(ctx, fmt.Sprintf("Op%d", i), 200, time.Millisecond)
	}
	tel.Metrics.RequestStarted(ctx)
	tel.Metrics.RequestDone(ctx, "Op1", 200, time.Millisecond)
	rec := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	text := rec.Body.String()
	for _, want := range []string{
		`fedgate_requests_total{operation="other",status="200"} 5`,
		`fedgate_requests_total{operation="Op1",status="200"} 2`,
		`fedgate_requests_total{operation="Op999",status="200"} 1`,
		`fedgate_requests_inflight 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The process's and the runtime's metrics are served beside the
	// gateway's.
	for _, want := range []string{"\nprocess_resident_memory_bytes ", "\nprocess_open_fds ", "\nprocess_max_fds ", "\ngo_goroutines "} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", strings.TrimSpace(want))
		}
	}
	if strings.Contains(text, `operation="Op1000"`) {
		t.Error("the 1001st operation name became a label")
	}
}

func TestFetchListJSON(t *testing.T) {
	l := fetchList{{Subgraph: "a\"b\u00e9\x01", Duration: 1500 * time.Microsecond, Attempts: 1},
		{Subgraph: "side", Duration: 300 * time.Millisecond, Code: "SUBREQUEST_TIMEOUT", Attempts: 2},
		{Subgraph: "down", Duration: time.Millisecond, Code: "SUBREQUEST_HTTP_ERROR", Attempts: 1,
			Failure: &FetchFailure{FetchID: 3, Path: []string{"me", "@"}, Error: `POST http://10.0.0.7:4001/graphql: dial tcp 10.0.0.7:4001: connect: connection refused "x"`}}}
	b, err := l.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"name":"a\"bé\u0001","ms":1.5,"attempts":1},{"name":"side","ms":300,"code":"SUBREQUEST_TIMEOUT","attempts":2},` +
		`{"name":"down","ms":1,"code":"SUBREQUEST_HTTP_ERROR","attempts":1,"fetch":3,"path":"me.@","error":"POST http://10.0.0.7:4001/graphql: dial tcp 10.0.0.7:4001: connect: connection refused \"x\""}]`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}
