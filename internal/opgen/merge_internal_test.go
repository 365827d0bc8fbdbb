package opgen

import (
	"math/rand/v2"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/schema"
)

// TestMergeAgainDirectivesOnce: the fragments mergeAgain writes hold
// @skip and @include at most once each (spec 5.7.3, directives are unique
// per location), also when it puts both on one fragment. Two random
// conditions could be two @skip: the document was thrown away and, with
// the bounds of DIFFTEST_OPGEN=big, a seed of the audit's nested-provides
// graph ran out of its 50 attempts (seed 18005).
func TestMergeAgainDirectivesOnce(t *testing.T) {
	sg, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	g := New(sg.API, HintsFrom(sg), Options{Merge: true})
	q := sg.API.Query
	fd := q.Fields.ForName("topProducts")
	ft := sg.API.Types[fd.Type.Name()]
	both := 0
	for seed := uint64(0); seed < 400; seed++ {
		s := &gen{Generator: g, r: rand.New(rand.NewPCG(seed, 0)), values: map[string]any{}, kind: ast.Query, fragNesting: maxFragmentNesting}
		f := &ast.Field{Name: fd.Name, Alias: fd.Name}
		sel := s.mergeAgain(q, f, ft, 1, newScope())
		for sel != nil {
			var dirs ast.DirectiveList
			var inner ast.SelectionSet
			switch x := sel.(type) {
			case *ast.InlineFragment:
				dirs, inner = x.Directives, x.SelectionSet
			case *ast.FragmentSpread:
				dirs = x.Directives
			}
			seen := map[string]bool{}
			for _, d := range dirs {
				if seen[d.Name] {
					t.Fatalf("seed %d: @%s twice on one fragment", seed, d.Name)
				}
				seen[d.Name] = true
			}
			if seen["skip"] && seen["include"] {
				both++
			}
			sel = nil
			if len(inner) == 1 {
				if _, ok := inner[0].(*ast.Field); !ok {
					sel = inner[0]
				}
			}
		}
	}
	if both < 40 {
		t.Errorf("%d fragments with both @skip and @include in 400, want 40 or more", both)
	}
}
