package opgen

import (
	"sort"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/fedgate/gateway/schema"
)

// HintsFrom reads the hints of a supergraph: per type, the top-level
// fields of its keys and of the @requires of its fields, and the types
// with a key.
func HintsFrom(sg *schema.Supergraph) Hints {
	h := Hints{AliasNames: map[string][]string{}, Entities: map[string]bool{}}
	for name, t := range sg.Types {
		names := map[string]bool{}
		for _, tg := range t.Graphs {
			for _, k := range tg.Keys {
				h.Entities[name] = true
				addTop(names, k.Selection)
			}
		}
		for _, f := range t.Fields {
			for _, fg := range f.Graphs {
				addTop(names, fg.Requires)
			}
		}
		for n := range names {
			h.AliasNames[name] = append(h.AliasNames[name], n)
		}
		sort.Strings(h.AliasNames[name])
	}
	return h
}

func addTop(names map[string]bool, set ast.SelectionSet) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			names[s.Name] = true
		case *ast.InlineFragment:
			addTop(names, s.SelectionSet)
		}
	}
}
