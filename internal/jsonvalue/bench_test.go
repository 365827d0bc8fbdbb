package jsonvalue

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParseHarness parses the six subgraph answers of the shared load
// harness's query (testdata/bench/harness-answers.json), 81 KB in all,
// with one parser per answer as the executor has.
func BenchmarkParseHarness(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "bench", "harness-answers.json"))
	if err != nil {
		b.Fatal(err)
	}
	var entries []struct {
		Answer json.RawMessage `json:"answer"`
	}
	if err := json.Unmarshal(raw, &entries); err != nil {
		b.Fatal(err)
	}
	parsers := make([]Parser, len(entries))
	size := 0
	for _, e := range entries {
		size += len(e.Answer)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for i, e := range entries {
			if _, err := parsers[i].Parse(e.Answer); err != nil {
				b.Fatal(err)
			}
		}
	}
}
