package jsonvalue

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkParseHarness parses the six subgraph answers of the shared load
// harness's query (testdata/bench/harness-answers.json), 81 KB in all,
// with one parser per answer as the executor has.
func BenchmarkParseHarness(b *testing.B) {
	benchParseHarness(b, false)
}

// BenchmarkParseHarnessKeys is BenchmarkParseHarness parsing against the
// set of the answers' keys, as the executor parses against its plan's.
func BenchmarkParseHarnessKeys(b *testing.B) {
	benchParseHarness(b, true)
}

func benchParseHarness(b *testing.B, withKeys bool) {
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
	var keys *Keys
	if withKeys {
		var all []string
		for i, e := range entries {
			v, err := parsers[i].Parse(e.Answer)
			if err != nil {
				b.Fatal(err)
			}
			all = appendKeys(all, v)
		}
		keys = NewKeys(all)
	}
	size := 0
	for _, e := range entries {
		size += len(e.Answer)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for i, e := range entries {
			if _, err := parsers[i].ParseKeys(e.Answer, keys); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// appendKeys appends the keys of v's objects (copies: v's memory is the
// parser's).
func appendKeys(out []string, v *Value) []string {
	for _, m := range v.Members() {
		out = appendKeys(append(out, strings.Clone(m.Key)), m.Value)
	}
	for _, x := range v.Array() {
		out = appendKeys(out, x)
	}
	return out
}

// BenchmarkFieldInOrderUninterned reads every member of a 1,500-member
// object in order by keys that are not the parsed strings (as for keys a
// plan's Keys left out): each is found at the hint, so a pass is linear
// in the members, not quadratic.
func BenchmarkFieldInOrderUninterned(b *testing.B) {
	var doc []byte
	keys := make([]string, 1500)
	doc = append(doc, '{')
	for i := range keys {
		keys[i] = fmt.Sprintf("field%04d", i)
		if i > 0 {
			doc = append(doc, ',')
		}
		doc = append(doc, fmt.Sprintf("%q:%d", keys[i], i)...)
	}
	doc = append(doc, '}')
	var p Parser
	v, err := p.Parse(doc)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		hint := 0
		for _, k := range keys {
			if v.Field(k, &hint) == nil {
				b.Fatalf("%s not found", k)
			}
		}
	}
}
