package opgen_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/fedgate/gateway/internal/opgen"
)

// TestDeferConstructs checks that with Options.Defer the operations on the
// demo and the fixtures validate and contain the @defer shapes clients
// send: labels (unique in a document), if: as a literal and as a variable
// sent true, false, null or not at all, on inline fragments without a type
// condition, at the root, nested in another @defer, in a named fragment
// spread at several places, under an abstract type; and none in a
// mutation.
func TestDeferConstructs(t *testing.T) {
	seen := map[string]bool{}
	eachGenerated(t, opgen.Options{Mutations: true, Defer: true}, 40, 400, func(g generatedOp) {
		labels := map[string]bool{}
		spreads := map[string]int{}
		for _, o := range g.doc.Operations {
			deferConstructs(g.sg.API, o, g.vars(o), labels, spreads, seen, func(msg string) {
				t.Fatalf("%s seed %d: %s\n%s", g.name, g.seed, msg, g.op.Query)
			})
		}
		for l := range labels {
			if n := strings.Count(g.op.Query, `label: "`+l+`"`); n != 1 {
				t.Fatalf("%s seed %d: label %s written %d times\n%s", g.name, g.seed, l, n, g.op.Query)
			}
		}
		for _, f := range g.doc.Fragments {
			if spreads[f.Name] > 1 && strings.Contains(printed(f.SelectionSet), "@defer") {
				seen["@defer in a named fragment spread twice"] = true
			}
		}
	})
	for _, want := range []string{
		"@defer", "@defer with a label", "@defer(if: false)", "@defer(if: true)",
		"@defer(if: $var) sent true", "@defer(if: $var) sent false", "@defer(if: $var) sent null",
		"@defer(if: $var) not sent", "@defer on an inline fragment without a type condition",
		"@defer on a fragment spread", "@defer at the root", "@defer inside @defer",
		"@defer under an abstract type", "@defer in a named fragment spread twice",
	} {
		if !seen[want] {
			t.Errorf("the operations have no %s", want)
		}
	}
}

func printed(set ast.SelectionSet) string {
	return opgen.Print(&ast.QueryDocument{Fragments: ast.FragmentDefinitionList{{Name: "X", TypeCondition: "T", SelectionSet: set}}})
}

// deferConstructs notes in seen the @defer shapes of o; labels and spreads
// gather the document's labels and spread counts; fail reports an
// operation the generator must not make.
func deferConstructs(api *ast.Schema, o *ast.OperationDefinition, vars map[string]any, labels map[string]bool, spreads map[string]int, seen map[string]bool, fail func(string)) {
	var visit func(set ast.SelectionSet, parent *ast.Definition, depth, deferred int, inFragment map[string]bool)
	visit = func(set ast.SelectionSet, parent *ast.Definition, depth, deferred int, inFragment map[string]bool) {
		for _, sel := range set {
			var dirs ast.DirectiveList
			var inner ast.SelectionSet
			next := parent
			switch s := sel.(type) {
			case *ast.Field:
				if s.Definition != nil {
					visit(s.SelectionSet, api.Types[s.Definition.Type.Name()], depth+1, deferred, inFragment)
				}
				continue
			case *ast.InlineFragment:
				dirs, inner = s.Directives, s.SelectionSet
				if s.TypeCondition != "" {
					next = api.Types[s.TypeCondition]
				} else if dirs.ForName("defer") != nil {
					seen["@defer on an inline fragment without a type condition"] = true
				}
			case *ast.FragmentSpread:
				dirs, inner = s.Directives, s.Definition.SelectionSet
				next = api.Types[s.Definition.TypeCondition]
				spreads[s.Name]++
				if dirs.ForName("defer") != nil {
					seen["@defer on a fragment spread"] = true
				}
				if inFragment[s.Name] {
					continue
				}
				inFragment = cloneWith(inFragment, s.Name)
			}
			d := dirs.ForName("defer")
			if d == nil {
				visit(inner, next, depth, deferred, inFragment)
				continue
			}
			if o.Operation != ast.Query {
				fail("@defer in a " + string(o.Operation))
			}
			seen["@defer"] = true
			if depth == 0 {
				seen["@defer at the root"] = true
			}
			if deferred > 0 {
				seen["@defer inside @defer"] = true
			}
			if parent != nil && parent.IsAbstractType() {
				seen["@defer under an abstract type"] = true
			}
			if l := d.Arguments.ForName("label"); l != nil {
				seen["@defer with a label"] = true
				labels[l.Value.Raw] = true
			}
			if a := d.Arguments.ForName("if"); a != nil {
				switch a.Value.Kind {
				case ast.BooleanValue:
					seen["@defer(if: "+a.Value.Raw+")"] = true
				case ast.Variable:
					if vars != nil {
						switch v, ok := vars[a.Value.Raw]; {
						case !ok:
							seen["@defer(if: $var) not sent"] = true
						case v == nil:
							seen["@defer(if: $var) sent null"] = true
						case v == true:
							seen["@defer(if: $var) sent true"] = true
						case v == false:
							seen["@defer(if: $var) sent false"] = true
						}
					}
				}
			}
			visit(inner, next, depth, deferred+1, inFragment)
		}
	}
	visit(o.SelectionSet, api.Types[rootName(api, o)], 0, 0, map[string]bool{})
}

func cloneWith(m map[string]bool, name string) map[string]bool {
	out := make(map[string]bool, len(m)+1)
	for k := range m {
		out[k] = true
	}
	out[name] = true
	return out
}

// TestDeferOffLeavesOperationsAlone: without Options.Defer no operation has
// @defer; with it, a seed still gives one operation, and some change.
func TestDeferOffLeavesOperationsAlone(t *testing.T) {
	for name, sg := range supergraphs(t) {
		off := opgen.New(sg.API, opgen.HintsFrom(sg), opgen.Options{Mutations: true})
		on := opgen.New(sg.API, opgen.HintsFrom(sg), opgen.Options{Mutations: true, Defer: true})
		differ := 0
		for seed := uint64(0); seed < 20; seed++ {
			a, err := off.Generate(seed)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(a.Query, "@defer") {
				t.Fatalf("%s seed %d: @defer without Options.Defer:\n%s", name, seed, a.Query)
			}
			b, err := on.Generate(seed)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := on.Generate(seed)
			if !reflect.DeepEqual(b, again) {
				t.Fatalf("%s seed %d: two runs with Defer differ", name, seed)
			}
			if a.Query != b.Query {
				differ++
			}
		}
		if differ == 0 && name == "demo" {
			t.Errorf("%s: Options.Defer changed none of 20 operations", name)
		}
	}
}
