package validate

import "github.com/vektah/gqlparser/v2/ast"

// fieldsByKey groups the fields of set by response key, as CollectFields
// does: through inline fragments and fragment spreads, each named
// fragment once, keys in the order they are met; n counts the fields.
// fragment finds a spread's fragment (nil: not found). enters, when not
// nil, tells whether a selection is collected: a field or a spread by its
// directives (typeCondition empty), an inline fragment or a spread's
// fragment by its type condition and directives.
func fieldsByKey(set ast.SelectionSet, fragment func(name string) *ast.FragmentDefinition, enters func(typeCondition string, directives ast.DirectiveList) bool) (keys []string, fields map[string][]*ast.Field, n int) {
	fields = map[string][]*ast.Field{}
	if enters == nil {
		enters = func(string, ast.DirectiveList) bool { return true }
	}
	visited := map[string]bool{}
	var walk func(set ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if !enters("", s.Directives) {
					continue
				}
				k := s.Alias
				if k == "" {
					k = s.Name
				}
				if _, ok := fields[k]; !ok {
					keys = append(keys, k)
				}
				fields[k] = append(fields[k], s)
				n++
			case *ast.InlineFragment:
				if enters(s.TypeCondition, s.Directives) {
					walk(s.SelectionSet)
				}
			case *ast.FragmentSpread:
				if visited[s.Name] || !enters("", s.Directives) {
					continue
				}
				visited[s.Name] = true
				if f := fragment(s.Name); f != nil && enters(f.TypeCondition, nil) {
					walk(f.SelectionSet)
				}
			}
		}
	}
	walk(set)
	return keys, fields, n
}
