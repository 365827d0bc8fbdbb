package opgen_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/fedgate/gateway/internal/opgen"
)

// TestWideConstructs: with Options.Wide, Int literals beyond 64 bits occur
// in Float, ID and custom scalar positions (also in variable defaults),
// judged from the validated document, never in an Int position, never in a
// variable's value, and ID variables beyond 2^53 (JSON numbers); without
// it, neither.
func TestWideConstructs(t *testing.T) {
	for _, wide := range []bool{false, true} {
		seen := map[string]int{}
		eachGenerated(t, opgen.Options{Mutations: true, Wide: wide}, 30, 300, func(g generatedOp) {
			count := func(v *ast.Value, where string) {
				eachValue(v, func(v *ast.Value) {
					if v.Kind != ast.IntValue || len(strings.TrimPrefix(v.Raw, "-")) < 20 {
						return
					}
					kind := "custom scalar"
					if v.ExpectedType != nil && v.ExpectedType.Name() != "" {
						switch n := v.ExpectedType.Name(); n {
						case "Float", "ID", "Int", "String", "Boolean":
							kind = n
						}
					}
					seen[kind]++
					seen[where]++
				})
			}
			for _, o := range g.doc.Operations {
				for _, d := range o.VariableDefinitions {
					count(d.DefaultValue, "variable default")
				}
				eachField(o.SelectionSet, func(f *ast.Field) {
					for _, a := range f.Arguments {
						count(a.Value, "argument")
					}
				})
			}
			for _, f := range g.doc.Fragments {
				eachField(f.SelectionSet, func(f *ast.Field) {
					for _, a := range f.Arguments {
						count(a.Value, "argument")
					}
				})
			}
			vars := toJSON(t, g.op.Variables)
			if strings.Contains(strings.ReplaceAll(vars, "e+", ""), "12345678901234567890") {
				t.Fatalf("%s seed %d: an integer beyond 64 bits in the variables %v", g.name, g.seed, g.op.Variables)
			}
			// An ID beyond 2^53, as a JSON number (never a string).
			if n := strings.Count(vars, ":12345678901234568") + strings.Count(vars, ",12345678901234568") + strings.Count(vars, "[12345678901234568"); n > 0 {
				seen["ID variable"] += n
			}
		})
		if !wide {
			if len(seen) > 0 {
				t.Fatalf("Wide off: %v", seen)
			}
			continue
		}
		// Custom scalar positions are rare in the fixtures (client_shapes'
		// JSON, scalars).
		for k, least := range map[string]int{"Float": 10, "ID": 10, "custom scalar": 5, "variable default": 10, "argument": 10, "ID variable": 10} {
			if seen[k] < least {
				t.Errorf("%d wide integers in %s positions, want %d or more (all: %v)", seen[k], k, least, seen)
			}
		}
		for _, k := range []string{"Int", "String", "Boolean"} {
			if seen[k] > 0 {
				t.Errorf("%d wide integers in %s positions", seen[k], k)
			}
		}
		t.Logf("wide integers: %v", seen)
	}
}

// eachValue calls fn with v and every value inside it.
func eachValue(v *ast.Value, fn func(*ast.Value)) {
	if v == nil {
		return
	}
	fn(v)
	for _, c := range v.Children {
		eachValue(c.Value, fn)
	}
}

// eachField calls fn with every field of set, inline fragments included
// (named fragments are walked from their definitions).
func eachField(set ast.SelectionSet, fn func(*ast.Field)) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			fn(s)
			eachField(s.SelectionSet, fn)
		case *ast.InlineFragment:
			eachField(s.SelectionSet, fn)
		}
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
