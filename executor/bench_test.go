package executor_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/subgraphs"
	"github.com/fedgate/gateway/subgraphs/demo"
	"github.com/vektah/gqlparser/v2"
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
	return benchPlanOf(b, "demo-query.graphql")
}

// benchPlanOf plans the query in testdata/bench/name on the demo supergraph.
func benchPlanOf(b *testing.B, name string) *planner.Plan {
	b.Helper()
	sg, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		b.Fatal(err)
	}
	q, err := os.ReadFile(filepath.Join("..", "testdata", "bench", name))
	if err != nil {
		b.Fatal(err)
	}
	doc, errs := gqlparser.LoadQuery(sg.API, string(q))
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	op, err := planner.Normalize(sg.API, doc, "", nil)
	if err != nil {
		b.Fatal(err)
	}
	plan, err := planner.New(sg).Plan(op, planner.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return plan
}
