package planner

import (
	"strconv"

	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// @interfaceObject: planning an interface in a subgraph that sees it as
// an object type, and reaching fields an interface object adds.

// planInterfaceObject plans an abstract selection in a subgraph that
// declares the interface with @interfaceObject. That subgraph answers the
// interface's own fields; the concrete __typename and everything else
// come from an entity fetch on the interface to a subgraph that knows its
// implementations.
func (b *builder) planInterfaceObject(rc routeCtx, g *group, sub *subSel, sel *SelectionSet, iface string, path []string, prov *provided) {
	sub.abstract = false
	sub.typ = iface
	ts := sub.forType(iface)
	it := b.sg.Types[iface]
	needDown := false
	planned := map[string]bool{}
	// A field selected for every implementation is asked of the interface;
	// one under a type condition needs the concrete type.
	// Fields count alike when they are one field under one response key
	// (the same key may name other fields on other types).
	// Planning @defer parts apart, a field counts alike only when it is
	// delivered with the same @defer: one deferred on some implementations
	// only needs the concrete type to know its part.
	sig := fieldSig
	if b.deferAware {
		sig = deferSig
	}
	count := map[string]int{}
	typed := map[string]int{} // selected in a fragment on the type too
	for _, tf := range sel.ByType {
		for _, f := range tf.Fields {
			count[sig(f)]++
			if f.onObject {
				typed[fieldSig(f)]++
			}
		}
	}
	// jumped holds the fetches that answer a field for the interface
	// from another subgraph.
	jumped := map[string][]*group{}
	for i, tf := range sel.ByType {
		if i > 0 && !sameKeys(tf.Fields, sel.ByType[0].Fields, sig) {
			needDown = true
		}
		for _, f := range tf.Fields {
			if f.Name == "__typename" {
				needDown = true
				continue
			}
			if planned[fieldSig(f)] {
				continue
			}
			if it.Fields[f.Name] == nil || count[sig(f)] < len(sel.ByType) {
				needDown = true
				continue
			}
			if b.resolvable(g.graph, iface, f.Name, prov) {
				b.planField(rc, g, ts, iface, f, path, prov, false)
				planned[fieldSig(f)] = true
				continue
			}
			if gid, key := b.interfaceTarget(g.graph, iface, f); gid != "" {
				var touched []*group
				inner := rc
				inner.touched = &touched
				b.jumpToInterfaceObject(inner, g, ts, iface, f, gid, iface, key, path, prov)
				for _, ng := range touched {
					if rc.touched != nil {
						*rc.touched = appendUnique(*rc.touched, ng)
					}
				}
				jumped[fieldSig(f)] = touched
				planned[fieldSig(f)] = true
				continue
			}
			needDown = true
		}
	}
	target, key := b.downTarget(g.graph, iface)
	again := b.typedAgain(rc.cost, sel, target, typed, jumped)
	if !needDown && len(again) == 0 {
		return
	}
	if target == "" {
		if b.implementedAnywhere(iface) {
			return
		}
		// No object type implements iface in any subgraph: no subgraph
		// can name a concrete type (an entity fetch for one would be a
		// query the interface's subgraphs reject), so the interface
		// object's own answer stands, as Hive Gateway answers it: its
		// __typename comes from the interface object's subgraph.
		typename := false
		for _, tf := range sel.ByType {
			for _, f := range tf.Fields {
				if f.Name != "__typename" {
					continue
				}
				typename = true
				if !planned[fieldSig(f)] {
					b.planField(rc, g, ts, iface, f, path, prov, false)
					planned[fieldSig(f)] = true
				}
			}
		}
		if typename {
			// The response names the runtime type of an abstract
			// position from the data's own __typename: an aliased
			// __typename alone would leave it empty.
			ts.add("__typename", "__typename", nil, nil)
		}
		return
	}
	rest := &SelectionSet{Type: iface, Abstract: true}
	for _, tf := range sel.ByType {
		r := &TypeFields{Type: tf.Type}
		for _, f := range tf.Fields {
			if f.Name == "__typename" || !planned[fieldSig(f)] || again[f] {
				r.Fields = append(r.Fields, f)
			}
		}
		rest.ByType = append(rest.ByType, r)
	}
	eg := b.openEntityFetch(rc, g, ts, target, iface, iface, key, path, prov, g.part)
	for _, tf := range sel.ByType {
		for _, f := range tf.Fields {
			if !again[f] {
				continue
			}
			// The type's own answer is written after the interface's.
			for _, ng := range jumped[fieldSig(f)] {
				if ng != eg {
					eg.deps = appendUnique(eg.deps, ng)
				}
			}
		}
	}
	ets := eg.sel.forType(iface)
	var frag *subField
	for _, f := range ets.fields {
		if f.fragment {
			frag = f
		}
	}
	if frag == nil {
		frag = &subField{fragment: true, sub: &subSel{}}
		ets.fields = append(ets.fields, frag)
	}
	b.planSelection(rc, eg, frag.sub, rest, iface, path, b.keysProvided(eg.graph, iface))
}

// interfaceObjectTarget finds a subgraph that resolves typ.f through an
// interface of typ it declares with @interfaceObject, reachable with a
// key that source resolves on typ.
func (b *builder) interfaceObjectTarget(source, typ string, f *Field) (graph, iface string, key *schema.Key) {
	def := b.sg.Full.Types[typ]
	if def == nil || def.Kind != ast.Object {
		return "", "", nil
	}
	for _, in := range def.Interfaces {
		it := b.sg.Types[in]
		if it == nil {
			continue
		}
		for _, gid := range it.GraphIDs {
			if gid == source || !it.Graphs[gid].InterfaceObject || !b.resolvable(gid, in, f.Name, nil) {
				continue
			}
			for _, k := range b.keysIn(gid, in) {
				if b.selectionResolvable(source, typ, k.Selection) {
					return gid, in, k
				}
			}
		}
	}
	return "", "", nil
}

// jumpToInterfaceObject fetches typ.f from a subgraph that has it on an
// @interfaceObject interface: the representation names the interface.
//
// A field with @requires there gets its required fields in the same
// representation, planned into g's selection of typ like the key: had it
// been planned as a field of the interface object, the requirement would
// be met by a second entity fetch to target keyed by the first one's
// answer, which names the interface as __typename.
func (b *builder) jumpToInterfaceObject(rc routeCtx, g *group, ts *typeSel, typ string, f *Field, target, iface string, key *schema.Key, path []string, prov *provided) {
	eg := b.openEntityFetch(rc, g, ts, target, typ, iface, key, path, prov, g.part)
	if fg := b.fieldIn(target, iface, f.Name); fg != nil && len(fg.Requires) > 0 && !b.requiresConflict(eg, typ, fg) {
		b.addRequires(rc, eg, typ, fg)
		b.addField(rc, eg, eg.sel.forType(iface), iface, f, path, b.keysProvided(target, iface))
		return
	}
	b.planField(rc, eg, eg.sel.forType(iface), iface, f, path, nil, false)
}

func sameKeys(a, b []*Field, sig func(*Field) string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if sig(a[i]) != sig(b[i]) {
			return false
		}
	}
	return true
}

