package opgen_test

import (
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/fedgate/gateway/internal/opgen"
)

// minSkipped is how often each shape of TestSkippedAndInterfaceObjectConstructs
// must occur.
const minSkipped = 25

// TestSkippedAndInterfaceObjectConstructs checks that operations, on the
// demo and the fixtures together, contain the shapes of skipped.go, each
// judged from the document and the variables sent (not from how the
// generator made it): an operation whose every root selection is left out
// by @skip/@include (data {}), a field whose every sub-selection is left
// out ({}), a fragment whose every selection is left out, each by literal
// conditions, by variables sent and by variables left to their defaults;
// and fragments on an interface some subgraph defines with
// @interfaceObject, at the interface's own position and at an object
// type's that implements it. Every operation and its variables validate.
//
// Each shape must occur at least minSkipped times: the random walk alone
// makes some of them, a handful of times in thousands of operations.
func TestSkippedAndInterfaceObjectConstructs(t *testing.T) {
	seen := map[string]int{}
	eachGenerated(t, opgen.Options{Mutations: true}, 40, 600, func(g generatedOp) {
		if err := opgen.Validate(g.sg.API, g.op); err != nil {
			t.Fatalf("%s seed %d: %v\n%s", g.name, g.seed, err, g.op.Query)
		}
		for _, o := range g.doc.Operations {
			if o.Name == g.op.OperationName || g.op.OperationName == "" {
				// The operation that runs: its variables are known.
				skippedConstructs(o, g.op.Variables, seen)
			}
			walk(o.SelectionSet, 0, g.sg.API.Types[rootName(g.sg.API, o)], func(sel ast.Selection, _ int, parent *ast.Definition, _ int) {
				cond := ""
				switch s := sel.(type) {
				case *ast.InlineFragment:
					cond = s.TypeCondition
				case *ast.FragmentSpread:
					if f := g.doc.Fragments.ForName(s.Name); f != nil {
						cond = f.TypeCondition
					}
				}
				if cond == "" || !g.hints.InterfaceObjects[cond] || parent == nil {
					return
				}
				switch {
				case parent.Kind == ast.Object:
					seen["fragment on an @interfaceObject interface at an object position"]++
				case parent.Name == cond:
					seen["fragment on an @interfaceObject interface at its own position"]++
				}
			})
		}
	})
	t.Logf("%v", seen)
	for _, want := range []string{
		"every root selection left out", "every selection of a field left out", "every selection of a fragment left out",
		"left out by a literal", "left out by a variable sent", "left out by a variable's default",
		"fragment on an @interfaceObject interface at an object position",
		"fragment on an @interfaceObject interface at its own position",
	} {
		if seen[want] < minSkipped {
			t.Errorf("%d operations have %s, want at least %d", seen[want], want, minSkipped)
		}
	}
}

// skippedConstructs notes the selection sets of o that @skip/@include
// leave empty with the variables vars, and how their conditions are
// given.
func skippedConstructs(o *ast.OperationDefinition, vars map[string]any, seen map[string]int) {
	// leftOut reports whether dirs leave their selection out, and notes
	// the kinds of condition that do.
	leftOut := func(dirs ast.DirectiveList) bool {
		out := false
		for _, name := range []string{"skip", "include"} {
			d := dirs.ForName(name)
			if d == nil {
				continue
			}
			v := d.Arguments.ForName("if").Value
			var value any
			kind := "left out by a literal"
			switch {
			case v.Kind == ast.BooleanValue:
				value = v.Raw == "true"
			case v.Kind == ast.Variable:
				if sent, ok := vars[v.Raw]; ok {
					value, kind = sent, "left out by a variable sent"
				} else if def := o.VariableDefinitions.ForName(v.Raw); def != nil && def.DefaultValue != nil {
					value, kind = def.DefaultValue.Raw == "true", "left out by a variable's default"
				}
			}
			b, ok := value.(bool)
			if ok && b == (name == "skip") {
				seen[kind]++
				out = true
			}
		}
		return out
	}
	everyLeftOut := func(set ast.SelectionSet) bool {
		for _, sel := range set {
			var dirs ast.DirectiveList
			switch s := sel.(type) {
			case *ast.Field:
				dirs = s.Directives
			case *ast.InlineFragment:
				dirs = s.Directives
			case *ast.FragmentSpread:
				dirs = s.Directives
			}
			if !leftOut(dirs) {
				return false
			}
		}
		return len(set) > 0
	}
	if everyLeftOut(o.SelectionSet) {
		seen["every root selection left out"]++
	}
	var visit func(set ast.SelectionSet)
	visit = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if everyLeftOut(s.SelectionSet) {
					seen["every selection of a field left out"]++
				}
				visit(s.SelectionSet)
			case *ast.InlineFragment:
				if everyLeftOut(s.SelectionSet) {
					seen["every selection of a fragment left out"]++
				}
				visit(s.SelectionSet)
			}
		}
	}
	visit(o.SelectionSet)
}
