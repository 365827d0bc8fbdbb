package opgen_test

import (
	"slices"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/fedgate/gateway/internal/opgen"
)

// TestShapesConstructs: with Options.Shapes the generator writes the
// shapes of shapes.go, each judged from the document (eachGenerated
// validates every one with the gateway's rules): a fragment using
// variables spread by two operations or more, each declaring them (the
// running one among them, sent its own values); variable conditions on key
// fields and @requires inputs, on fields leading to an entity and on
// __typename; one field under three or more response keys in one
// selection set; inline fragments nested so that the inner one's type
// condition overlaps the outer one's but not the enclosing field's type.
// Without Shapes no fragment with variables is shared by
// operations (the generator spread one only in the operation that made it).
func TestShapesConstructs(t *testing.T) {
	for _, shapes := range []bool{false, true} {
		seen := map[string]int{}
		eachGenerated(t, opgen.Options{Mutations: true, Shapes: shapes}, 40, 300, func(g generatedOp) {
			if len(g.doc.Operations) > 1 {
				for _, f := range g.doc.Fragments {
					if !usesVariables(g.doc, f.SelectionSet, map[string]bool{}) {
						continue
					}
					var users []*ast.OperationDefinition
					for _, o := range g.doc.Operations {
						for _, u := range opgen.UsedFragments(g.doc, o.SelectionSet) {
							if u.Name == f.Name {
								users = append(users, o)
							}
						}
					}
					if len(users) < 2 {
						continue
					}
					seen["fragment with variables in several operations"]++
					for _, o := range users[1:] {
						if o.Name == g.op.OperationName {
							seen["... the running operation not its first user"]++
						}
					}
				}
			}
			for _, o := range g.doc.Operations {
				walk(o.SelectionSet, 1, nil, func(sel ast.Selection, _ int, parent *ast.Definition, _ int) {
					f, ok := sel.(*ast.Field)
					if !ok || parent == nil || !variableCondition(f.Directives) {
						return
					}
					switch {
					case f.Name == "__typename":
						seen["variable condition on __typename"]++
					case slices.Contains(g.hints.AliasNames[parent.Name], f.Name):
						seen["variable condition on a key or @requires input"]++
					case f.Definition != nil && g.hints.Entities[f.Definition.Type.Name()]:
						seen["variable condition on an entity-crossing field"]++
					}
				})
				var keys func(set ast.SelectionSet)
				keys = func(set ast.SelectionSet) {
					byName := map[string]map[string]bool{}
					for _, sel := range set {
						f, ok := sel.(*ast.Field)
						if !ok {
							continue
						}
						keys(f.SelectionSet)
						if len(f.Arguments) == 0 && (f.Definition == nil || len(f.Definition.Arguments) == 0) {
							continue
						}
						if byName[f.Name] == nil {
							byName[f.Name] = map[string]bool{}
						}
						byName[f.Name][f.Alias] = true
					}
					for _, ks := range byName {
						if len(ks) >= 3 {
							seen["one field under three keys or more"]++
						}
					}
				}
				keys(o.SelectionSet)
				seen["fragment that narrows to nothing"] += neverApplies(g.sg.API, o.SelectionSet, nil)
			}
		})
		if !shapes {
			if n := seen["fragment with variables in several operations"]; n > 0 {
				t.Fatalf("Shapes off: %d fragments with variables shared by operations", n)
			}
			t.Logf("without Shapes: %v", seen)
			continue
		}
		for k, least := range map[string]int{
			"fragment with variables in several operations":  30,
			"... the running operation not its first user":   10,
			"variable condition on __typename":               30,
			"variable condition on a key or @requires input": 30,
			"variable condition on an entity-crossing field": 30,
			"one field under three keys or more":             30,
			"fragment that narrows to nothing":               30,
		} {
			if seen[k] < least {
				t.Errorf("%d of %q, want %d or more (all: %v)", seen[k], k, least, seen)
			}
		}
		t.Logf("shapes: %v", seen)
	}
}

// usesVariables reports whether set uses a variable, through the
// fragments it spreads too.
func usesVariables(doc *ast.QueryDocument, set ast.SelectionSet, spread map[string]bool) bool {
	var value func(v *ast.Value) bool
	value = func(v *ast.Value) bool {
		if v == nil {
			return false
		}
		if v.Kind == ast.Variable {
			return true
		}
		for _, c := range v.Children {
			if value(c.Value) {
				return true
			}
		}
		return false
	}
	dirs := func(list ast.DirectiveList) bool {
		for _, d := range list {
			for _, a := range d.Arguments {
				if value(a.Value) {
					return true
				}
			}
		}
		return false
	}
	for _, sel := range set {
		switch x := sel.(type) {
		case *ast.Field:
			for _, a := range x.Arguments {
				if value(a.Value) {
					return true
				}
			}
			if dirs(x.Directives) || usesVariables(doc, x.SelectionSet, spread) {
				return true
			}
		case *ast.InlineFragment:
			if dirs(x.Directives) || usesVariables(doc, x.SelectionSet, spread) {
				return true
			}
		case *ast.FragmentSpread:
			if dirs(x.Directives) {
				return true
			}
			if f := doc.Fragments.ForName(x.Name); f != nil && !spread[x.Name] {
				spread[x.Name] = true
				if usesVariables(doc, f.SelectionSet, spread) {
					return true
				}
			}
		}
	}
	return false
}

// neverApplies counts the inline fragments under set whose type condition
// no object of the position can satisfy: possible holds the object types
// the position's objects may be (nil at an operation's root: any).
func neverApplies(schema *ast.Schema, set ast.SelectionSet, possible map[string]bool) int {
	n := 0
	for _, sel := range set {
		switch x := sel.(type) {
		case *ast.Field:
			if x.Definition == nil || len(x.SelectionSet) == 0 {
				continue
			}
			own := map[string]bool{}
			for _, p := range schema.GetPossibleTypes(schema.Types[x.Definition.Type.Name()]) {
				own[p.Name] = true
			}
			n += neverApplies(schema, x.SelectionSet, own)
		case *ast.InlineFragment:
			if x.TypeCondition == "" {
				n += neverApplies(schema, x.SelectionSet, possible)
				continue
			}
			narrowed := map[string]bool{}
			for _, p := range schema.GetPossibleTypes(schema.Types[x.TypeCondition]) {
				if possible == nil || possible[p.Name] {
					narrowed[p.Name] = true
				}
			}
			if len(narrowed) == 0 {
				n++
				continue
			}
			n += neverApplies(schema, x.SelectionSet, narrowed)
		}
	}
	return n
}
