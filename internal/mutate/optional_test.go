package mutate_test

import (
	"os"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/fedgate/gateway/internal/mutate"
	"github.com/fedgate/gateway/internal/opgen"
	"github.com/fedgate/gateway/schema"
)

// TestOptionalVariableRewrite: a literal in a non-null argument or input
// object field that has a default moves, some of the time, to a nullable
// variable without a default (spec 5.8.5), sent the value, sent null or
// left out; an equivalent rewrite always sends the value. Every rewrite
// validates with the gateway's rules.
func TestOptionalVariableRewrite(t *testing.T) {
	b, err := os.ReadFile("../../testdata/compose/input_coercion/supergraph.graphql")
	if err != nil {
		t.Fatal(err)
	}
	sg, err := schema.Load(string(b))
	if err != nil {
		t.Fatal(err)
	}
	seeds := []opgen.Operation{{Query: `{ echo(strict: 3) }`}, {Query: `{ echo(filter: {inner: {depth: 2}}) }`}}
	g := mutate.New(sg.API, opgen.HintsFrom(sg), seeds, mutate.Options{Only: []string{"variable"}, MaxSteps: 1})
	for _, equivalent := range []bool{false, true} {
		seen := map[string]int{}
		for seed := uint64(0); seed < 300; seed++ {
			var op opgen.Operation
			if equivalent {
				_, op, err = g.Equivalent(seed)
			} else {
				op, err = g.Generate(seed)
			}
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			if err := mutate.Validate(sg.API, op); err != nil {
				t.Fatalf("seed %d: %v\n%s", seed, err, op.Query)
			}
			doc, perr := parser.ParseQuery(&ast.Source{Input: op.Query})
			if perr != nil {
				t.Fatal(perr)
			}
			for _, d := range doc.Operations[0].VariableDefinitions {
				// Both positions are non-null: a nullable variable
				// without a default there is the optional one.
				if d.Type.NonNull || d.DefaultValue != nil || d.Type.Elem != nil || d.Type.NamedType != "Int" {
					continue
				}
				v, sent := op.Variables[d.Variable]
				switch {
				case !sent:
					seen["left out"]++
				case v == nil:
					seen["null"]++
				default:
					seen["a value"]++
				}
			}
		}
		if equivalent {
			if seen["left out"]+seen["null"] > 0 || seen["a value"] < 5 {
				t.Errorf("equivalent rewrites: %v, want only values sent, 5 or more", seen)
			}
			continue
		}
		for _, k := range []string{"left out", "null", "a value"} {
			if seen[k] < 5 {
				t.Errorf("%d optional variables %s, want 5 or more (all: %v)", seen[k], k, seen)
			}
		}
	}
}
