package opgen_test

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/fedgate/gateway/internal/opgen"
)

// TestMergeConstructs: with Options.Merge the generator selects composite
// fields once more inside a fragment next to them (same response key,
// another sub-selection), conditional on variables, also at depth 4 and
// below and with both @skip and @include on the fragment, and runs an
// operation between others of its document: each at least three times as
// often as the random walk alone writes it.
func TestMergeConstructs(t *testing.T) {
	counts := map[bool]map[string]int{}
	for _, merge := range []bool{false, true} {
		seen := map[string]int{}
		counts[merge] = seen
		eachGenerated(t, opgen.Options{Mutations: true, Merge: merge}, 30, 300, func(g generatedOp) {
			if n := len(g.doc.Operations); n >= 3 {
				for i, o := range g.doc.Operations {
					if o.Name == g.op.OperationName && i > 0 && i < n-1 {
						seen["running operation between others"]++
					}
				}
			}
			for _, o := range g.doc.Operations {
				walk(o.SelectionSet, 1, nil, func(sel ast.Selection, depth int, _ *ast.Definition, _ int) {
					f, ok := sel.(*ast.Field)
					if !ok || len(f.SelectionSet) == 0 {
						return
					}
					for _, kind := range repeatedIn(o.SelectionSet, f) {
						seen[kind]++
						if depth >= 4 {
							seen[kind+" at depth 4+"]++
						}
					}
				})
			}
		})
	}
	t.Logf("without Merge: %v", counts[false])
	t.Logf("with Merge: %v", counts[true])
	// The random walk writes each now and then; Merge at least three
	// times as often.
	for _, k := range []string{
		"repeated in an inline fragment",
		"repeated in an inline fragment at depth 4+",
		"repeated in a named fragment at depth 4+",
		"repeated in nested inline fragments",
		"repeated in nested inline fragments at depth 4+",
		"repeated under @skip and @include",
		"repeated under @skip and @include at depth 4+",
		"running operation between others",
	} {
		if with, without := counts[true][k], counts[false][k]; with < 3*without || with < 50 {
			t.Errorf("%q: %d with Merge, %d without, want three times as many and 50 or more", k, with, without)
		}
	}
}

// repeatedIn finds the selection set of root holding f and describes each
// fragment of it that selects f's response key once more (a composite
// field of the same name and arguments).
func repeatedIn(root ast.SelectionSet, f *ast.Field) []string {
	var out []string
	var visit func(set ast.SelectionSet) bool
	visit = func(set ast.SelectionSet) bool {
		for _, sel := range set {
			if sel == ast.Selection(f) {
				for _, other := range set {
					out = append(out, repeatsOf(other, f, 0, false)...)
				}
				return true
			}
		}
		for _, sel := range set {
			switch x := sel.(type) {
			case *ast.Field:
				if visit(x.SelectionSet) {
					return true
				}
			case *ast.InlineFragment:
				if visit(x.SelectionSet) {
					return true
				}
			case *ast.FragmentSpread:
				if x.Definition != nil && visit(x.Definition.SelectionSet) {
					return true
				}
			}
		}
		return false
	}
	visit(root)
	return out
}

// repeatsOf describes sel when it is a fragment (nesting inline fragments
// deep) selecting f's key again with f's field and arguments.
func repeatsOf(sel ast.Selection, f *ast.Field, nesting int, named bool) []string {
	var set ast.SelectionSet
	var dirs ast.DirectiveList
	switch x := sel.(type) {
	case *ast.InlineFragment:
		set, dirs = x.SelectionSet, x.Directives
		nesting++
	case *ast.FragmentSpread:
		if x.Definition == nil {
			return nil
		}
		set, dirs, named = x.Definition.SelectionSet, x.Directives, true
	default:
		return nil
	}
	var out []string
	for _, inner := range set {
		if g, ok := inner.(*ast.Field); ok && g != f && g.Alias == f.Alias && g.Name == f.Name &&
			argsText(g.Arguments) == argsText(f.Arguments) && len(g.SelectionSet) > 0 {
			switch {
			case named:
				out = append(out, "repeated in a named fragment")
			case nesting > 1:
				out = append(out, "repeated in nested inline fragments")
			default:
				out = append(out, "repeated in an inline fragment")
			}
			if hasBoth(dirs) {
				out = append(out, "repeated under @skip and @include")
			}
			continue
		}
		out = append(out, repeatsOf(inner, f, nesting, named)...)
	}
	return out
}

func argsText(args ast.ArgumentList) string {
	var parts []string
	for _, a := range args {
		parts = append(parts, a.Name+":"+a.Value.String())
	}
	return strings.Join(parts, ",")
}

func hasBoth(dirs ast.DirectiveList) bool {
	return dirs.ForName("skip") != nil && dirs.ForName("include") != nil
}
