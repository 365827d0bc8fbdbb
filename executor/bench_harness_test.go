package executor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// harnessResponseSize is the size of the shared load harness's expected
// response (its expected-response.json, compact).
const harnessResponseSize = 87599

// recordedTransport answers subgraph requests from
// testdata/bench/harness-answers.json: the six requests fedgate's plan of
// the shared load harness's query sends, each with the answer of the
// harness's subgraphs. A request not in the file is an error, so a plan
// that asks differently fails the benchmark instead of measuring
// something else (record the file again: capture the requests with the
// harness subgraphs' /_capture/start and /_capture/stop and store each
// with the answer the subgraph gives it).
type recordedTransport map[string][]byte

// HarnessTransport loads the recorded answers (test only; exported for the
// benchmarks of package executor_test).
func HarnessTransport(b testing.TB) Transport {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "bench", "harness-answers.json"))
	if err != nil {
		b.Fatal(err)
	}
	var entries []struct {
		Subgraph string          `json:"subgraph"`
		Request  string          `json:"request"`
		Answer   json.RawMessage `json:"answer"`
	}
	if err := json.Unmarshal(raw, &entries); err != nil {
		b.Fatalf("harness-answers.json: %v", err)
	}
	t := recordedTransport{}
	for _, e := range entries {
		t[e.Subgraph+"\x00"+e.Request] = e.Answer
	}
	return t
}

func (t recordedTransport) Fetch(_ context.Context, subgraph string, req *Request) (*Response, error) {
	body, ok := t[subgraph+"\x00"+string(req.Body)]
	if !ok {
		return nil, fmt.Errorf("no recorded answer of %s for %s", subgraph, req.Body)
	}
	return &Response{Body: body}, nil
}

// CheckHarnessResponse fails b unless resp is a complete answer to the
// harness's query: no errors, and the size of the harness's expected
// response.
func CheckHarnessResponse(b *testing.B, resp []byte) {
	b.Helper()
	if bytes.Contains(resp, []byte(`"errors"`)) || len(resp) != harnessResponseSize {
		b.Fatalf("harness response (%d bytes, want %d): %.500s", len(resp), harnessResponseSize, resp)
	}
}

// BenchmarkRenderHarness is BenchmarkRender with the shared load harness's
// query and recorded answers: the 87,599-byte response written from the
// merged data.
func BenchmarkRenderHarness(b *testing.B) {
	plan := BenchHarnessPlan(b)
	e := &execution{ctx: context.Background(), transport: HarnessTransport(b), keys: plan.Keys}
	defer e.release()
	e.run(plan.Root)
	want, _ := renderPlan(e, nil, plan)
	CheckHarnessResponse(b, want)
	renderLoop(b, e, plan, len(want))
}
