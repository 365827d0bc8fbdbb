package executor

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var updateHarness = flag.Bool("update-harness", false, "write testdata/bench/harness-response.json from the executor's answer")

// TestHarnessResponse executes the shared load harness's query over its
// recorded subgraph answers and compares the response, byte for byte,
// with testdata/bench/harness-response.json: the harness's
// expected-response.json written compactly, which is what it checks the
// gateway's answers against. The benchmarks check the size only.
func TestHarnessResponse(t *testing.T) {
	golden := filepath.Join("..", "testdata", "bench", "harness-response.json")
	plan := BenchHarnessPlan(t)
	got := Execute(context.Background(), plan, Input{}, HarnessTransport(t), nil)
	if *updateHarness {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update-harness to write it)", err)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("response differs from %s at byte %d (got %d bytes, want %d): %.200s", golden, i, len(got), len(want), got[max(0, i-40):])
	}
	// Rendering again from the same merged data gives the same bytes.
	if again := Execute(context.Background(), plan, Input{}, HarnessTransport(t), nil); !bytes.Equal(again, got) {
		t.Fatal("a second execution answered differently")
	}
}