// fieldSig names a field selection: its response key, field and
// arguments.
func fieldSig(f *Field) string {
	return f.ResponseKey + "\x00" + f.Name + "(" + argsString(f.Arguments) + ")"
}

// deferSig is fieldSig and the @defer the field is delivered with.
func deferSig(f *Field) string {
	if f.Defer == nil {
		return fieldSig(f)
	}
	return fieldSig(f) + "\x00" + strconv.Itoa(f.Defer.ID)
}

// interfaceTarget finds another subgraph that resolves iface.f on the
// interface itself, reachable with a key that source resolves.
func (b *builder) interfaceTarget(source, iface string, f *Field) (string, *schema.Key) {
	it := b.sg.Types[iface]
	for _, gid := range it.GraphIDs {
		if gid == source || !b.resolvable(gid, iface, f.Name, nil) {
			continue
		}
		for _, k := range b.keysIn(gid, iface) {
			if b.selectionResolvable(source, iface, k.Selection) {
				return gid, k
			}
		}
	}
	return "", nil
}

// downTarget finds a subgraph that knows implementations of iface (it has
// the interface as an interface, not an @interfaceObject, and an object
// type implementing it) and a key of it source resolves: where the
// concrete types are fetched from.
func (b *builder) downTarget(source, iface string) (string, *schema.Key) {
	it := b.sg.Types[iface]
	for _, gid := range it.GraphIDs {
		if gid == source || it.Graphs[gid].InterfaceObject || !b.implementedIn(gid, iface) {
			// A subgraph without an object type implementing iface
			// cannot answer an entity fetch on it: "... on iface" under
			// its _Entity union is a fragment that can never apply, an
			// invalid query there.
			continue
		}
		for _, k := range b.keysIn(gid, iface) {
			if b.selectionResolvable(source, iface, k.Selection) {
				return gid, k
			}
		}
	}
	return "", nil
}

// typedAgain picks, at an @interfaceObject position, the fields selected
// on the interface and also in an inline fragment on some implementations
// but not all, whose interface answer comes from another subgraph: for
// objects of those types they are fetched again from target, the
// subgraph of the concrete types, when it resolves them by itself, and
// that answer is kept. Which subgraph answers a shareable field is the
// plan's choice; this is the references' where they agree: Hive Gateway
// answers such a field from the concrete type's subgraph, unless the
// fragment is inside a named fragment, Apollo Gateway mostly so too (its
// two fetches run in parallel and the later answer stays). Fragments on
// every implementation select the field for the interface, as a
// selection on it does (Apollo Gateway's plan).
func (b *builder) typedAgain(sc costScope, sel *SelectionSet, target string, typed map[string]int, jumped map[string][]*group) map[*Field]bool {
	if target == "" || len(typed) == 0 {
		return nil
	}
	var again map[*Field]bool
	one := make([]*Field, 1)
	for _, tf := range sel.ByType {
		for _, f := range tf.Fields {
			sig := fieldSig(f)
			if !f.onObject || typed[sig] == len(sel.ByType) || len(jumped[sig]) == 0 {
				continue
			}
			one[0] = f
			if !b.resolvable(target, tf.Type, f.Name, nil) || b.costFields(sc, target, tf.Type, one, nil, 0) != 0 {
				continue
			}
			if again == nil {
				again = map[*Field]bool{}
			}
			again[f] = true
		}
	}
	return again
}

// implementedIn reports whether graph has an object type implementing
// iface (the entity types an entity fetch on iface can return there).
func (b *builder) implementedIn(graph, iface string) bool {
	t := b.sg.Types[iface]
	if t == nil || t.Graphs[graph] == nil {
		return false
	}
	for name := range t.Graphs[graph].Possible {
		if pt := b.sg.Types[name]; pt != nil && pt.Kind == ast.Object {
			return true
		}
	}
	return false
}

// implementedAnywhere reports whether some subgraph has an object type
// implementing iface.
func (b *builder) implementedAnywhere(iface string) bool {
	t := b.sg.Types[iface]
	if t == nil {
		return false
	}
	for _, gid := range t.GraphIDs {
		if b.implementedIn(gid, iface) {
			return true
		}
	}
	return false
}
