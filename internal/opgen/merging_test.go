package opgen_test

import (
	"slices"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/fedgate/gateway/internal/opgen"
)

// TestExclusiveAndIntrospectionConstructs checks that operations, on the
// demo and the fixtures together, contain what the constructs of
// TestClientConstructs left out: one response key for composite fields
// that differ (another field or other arguments) in fragments on
// different object types, which validation allows because no object is
// of both types (spec 5.3.2); introspection selections written as clients
// write data selections (aliases, a field twice, __typename, @skip/@include,
// inline and named fragments on introspection types), also inside a
// fragment on the query type; __type(name:) naming a type of the
// supergraph the API schema hides; a non-null variable in a nullable position;
// and two operations of one document that declare a variable of one name
// with different types.
func TestExclusiveAndIntrospectionConstructs(t *testing.T) {
	seen := map[string]bool{}
	eachGenerated(t, opgen.Options{Mutations: true}, 40, 600, func(g generatedOp) {
		declared := map[string]string{}
		for _, o := range g.doc.Operations {
			exclusiveConstructs(o.SelectionSet, seen)
			introspectionConstructs(o.SelectionSet, false, false, seen)
			for _, d := range o.VariableDefinitions {
				if typ, ok := declared[d.Variable]; ok && typ != d.Type.String() {
					seen["one variable name with two types in two operations"] = true
				}
				declared[d.Variable] = d.Type.String()
			}
			nonNullInNullable(o.SelectionSet, o.VariableDefinitions, seen)
			hiddenType(o.SelectionSet, g.hints.Hidden, seen)
		}
	})
	for _, want := range []string{
		"one key for different composite fields on two object types",
		"alias in introspection", "aliased __schema", "a field twice in introspection", "__typename in introspection",
		"inline fragment in introspection", "named fragment in introspection",
		"@skip/@include in introspection", "introspection inside a fragment on the query type",
		"non-null variable in a nullable position",
		"one variable name with two types in two operations",
		"__type(name:) of a type the API schema hides",
	} {
		if !seen[want] {
			t.Errorf("the operations have no %s", want)
		}
	}
}

// exclusiveConstructs notes a response key of one level (fragments
// expanded) held by composite fields with different names or arguments
// selected on different object types.
func exclusiveConstructs(set ast.SelectionSet, seen map[string]bool) {
	type occurrence struct {
		parent, text string
	}
	level := map[string][]occurrence{}
	var collect func(set ast.SelectionSet, depth int)
	collect = func(set ast.SelectionSet, depth int) {
		if depth > 8 {
			return
		}
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if len(s.SelectionSet) == 0 || s.ObjectDefinition == nil || s.ObjectDefinition.Kind != ast.Object {
					continue
				}
				text := s.Name
				for _, a := range s.Arguments {
					text += "(" + a.Name + ":" + a.Value.String() + ")"
				}
				level[s.Alias] = append(level[s.Alias], occurrence{s.ObjectDefinition.Name, text})
			case *ast.InlineFragment:
				collect(s.SelectionSet, depth+1)
			case *ast.FragmentSpread:
				collect(s.Definition.SelectionSet, depth+1)
			}
		}
	}
	collect(set, 0)
	for _, occ := range level {
		for _, a := range occ {
			for _, b := range occ {
				if a.parent != b.parent && a.text != b.text {
					seen["one key for different composite fields on two object types"] = true
				}
			}
		}
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			exclusiveConstructs(s.SelectionSet, seen)
		case *ast.InlineFragment:
			exclusiveConstructs(s.SelectionSet, seen)
		case *ast.FragmentSpread:
			exclusiveConstructs(s.Definition.SelectionSet, seen)
		}
	}
}

// introspectionConstructs notes the client shapes inside __schema and
// __type selections; in says set is inside one, inFragment that set is
// inside a fragment on the query type.
func introspectionConstructs(set ast.SelectionSet, in, inFragment bool, seen map[string]bool) {
	names := map[string]int{}
	for _, sel := range set {
		var dirs ast.DirectiveList
		switch s := sel.(type) {
		case *ast.Field:
			dirs = s.Directives
			inside := in || s.Name == "__schema" || s.Name == "__type"
			if !in && inside && inFragment {
				seen["introspection inside a fragment on the query type"] = true
			}
			if !in && s.Name == "__schema" && s.Alias != s.Name {
				seen["aliased __schema"] = true
			}
			if in {
				names[s.Name]++
				if s.Alias != s.Name {
					seen["alias in introspection"] = true
				}
				if s.Name == "__typename" {
					seen["__typename in introspection"] = true
				}
			}
			if inside {
				introspectionConstructs(s.SelectionSet, true, false, seen)
			}
		case *ast.InlineFragment:
			dirs = s.Directives
			if in {
				seen["inline fragment in introspection"] = true
			}
			introspectionConstructs(s.SelectionSet, in, !in, seen)
		case *ast.FragmentSpread:
			dirs = s.Directives
			if in {
				seen["named fragment in introspection"] = true
			}
			introspectionConstructs(s.Definition.SelectionSet, in, !in, seen)
		}
		for _, d := range dirs {
			if in && (d.Name == "skip" || d.Name == "include") {
				seen["@skip/@include in introspection"] = true
			}
		}
	}
	for _, n := range names {
		if n > 1 {
			seen["a field twice in introspection"] = true
		}
	}
}

// nonNullInNullable notes a non-null variable passed as a field argument
// of a nullable type.
func nonNullInNullable(set ast.SelectionSet, defs ast.VariableDefinitionList, seen map[string]bool) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Definition != nil {
				for _, a := range s.Arguments {
					ad := s.Definition.Arguments.ForName(a.Name)
					if ad == nil || a.Value.Kind != ast.Variable || ad.Type.NonNull {
						continue
					}
					if d := defs.ForName(a.Value.Raw); d != nil && d.Type.NonNull {
						seen["non-null variable in a nullable position"] = true
					}
				}
			}
			nonNullInNullable(s.SelectionSet, defs, seen)
		case *ast.InlineFragment:
			nonNullInNullable(s.SelectionSet, defs, seen)
		case *ast.FragmentSpread:
			nonNullInNullable(s.Definition.SelectionSet, defs, seen)
		}
	}
}

// hiddenType notes __type(name:) with a literal name in hidden, at the
// root or in fragments on the query type.
func hiddenType(set ast.SelectionSet, hidden []string, seen map[string]bool) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name != "__type" {
				continue
			}
			if a := s.Arguments.ForName("name"); a != nil && a.Value.Kind == ast.StringValue && slices.Contains(hidden, a.Value.Raw) {
				seen["__type(name:) of a type the API schema hides"] = true
			}
		case *ast.InlineFragment:
			hiddenType(s.SelectionSet, hidden, seen)
		case *ast.FragmentSpread:
			hiddenType(s.Definition.SelectionSet, hidden, seen)
		}
	}
}
