package limits

import (
	"fmt"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/core"
)

// FragmentCyclesRule is gqlparser's NoFragmentCycles rule, with the same
// errors in the same order, whose fragment lookups go through an index
// built once per document instead of a scan of its fragments per spread.
// gqlparser's rule scanned every fragment for each spread of a fragment
// that names an unknown or late-defined one: within the token limit,
// about 1,600 fragments spreading unknown ones (or the last one defined)
// cost 12-13 ms of validation per request, quadratic in their count.
// Replace the rule of that name with it (rules.Rules.ReplaceRule).
var FragmentCyclesRule = core.Rule{Name: "NoFragmentCycles", RuleFunc: func(observers *core.Events, addError core.AddErrFunc) {
	visited := map[string]bool{}
	var byName map[string]*ast.FragmentDefinition
	observers.OnFragment(func(walker *core.Walker, fragment *ast.FragmentDefinition) {
		if byName == nil {
			byName = make(map[string]*ast.FragmentDefinition, len(walker.Document.Fragments))
			for _, f := range walker.Document.Fragments {
				// The first of duplicate names, as ForName finds.
				if _, ok := byName[f.Name]; !ok {
					byName[f.Name] = f
				}
			}
		}
		var path []*ast.FragmentSpread
		onPath := map[string]int{}
		var visit func(fragment *ast.FragmentDefinition)
		visit = func(fragment *ast.FragmentDefinition) {
			if visited[fragment.Name] {
				return
			}
			visited[fragment.Name] = true
			spreads := spreadsOf(fragment.SelectionSet)
			if len(spreads) == 0 {
				return
			}
			onPath[fragment.Name] = len(path)
			for _, spread := range spreads {
				at, cycle := onPath[spread.Name]
				path = append(path, spread)
				if !cycle {
					if next := byName[spread.Name]; next != nil {
						visit(next)
					}
				} else {
					var via string
					if names := path[at : len(path)-1]; len(names) > 0 {
						quoted := make([]string, len(names))
						for i, s := range names {
							quoted[i] = `"` + s.Name + `"`
						}
						via = " via " + strings.Join(quoted, ", ")
					}
					// Located at every spread of the cycle, as graphql-js
					// does (validate.Locations moves each to its "...").
					opts := []core.ErrorOption{core.Message("%s", fmt.Sprintf(`Cannot spread fragment "%s" within itself%s.`, spread.Name, via))}
					for _, s := range path[at:] {
						opts = append(opts, core.At(s.Position))
					}
					addError(opts...)
				}
				path = path[:len(path)-1]
			}
			delete(onPath, fragment.Name)
		}
		visit(fragment)
	})
}}

// spreadsOf returns the fragment spreads of set and of the fields and
// inline fragments in it, in the order gqlparser's rule visits them
// (depth first, the last selection set found first).
func spreadsOf(set ast.SelectionSet) []*ast.FragmentSpread {
	var spreads []*ast.FragmentSpread
	stack := []ast.SelectionSet{set}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, sel := range top {
			switch sel := sel.(type) {
			case *ast.FragmentSpread:
				spreads = append(spreads, sel)
			case *ast.Field:
				stack = append(stack, sel.SelectionSet)
			case *ast.InlineFragment:
				stack = append(stack, sel.SelectionSet)
			}
		}
	}
	return spreads
}
