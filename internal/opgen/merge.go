package opgen

import (
	"fmt"

	"github.com/vektah/gqlparser/v2/ast"
)

// Merge (Options.Merge, session 18) writes what a generator of another
// team sends more often than the random walk:
//
//   - A composite field selected once more, under the same response key
//     and with the same arguments, inside an inline fragment (without a
//     type condition, or on the position's own type) or a named fragment
//     spread next to it, with a sub-selection of its own: the two merge
//     (spec 6.3.2, CollectFields; 6.4.3, MergeSelectionSets). The fragment
//     is mostly conditional on a variable (@skip, @include or both), and
//     sometimes nested in a second inline fragment. As the repeated field's
//     sub-selection may repeat its own fields so, merges reach below entity
//     jumps, several levels deep.
//   - Documents of more operations, the running one between others.
//
// Off, none of these draws a random number, so a seed's operations stay
// those generated before Merge was added (TestSeedsPinned).

// mergeOdds is one in how many composite fields Merge repeats.
const mergeOdds = 4

// mergeAgain returns a selection that selects f (a composite field of t
// of type ft, whose sub-selection has the scope child) once more inside a
// fragment, with a sub-selection of its own; nil when the field budget is
// spent or f is a mutation's root field (run once per selection).
func (s *gen) mergeAgain(t *ast.Definition, f *ast.Field, ft *ast.Definition, depth int, child *scope) ast.Selection {
	if s.fields >= s.opts.MaxFields || (s.kind == ast.Mutation && depth == 1) {
		return nil
	}
	g := &ast.Field{Name: f.Name, Alias: f.Alias, Arguments: f.Arguments}
	s.fields++
	g.SelectionSet = s.selectionSet(ft, depth+1, child, 0)
	var dirs ast.DirectiveList
	switch s.r.IntN(4) {
	case 0: // unconditional
	case 1: // both directives on one fragment (each at most once: spec 5.7.3)
		s.conditionNamed(&dirs, "skip")
		s.conditionNamed(&dirs, "include")
	default:
		s.condition(&dirs)
	}
	var sel ast.Selection
	if s.r.IntN(4) == 0 {
		name := fmt.Sprintf("F%d", len(s.frags)+1)
		s.frags = append(s.frags, &ast.FragmentDefinition{Name: name, TypeCondition: t.Name, SelectionSet: ast.SelectionSet{g}})
		sel = &ast.FragmentSpread{Name: name, Directives: dirs}
	} else {
		cond := ""
		if s.r.IntN(2) == 0 {
			cond = t.Name
		}
		sel = &ast.InlineFragment{TypeCondition: cond, Directives: dirs, SelectionSet: ast.SelectionSet{g}}
	}
	if s.r.IntN(4) == 0 {
		outer := &ast.InlineFragment{SelectionSet: ast.SelectionSet{sel}}
		s.condition(&outer.Directives)
		sel = outer
	}
	return sel
}

// conditionNamed adds @skip or @include (name) with a variable condition.
func (s *gen) conditionNamed(list *ast.DirectiveList, name string) {
	*list = append(*list, &ast.Directive{Name: name, Arguments: ast.ArgumentList{{Name: "if", Value: s.boolVariable()}}})
}

// mergeOperations returns the operation count n grown by Merge (drawn
// only with it): sometimes two more, so that one runs between others.
func (g *Generator) mergeOperations(r randIntN, n int) int {
	if g.opts.Merge && r.IntN(3) == 0 {
		n += 2
	}
	return n
}

// mergePick returns the index of the operation to run among n: with
// Merge, half the time one that is neither the first nor the last.
func (g *Generator) mergePick(r randIntN, n, pick int) int {
	if g.opts.Merge && n >= 3 && r.IntN(2) == 0 {
		return 1 + r.IntN(n-2)
	}
	return pick
}

// randIntN is the part of *rand.Rand the generator draws with.
type randIntN interface{ IntN(int) int }
