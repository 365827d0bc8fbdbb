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
// declared resolvable: false), need not be planned while the selection
// has another field to ask that subgraph; when it has none, planning
// fails as for any field no subgraph resolves.

// unimplemented reports whether sel is at an abstract type with no
// possible object type: normalization then collects its fields on the
// abstract type itself.
func (b *builder) unimplemented(sel *SelectionSet) bool {
	if !sel.Abstract || len(sel.ByType) != 1 || sel.ByType[0].Type != sel.Type {
		return false
	}
	return len(b.sg.Full.PossibleTypes[sel.Type]) == 0
}

// askable returns the fields of tf (an entry of sel) that graph is asked
// for: all of them, except at an unimplemented abstract position, where
// the fields graph cannot get at any cost are left out unless no other
// field is left.
func (b *builder) askable(graph string, sel *SelectionSet, tf *TypeFields, prov *provided, depth int) []*Field {
	if !b.unimplemented(sel) {
		return tf.Fields
	}
	var kept []*Field
	one := make([]*Field, 1)
	for _, f := range tf.Fields {
		one[0] = f
		if f.Name == "__typename" || b.costFields(graph, tf.Type, one, prov, depth) < inf {
			kept = append(kept, f)
		}
	}
	if len(kept) == 0 {
		return tf.Fields
	}
	return kept
}
