package executor

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/internal/testsys"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/subgraphs/demo"
	"github.com/vektah/gqlparser/v2"
)

// BenchmarkRender is the rendering step alone: the merged subgraph data
// of testdata/bench/demo-query.graphql (fetched once from the demo
// subgraphs' handlers) written as the client response from the plan,
// again and again.
func BenchmarkRender(b *testing.B) {
	plan := BenchPlanOf(b, "demo-query.graphql")
	e := &execution{ctx: context.Background(), transport: handlerTransport(demo.Handlers()), keys: plan.Keys}
	defer e.release()
	e.run(plan.Root)
	want, _ := renderPlan(e, nil, plan)
	if bytes.Contains(want, []byte(`"errors"`)) || !bytes.Contains(want, []byte(`"inStock"`)) {
		b.Fatalf("warm-up: %s", want)
	}
	renderLoop(b, e, plan, len(want))
}

// renderLoop renders plan's merged data from e again and again, each
// answer as long as the first (size bytes), and reports the CPU time per
// operation too: less disturbed by other work on a shared machine than
// the wall clock.
func renderLoop(b *testing.B, e *execution, plan *planner.Plan, size int) {
	buf := make([]byte, 0, size)
	b.ReportAllocs()
	cpu0 := processCPU(b)
	n := 0
	b.ResetTimer()
	for b.Loop() {
		buf, _ = renderPlan(e, buf[:0], plan)
		if len(buf) != size {
			b.Fatalf("got %s", buf)
		}
		n++
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU(b)-cpu0).Nanoseconds())/float64(n), "cpu-ns/op")
}

// processCPU is the process's user plus system CPU time.
func processCPU(b *testing.B) time.Duration {
	d, err := testsys.ProcessCPU()
	if err != nil {
		b.Fatal(err)
	}
	return d
}

func renderPlan(e *execution, buf []byte, plan *planner.Plan) ([]byte, int) {
	return e.render(buf, plan.Shape, nil)
}

// handlerTransport answers subgraph requests with the subgraphs' handlers
// in process.
type handlerTransport map[string]http.Handler

func (t handlerTransport) Fetch(_ context.Context, subgraph string, req *Request) (*Response, error) {
	hr := httptest.NewRequest(http.MethodPost, demo.Path, bytes.NewReader(req.Body))
	hr.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	t[subgraph].ServeHTTP(rec, hr)
	return &Response{Body: rec.Body.Bytes()}, nil
}

// BenchPlanOf plans the query in testdata/bench/name on the demo supergraph
// (test only; exported for the benchmarks of package executor_test).
func BenchPlanOf(b *testing.B, name string) *planner.Plan {
	b.Helper()
	return benchPlanOn(b, gateway.DemoSupergraph, name)
}

// BenchHarnessPlan plans the shared load harness's query
// (testdata/bench/query.graphql) on its supergraph
// (testdata/bench/supergraph.graphql); test only.
func BenchHarnessPlan(b testing.TB) *planner.Plan {
	b.Helper()
	sdl, err := os.ReadFile(filepath.Join("..", "testdata", "bench", "supergraph.graphql"))
	if err != nil {
		b.Fatal(err)
	}
	return benchPlanOn(b, string(sdl), "query.graphql")
}

func benchPlanOn(b testing.TB, supergraph, name string) *planner.Plan {
	b.Helper()
	sg, err := schema.Load(supergraph)
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
