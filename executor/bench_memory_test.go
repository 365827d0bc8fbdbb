package executor_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/internal/testsys"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/subgraphs/demo"
)

// BenchmarkExecuteInMemory is BenchmarkExecute without the network: the
// transport replays the demo subgraphs' answers from memory (each
// distinct request is answered once by the real handler), so the figure
// is the executor's own work: building requests, parsing, merging,
// rendering. Besides ns/op it reports cpu-ns/op, the process's CPU time
// (user+system) per operation, which other work on a shared machine
// disturbs much less than the wall clock.
func BenchmarkExecuteInMemory(b *testing.B) {
	benchInMemory(b, benchPlan(b))
}

// BenchmarkExecuteInMemoryDeep is BenchmarkExecuteInMemory with
// testdata/bench/deep-query.graphql, in the shape of the shared load
// harness's query: the same entities at many places, so entity answers
// are merged into several objects each.
func BenchmarkExecuteInMemoryDeep(b *testing.B) {
	benchInMemory(b, executor.BenchPlanOf(b, "deep-query.graphql"))
}

// BenchmarkExecuteInMemoryHarness is BenchmarkExecuteInMemory with the
// shared load harness's query, supergraph and subgraph answers (recorded
// in testdata/bench/harness-answers.json): the six fetches and the
// 87,599-byte response the harness measures, without the HTTP server and
// client.
func BenchmarkExecuteInMemoryHarness(b *testing.B) {
	plan := executor.BenchHarnessPlan(b)
	tr := executor.HarnessTransport(b)
	executor.CheckHarnessResponse(b, executor.Execute(context.Background(), plan, executor.Input{}, tr, nil))
	benchExecute(b, plan, tr)
}

func benchInMemory(b *testing.B, plan *planner.Plan) {
	benchExecute(b, plan, &replayTransport{handlers: demo.Handlers(), answers: map[string][]byte{}})
}

// benchExecute runs plan over tr b.N times, each response as long as the
// first, which must have no errors, and reports cpu-ns/op.
func benchExecute(b *testing.B, plan *planner.Plan, tr executor.Transport) {
	ctx := context.Background()
	want := executor.Execute(ctx, plan, executor.Input{}, tr, nil)
	if bytes.Contains(want, []byte(`"errors"`)) {
		b.Fatalf("warm-up: %s", want)
	}
	buf := make([]byte, 0, 16<<10)
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	n := 0
	b.ResetTimer()
	for b.Loop() {
		buf = executor.Execute(ctx, plan, executor.Input{}, tr, buf[:0])
		if len(buf) != len(want) {
			b.Fatalf("got %s", buf)
		}
		n++
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(n), "cpu-ns/op")
}

// replayTransport answers each distinct subgraph request from memory,
// asking the subgraph's handler the first time.
type replayTransport struct {
	handlers map[string]http.Handler
	mu       sync.Mutex
	answers  map[string][]byte
}

func (t *replayTransport) Fetch(_ context.Context, subgraph string, req *executor.Request) (*executor.Response, error) {
	key := subgraph + "\x00" + string(req.Body)
	t.mu.Lock()
	body, ok := t.answers[key]
	t.mu.Unlock()
	if !ok {
		h := t.handlers[subgraph]
		if h == nil {
			return nil, fmt.Errorf("no subgraph %q", subgraph)
		}
		hr := httptest.NewRequest(http.MethodPost, demo.Path, bytes.NewReader(req.Body))
		hr.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, hr)
		body = rec.Body.Bytes()
		t.mu.Lock()
		t.answers[key] = body
		t.mu.Unlock()
	}
	return &executor.Response{Body: body}, nil
}

// cpuTime is the process's user plus system CPU time.
func cpuTime(b *testing.B) time.Duration {
	d, err := testsys.ProcessCPU()
	if err != nil {
		b.Fatal(err)
	}
	return d
}
