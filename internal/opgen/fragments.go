package opgen

import "github.com/vektah/gqlparser/v2/ast"

// UsedFragments returns the fragment definitions of doc that set spreads,
// directly or through other fragments, in document order.
func UsedFragments(doc *ast.QueryDocument, set ast.SelectionSet) ast.FragmentDefinitionList {
	used := map[string]bool{}
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if used[s.Name] {
					continue
				}
				used[s.Name] = true
				if f := doc.Fragments.ForName(s.Name); f != nil {
					walk(f.SelectionSet)
				}
			}
		}
	}
	walk(set)
	var out ast.FragmentDefinitionList
	for _, f := range doc.Fragments {
		if used[f.Name] {
			out = append(out, f)
		}
	}
	return out
}
