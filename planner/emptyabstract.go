package planner

// Selections below an abstract type that no object type implements.
//
// An interface without implementations in the supergraph (an entity
// interface whose only other declaration is an @interfaceObject) has no
// possible type, so no object ever reaches a field selected there:
// CollectFields never runs for any runtime type (spec 6.3.2), and the
// position can only be null or an error of the subgraph that answers it.
// A field there that the subgraph holding the position cannot get, by
// itself or through a jump (an @interfaceObject field behind a key
// declared resolvable: false), is left out of the plan; the position
// keeps the __typename every abstract selection asks, so its subgraph
// still answers it. Apollo Gateway and Hive Gateway plan it so.
//
// One case still fails to plan: a root field whose selection has nothing
// its subgraph can get, not even a field @skip or @include left out (the
// references keep those in their plans and decide them while executing).
// There the references disagree (Apollo Gateway answers null without
// asking; Hive Gateway has no request to send and answers data: null),
// and the federation gateway audit expects data: null with an error.

import (
	"github.com/vektah/gqlparser/v2/ast"
)

// unimplemented reports whether sel is at an abstract type with no
// possible object type: normalization then collects its fields on the
// abstract type itself.
func (b *builder) unimplemented(sel *SelectionSet) bool {
	if !sel.Abstract || len(sel.ByType) != 1 || sel.ByType[0].Type != sel.Type {
		return false
	}
	return len(objectTypes(b.sg.Full, sel.Type)) == 0
}

// askable returns the fields of tf (an entry of sel) that graph is asked
// for: all of them, except at an unimplemented abstract position, where
// only those graph can get at some cost are asked.
func (b *builder) askable(sc costScope, graph string, sel *SelectionSet, tf *TypeFields, prov *provided, depth int) []*Field {
	if !b.unimplemented(sel) {
		return tf.Fields
	}
	var kept []*Field
	one := make([]*Field, 1)
	for _, f := range tf.Fields {
		one[0] = f
		if f.Name == "__typename" || b.costFields(sc, graph, tf.Type, one, prov, depth) < inf {
			kept = append(kept, f)
		}
	}
	if len(kept) == 0 && b.rootSelection(sel) && !b.anyResolvable(graph, tf.Type, sel.conditional, prov) {
		// Nothing to ask below a root field: it does not plan.
		return tf.Fields
	}
	return kept
}

// rootSelection reports whether sel is the selection of a root field.
func (b *builder) rootSelection(sel *SelectionSet) bool {
	for _, f := range b.op.Selection.FieldsFor(b.op.RootType) {
		if f.Selection == sel {
			return true
		}
	}
	return false
}

// anyResolvable reports whether graph resolves one of the fields names of
// typ.
func (b *builder) anyResolvable(graph, typ string, names []string, prov *provided) bool {
	for _, name := range names {
		if name == "__typename" || b.resolvable(graph, typ, name, prov) {
			return true
		}
	}
	return false
}

// leftOut appends to names the fields of set (through its fragments) that
// @skip or @include leave out, or all of them when out is true.
func (n *normalizer) leftOut(set ast.SelectionSet, out bool, names []string, visited map[string]bool) []string {
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			if out || !n.included(s.Directives, new(bool)) {
				names = append(names, s.Name)
			}
		case *ast.InlineFragment:
			names = n.leftOut(s.SelectionSet, out || !n.included(s.Directives, new(bool)), names, visited)
		case *ast.FragmentSpread:
			skip := out || !n.included(s.Directives, new(bool))
			// Each fragment is walked at most once left out and once not.
			seen := s.Name
			if skip {
				seen += "\x00out"
			}
			if visited[seen] {
				continue
			}
			visited[seen] = true
			if frag := n.fragments.ForName(s.Name); frag != nil {
				names = n.leftOut(frag.SelectionSet, skip, names, visited)
			}
		}
	}
	return names
}
