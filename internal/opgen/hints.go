package opgen

import (
	"sort"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/fedgate/gateway/schema"
)

// HintsFrom reads the hints of a supergraph: per type, the fields its keys
// and the @requires of its fields select, at every level (a nested key or
// @requires selection names fields of the nested type), the types with a
// key, the interfaces and unions an object type belongs to in only
// some of the subgraphs that define them, the interfaces some subgraph
// defines with @interfaceObject, and the types the API schema hides.
func HintsFrom(sg *schema.Supergraph) Hints {
	h := Hints{AliasNames: map[string][]string{}, Entities: map[string]bool{},
		Requires: map[string]map[string]ast.SelectionSet{}, Provides: map[string]map[string]ast.SelectionSet{},
		Partial: map[string]map[string]bool{}, InterfaceObjects: map[string]bool{}}
	names := map[string]map[string]bool{}
	for name, t := range sg.Types {
		for _, tg := range t.Graphs {
			for _, k := range tg.Keys {
				h.Entities[name] = true
				addNames(sg, names, name, k.Selection)
			}
		}
		for fname, f := range t.Fields {
			graphs := make([]string, 0, len(f.Graphs))
			for id := range f.Graphs {
				graphs = append(graphs, id)
			}
			// Sorted: the hints, so the operations, do not depend on map order.
			sort.Strings(graphs)
			for _, id := range graphs {
				fg := f.Graphs[id]
				addNames(sg, names, name, fg.Requires)
				addSet(h.Requires, name, fname, fg.Requires)
				addSet(h.Provides, name, fname, fg.Provides)
			}
		}
	}
	for name, t := range sg.Types {
		if t.Kind != ast.Interface && t.Kind != ast.Union {
			continue
		}
		for _, tg := range t.Graphs {
			if tg.InterfaceObject && sg.API.Types[name] != nil {
				h.InterfaceObjects[name] = true
			}
		}
		for _, obj := range sg.Full.PossibleTypes[name] {
			ot := sg.Types[obj.Name]
			if ot == nil {
				continue
			}
			in, out := false, false
			for _, tg := range t.Graphs {
				if tg.InterfaceObject {
					continue
				}
				if tg.Possible[obj.Name] {
					in = true
				} else {
					out = true
				}
			}
			if in && out {
				if h.Partial[name] == nil {
					h.Partial[name] = map[string]bool{}
				}
				h.Partial[name][obj.Name] = true
			}
		}
	}
	for name, def := range sg.Full.Types {
		if !def.BuiltIn && sg.API.Types[name] == nil {
			h.Hidden = append(h.Hidden, name)
		}
	}
	sort.Strings(h.Hidden)
	for typ, set := range names {
		for n := range set {
			h.AliasNames[typ] = append(h.AliasNames[typ], n)
		}
		sort.Strings(h.AliasNames[typ])
	}
	return h
}

// addSet records set for typ.field in into, the first one seen when
// several subgraphs have one.
func addSet(into map[string]map[string]ast.SelectionSet, typ, field string, set ast.SelectionSet) {
	if len(set) == 0 {
		return
	}
	if into[typ] == nil {
		into[typ] = map[string]ast.SelectionSet{}
	}
	if into[typ][field] == nil {
		into[typ][field] = set
	}
}

// addNames records the fields set selects on typ, and recurses into their
// sub-selections with the fields' types.
func addNames(sg *schema.Supergraph, into map[string]map[string]bool, typ string, set ast.SelectionSet) {
	def := sg.Full.Types[typ]
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if into[typ] == nil {
				into[typ] = map[string]bool{}
			}
			into[typ][s.Name] = true
			if def == nil || len(s.SelectionSet) == 0 {
				continue
			}
			if fd := def.Fields.ForName(s.Name); fd != nil {
				addNames(sg, into, fd.Type.Name(), s.SelectionSet)
			}
		case *ast.InlineFragment:
			cond := typ
			if s.TypeCondition != "" {
				cond = s.TypeCondition
			}
			addNames(sg, into, cond, s.SelectionSet)
		}
	}
}
