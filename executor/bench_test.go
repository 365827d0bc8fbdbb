package executor_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"testing"

	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/subgraphs"
	"github.com/fedgate/gateway/subgraphs/demo"
)

// BenchmarkExecute runs one cached plan of testdata/bench/demo-query.graphql
// (5 fetches over all four subgraphs) against httptest subgraphs that
// replay canned answers, recorded from the demo subgraphs on the first run.
// It measures the executor and the subgraph client: request building,
// HTTP round trips over loopback, parsing, merging and rendering.
func BenchmarkExecute(b *testing.B) {
	plan := benchPlan(b)
	urls := map[string]string{}
	for name, h := range demo.Handlers() {
		srv := httptest.NewServer(gatewaytest.Memoize(h))
		b.Cleanup(srv.Close)
		urls[name] = srv.URL + demo.Path
	}
	client := subgraphs.NewClient(urls, subgraphs.Options{})
	b.Cleanup(client.Close)
	ctx := context.Background()
	want := executor.Execute(ctx, plan, executor.Input{}, client, nil)
	if bytes.Contains(want, []byte(`"errors"`)) {
		b.Fatalf("warm-up: %s", want)
	}
	buf := make([]byte, 0, 16<<10)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		buf = executor.Execute(ctx, plan, executor.Input{}, client, buf[:0])
		if len(buf) != len(want) {
			b.Fatalf("got %s", buf)
		}
	}
}

// benchPlan plans testdata/bench/demo-query.graphql on the demo supergraph.
func benchPlan(b *testing.B) *planner.Plan {
	b.Helper()
	return executor.BenchPlanOf(b, "demo-query.graphql")
}
