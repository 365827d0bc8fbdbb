package planner_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// benchInput loads a supergraph and a validated query from testdata.
func benchInput(b *testing.B, supergraph, query string) (*schema.Supergraph, *ast.QueryDocument) {
	b.Helper()
	sdl, err := os.ReadFile(filepath.Join(repoRoot, "testdata", supergraph))
	if err != nil {
		b.Fatal(err)
	}
	sg, err := schema.Load(string(sdl))
	if err != nil {
		b.Fatal(err)
	}
	q, err := os.ReadFile(filepath.Join(repoRoot, "testdata", query))
	if err != nil {
		b.Fatal(err)
	}
	doc, errs := gqlparser.LoadQuery(sg.API, string(q))
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	return sg, doc
}

// BenchmarkPlanCold normalizes and plans a query with no cache: the cost a
// plan-cache miss adds to a request (parse and validation excluded).
func BenchmarkPlanCold(b *testing.B) {
	for _, bc := range []struct{ name, supergraph, query string }{
		// The graphql-hive federation benchmark query (shared/bench).
		{"bench", "bench/supergraph.graphql", "bench/query.graphql"},
		// The demo query of make bench, over the embedded demo supergraph.
		{"demo", "../gateway.graphql", "bench/demo-query.graphql"},
		// 20 subgraphs: an entity chain through all of them and an
		// interface of 20 implementations split over two subgraphs each.
		{"heavy", "supergraphs/planning_heavy.graphql", "bench/heavy-query.graphql"},
		// Two @defer fragments (planned twice: whole, and in parts), and
		// the same selection without them.
		{"defer", "../gateway.graphql", "plans/defer_multiple_same_level.graphql"},
		{"defer-plain", "../gateway.graphql", "bench/defer-plain.graphql"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			sg, doc := benchInput(b, bc.supergraph, bc.query)
			p := planner.New(sg)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				op, err := planner.Normalize(sg.API, doc, "", nil)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := p.Plan(op, planner.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseValidate is the document stage a document-cache miss adds:
// gqlparser parse and validation of the benchmark query.
func BenchmarkParseValidate(b *testing.B) {
	sg, _ := benchInput(b, "bench/supergraph.graphql", "bench/query.graphql")
	q, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "bench", "query.graphql"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := gqlparser.LoadQuery(sg.API, string(q)); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}
