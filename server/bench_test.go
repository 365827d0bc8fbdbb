package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs"
	"github.com/fedgate/gateway/telemetry"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// demoBenchBody is the POST body of testdata/bench/demo-query.graphql.
// benchDemoQuery serves the demo benchmark query through g's handler once
// to warm up (the answer must have no errors), calls afterWarm if given,
// then serves it b.N times, each answer equal to the first.
func benchDemoQuery(b *testing.B, g *gatewaytest.Gateway, afterWarm func()) {
	b.Helper()
	body := demoBenchBody(b)
	serve := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		g.Handler.ServeHTTP(rec, req)
		return rec
	}
	warm := serve()
	if warm.Code != http.StatusOK || bytes.Contains(warm.Body.Bytes(), []byte(`"errors"`)) {
		b.Fatalf("warm-up: %d %s", warm.Code, warm.Body.Bytes())
	}
	want := warm.Body.Bytes()
	if afterWarm != nil {
		afterWarm()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if rec := serve(); rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), want) {
			b.Fatalf("%d %s", rec.Code, rec.Body.Bytes())
		}
	}
}

func demoBenchBody(b *testing.B) []byte {
	b.Helper()
	q, err := os.ReadFile(filepath.Join("..", "testdata", "bench", "demo-query.graphql"))
	if err != nil {
		b.Fatal(err)
	}
	body, err := json.Marshal(map[string]string{"query": string(q), "operationName": "DemoBench"})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// BenchmarkServeCached is one request through the whole HTTP handler with
// warm document and plan caches: decode, cache lookups, execution over
// real loopback HTTP to the four demo subgraphs, rendering. With "demo"
// the gqlgen subgraphs run in this process and their cost (and
// allocations) is part of the number; "memoized" replays their answers, so
// the number is close to the gateway's own cost.
func BenchmarkServeCached(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []gatewaytest.Option
	}{
		{"demo", nil},
		{"memoized", []gatewaytest.Option{gatewaytest.WithMemoizedSubgraphs()}},
		{"memoized-nodedupe", []gatewaytest.Option{gatewaytest.WithMemoizedSubgraphs(), gatewaytest.WithServerOptions(noDedupe())}},
		{"memoized-observed", append(observed(b, false), gatewaytest.WithMemoizedSubgraphs())},
		{"memoized-traced", append(observed(b, true), gatewaytest.WithMemoizedSubgraphs())},
	} {
		b.Run(bc.name, func(b *testing.B) {
			g := gatewaytest.Start(b, bc.opts...)
			benchDemoQuery(b, g, nil)
		})
	}
}

// BenchmarkServeHarness serves the shared load harness's query over HTTP
// as the harness does (--dedupe=false, no request log or metrics): a
// client POSTs to the gateway's listener, the gateway fetches over
// loopback HTTP from subgraphs that replay recorded answers
// (testdata/bench/harness-answers.json), and the 87,599-byte answer must
// equal the first. It reports the process's cpu-ns/op, which includes the
// client's and the replaying subgraphs' share (the same in two versions
// of the gateway, so differences are the gateway's).
func BenchmarkServeHarness(b *testing.B) {
	dir := filepath.Join("..", "testdata", "bench")
	sdl, err := os.ReadFile(filepath.Join(dir, "supergraph.graphql"))
	if err != nil {
		b.Fatal(err)
	}
	query, err := os.ReadFile(filepath.Join(dir, "query.graphql"))
	if err != nil {
		b.Fatal(err)
	}
	body, err := json.Marshal(map[string]string{"query": string(query), "operationName": "TestQuery"})
	if err != nil {
		b.Fatal(err)
	}
	opts := server.DefaultOptions()
	opts.Cache.Dedupe, opts.Cache.InboundDedupe = false, false
	gwOpts := []gatewaytest.Option{gatewaytest.WithSupergraph(string(sdl)), gatewaytest.WithServerOptions(opts)}
	for name, h := range gatewaytest.HarnessSubgraphs(b, dir) {
		gwOpts = append(gwOpts, gatewaytest.WithHandler(name, h))
	}
	g := gatewaytest.Start(b, gwOpts...)
	// The answers are read into one reused buffer: reading each into a
	// new one (io.ReadAll) allocated 200 KB per operation, three times
	// the gateway's own, and the collections that caused were counted
	// against the gateway.
	var got bytes.Buffer
	post := func() []byte {
		resp, err := g.Client.Post(g.URL, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		got.Reset()
		_, err = got.ReadFrom(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("%d %v %.300s", resp.StatusCode, err, got.Bytes())
		}
		return got.Bytes()
	}
	want := bytes.Clone(post())
	if bytes.Contains(want, []byte(`"errors"`)) || len(want) != 87599 {
		b.Fatalf("warm-up (%d bytes): %.500s", len(want), want)
	}
	b.ReportAllocs()
	cpu0 := processCPU()
	n := 0
	b.ResetTimer()
	for b.Loop() {
		if got := post(); !bytes.Equal(got, want) {
			b.Fatalf("answer differs: %.300s", got)
		}
		n++
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(n), "cpu-ns/op")
}

// BenchmarkServeCachedParallel is BenchmarkServeCached/memoized from
// GOMAXPROCS goroutines at once.
func BenchmarkServeCachedParallel(b *testing.B) {
	g := gatewaytest.Start(b, gatewaytest.WithMemoizedSubgraphs())
	body := demoBenchBody(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			g.Handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Errorf("%d %s", rec.Code, rec.Body.Bytes())
				return
			}
		}
	})
}

// observed wires telemetry as the gateway command does: Prometheus
// metrics, a JSON request log line (to io.Discard), load shedding and a
// request deadline; traced also records every span (to a no-op exporter).
func observed(b *testing.B, traced bool) []gatewaytest.Option {
	opts := telemetry.Options{LogOutput: io.Discard}
	if traced {
		opts.SpanExporter = tracetest.NewNoopExporter()
	}
	tel, err := telemetry.New(context.Background(), telemetry.DefaultConfig(), opts)
	if err != nil {
		b.Fatal(err)
	}
	so := server.DefaultOptions()
	so.Observe = server.Observe{MaxInflightRequests: 1000, RequestTimeout: 30 * time.Second, Tracer: tel.Tracer,
		Metrics: tel.Metrics, RequestLog: tel.RequestLog()}
	return []gatewaytest.Option{
		gatewaytest.WithServerOptions(so),
		gatewaytest.WithClientOptions(subgraphs.Options{Tracer: tel.Tracer, Propagate: true, Metrics: tel.Metrics, Logger: tel.Logger}),
	}
}

// noDedupe are the default options without in-flight fetch dedupe, to
// tell its cost apart.
func noDedupe() server.Options {
	o := server.DefaultOptions()
	o.Cache.Dedupe = false
	return o
}
