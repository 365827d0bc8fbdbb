package opgen_test

import (
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/fedgate/gateway/internal/opgen"
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
