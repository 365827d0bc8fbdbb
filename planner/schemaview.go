package planner

import (
	"strings"

	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// Lookups in the supergraph that routing asks: which subgraph resolves a
// field (with @external, @override and labels), keys, possible types.

// fieldIn returns the @join__field of typ.field in graph, or nil.
func (b *builder) fieldIn(graph, typ, field string) *schema.FieldInGraph {
	t := b.sg.Types[typ]
	if t == nil {
		return nil
	}
	f := t.Fields[field]
	if f == nil || f.Graphs == nil {
		return nil
	}
	return f.Graphs[graph]
}

// resolvable reports whether graph can resolve typ.field at a position
// where prov lists what the parent field @provides.
func (b *builder) resolvable(graph, typ, field string, prov *provided) bool {
	if field == "__typename" {
		return true
	}
	t := b.sg.Types[typ]
	if t == nil {
		return false
	}
	tg := t.Graphs[graph]
	if tg == nil {
		return false
	}
	f := t.Fields[field]
	if f == nil {
		return false
	}
	if f.Graphs == nil {
		return true
	}
	fg := f.Graphs[graph]
	if fg == nil {
		return false
	}
	if fg.External {
		// An external field comes back only where something put it in
		// reach: a @provides, or the representation of an entity fetch
		// (whose key fields the entity root's prov holds).
		return prov.has(field)
	}
	if fg.UsedOverridden {
		return false
	}
	if fg.OverrideLabel != "" {
		active := b.opts.Labels[fg.OverrideLabel]
		if fg.Override != "" {
			return active
		}
		return !active
	}
	return true
}

// keysIn lists whether typ has a resolvable key in graph.
func (b *builder) keysIn(graph, typ string) []*schema.Key {
	t := b.sg.Types[typ]
	if t == nil {
		return nil
	}
	tg := t.Graphs[graph]
	if tg == nil {
		return nil
	}
	var keys []*schema.Key
	for _, k := range tg.Keys {
		if k.Resolvable {
			keys = append(keys, k)
		}
	}
	return keys
}

// subgraphType is the named type of typ.f in graph, which @join__field
// (type:) may give as narrower than the supergraph's.
func (b *builder) subgraphType(graph, typ string, f *Field) string {
	if fg := b.fieldIn(graph, typ, f.Name); fg != nil && fg.Type != "" {
		return strings.Trim(fg.Type, "[]!")
	}
	if f.Selection != nil {
		return f.Selection.Type
	}
	return f.Type.Name()
}

// isInterfaceObject reports whether graph declares typ with
// @interfaceObject: it sees the interface as an object type and answers
// __typename with the interface name.
func (b *builder) isInterfaceObject(graph, typ string) bool {
	t := b.sg.Types[typ]
	if t == nil {
		return false
	}
	tg := t.Graphs[graph]
	return tg != nil && tg.InterfaceObject
}

// possibleIn reports whether graph may return objects of concrete type at
// a position of the static type.
func (b *builder) possibleIn(graph, static, concrete string) bool {
	if static == concrete {
		return true
	}
	if st := b.sg.Types[static]; st != nil && st.Kind == ast.Object {
		return false
	}
	ct := b.sg.Types[concrete]
	if ct == nil || ct.Graphs[graph] == nil {
		return false
	}
	t := b.sg.Types[static]
	if t == nil {
		return true
	}
	tg := t.Graphs[graph]
	if tg == nil {
		return true
	}
	if tg.InterfaceObject {
		return true
	}
	return tg.Possible[concrete]
}
