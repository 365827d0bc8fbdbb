package opgen_test

import (
	"os"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/fedgate/gateway/internal/opgen"
	"github.com/fedgate/gateway/schema"
)

// TestOptionalConstructs: with Options.Optional, nullable variables
// without a default stand in non-null arguments and input object fields
// that have a default (spec 5.8.5), left out of the request, sent null
// and sent a value; every such document validates (eachGenerated loads it
// with the gateway's rules); without the option, none occur.
func TestOptionalConstructs(t *testing.T) {
	for _, optional := range []bool{false, true} {
		seen := map[string]int{}
		eachGenerated(t, opgen.Options{Mutations: true, Optional: optional}, 60, 300, func(g generatedOp) {
			op := g.doc.Operations.ForName(g.op.OperationName)
			if op == nil {
				op = g.doc.Operations[0]
			}
			var count func(v *ast.Value, where string)
			count = func(v *ast.Value, where string) {
				if v == nil {
					return
				}
				if v.Kind == ast.Variable && v.ExpectedType != nil && v.ExpectedType.NonNull {
					if d := op.VariableDefinitions.ForName(v.Raw); d != nil && !d.Type.NonNull && d.DefaultValue == nil {
						sent, ok := g.op.Variables[v.Raw]
						switch {
						case !ok:
							seen["left out"]++
						case sent == nil:
							seen["null"]++
						default:
							seen["a value"]++
						}
						seen[where]++
					}
				}
				for _, c := range v.Children {
					count(c.Value, "input field")
				}
			}
			eachField(op.SelectionSet, func(f *ast.Field) {
				for _, a := range f.Arguments {
					count(a.Value, "argument")
				}
			})
		})
		if !optional {
			if len(seen) > 0 {
				t.Fatalf("Optional off: %v", seen)
			}
			continue
		}
		// Non-null positions with defaults are few in the fixtures
		// (input_coercion, requires_args), input object fields fewest.
		for k, least := range map[string]int{"left out": 5, "null": 5, "a value": 5, "argument": 5, "input field": 3} {
			if seen[k] < least {
				t.Errorf("%d optional variables %s, want %d or more (all: %v)", seen[k], k, least, seen)
			}
		}
		t.Logf("optional variables: %v", seen)
	}
}

// TestAliasBudgetFallback: a seed whose every attempt spreads more aliases
// than MaxExpandedAliases (big bounds on requires_chain, difftest seed
// 16014, operation 3) gets an operation with a smaller alias budget, within
// the bound, the same one every time; a seed that gave an operation within
// the first budget keeps it.
func TestAliasBudgetFallback(t *testing.T) {
	b, err := os.ReadFile("../../testdata/compose/requires_chain/supergraph.graphql")
	if err != nil {
		t.Fatal(err)
	}
	sg, err := schema.Load(string(b))
	if err != nil {
		t.Fatal(err)
	}
	big := opgen.Options{MaxDepth: 8, MaxSelections: 6, MaxFields: 100, MaxOperations: 5, MaxAliases: 20, Defer: true}
	g := opgen.New(sg.API, opgen.HintsFrom(sg), big)
	const seed = 268670337027
	op, err := g.Generate(seed)
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	if n := opgen.ExpandedAliases(op.Query); n > opgen.MaxExpandedAliases {
		t.Errorf("seed %d: %d aliases with fragments expanded, want at most %d", seed, n, opgen.MaxExpandedAliases)
	}
	if again, _ := g.Generate(seed); again.Query != op.Query {
		t.Errorf("seed %d gives another operation the second time", seed)
	}
	// Rejected lists what the first budget threw away: every attempt.
	if n := len(g.Rejected(seed)); n != 50 {
		t.Errorf("seed %d: %d attempts thrown away with the first budget, want all 50", seed, n)
	}
}
