package planner

import (
	"sort"
	"strings"

	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// Cost estimates: how many extra fetches a subgraph needs to deliver a
// selection, used to choose between subgraphs.

// costScope is what an estimate depends on besides its arguments, passed
// down by value: the subgraphs that must not feed the data estimated (a
// subgraph never supplies its own key), and the key estimates in progress
// (a key that needs itself is not an option).
type costScope struct {
	avoid *avoidSet
	keys  *keyGuard
}

// avoidSet is an immutable set of subgraph names; sig names it in memo
// keys.
type avoidSet struct {
	names []string
	sig   string
}

func (a *avoidSet) has(graph string) bool {
	if a == nil {
		return false
	}
	for _, n := range a.names {
		if n == graph {
			return true
		}
	}
	return false
}

// with returns the set with graph added (a itself when it has it).
func (a *avoidSet) with(graph string) *avoidSet {
	if a.has(graph) {
		return a
	}
	var names []string
	if a != nil {
		names = append(names, a.names...)
	}
	names = append(names, graph)
	sort.Strings(names)
	return &avoidSet{names: names, sig: strings.Join(names, ",")}
}

// avoidStep names the set a with graph added.
type avoidStep struct {
	a     *avoidSet
	graph string
}

// avoiding is a.with(graph), made once per plan: estimates under the same
// scope recur many times.
func (b *builder) avoiding(a *avoidSet, graph string) *avoidSet {
	if a.has(graph) {
		return a
	}
	k := avoidStep{a, graph}
	if s, ok := b.avoidSets[k]; ok {
		return s
	}
	if b.avoidSets == nil {
		b.avoidSets = map[avoidStep]*avoidSet{}
	}
	s := a.with(graph)
	b.avoidSets[k] = s
	return s
}

// key is the set's memo key ("" for none).
func (a *avoidSet) key() string {
	if a == nil {
		return ""
	}
	return a.sig
}

// keyGuard is an immutable list of the (source, type) key estimates in
// progress: a plain key estimate cuts another jump from the same source for
// the same type (key chains are the shortest-path estimate's, chains.go).
type keyGuard struct {
	source, typ string
	next        *keyGuard
}

// has reports whether a key estimate from source for typ is in progress.
func (k *keyGuard) has(source, typ string) bool {
	for ; k != nil; k = k.next {
		if k.source == source && k.typ == typ {
			return true
		}
	}
	return false
}

type costKey struct {
	graph string
	sel   *SelectionSet
	avoid string
	prov  *provided
}

// cost estimates how many extra fetches graph needs to resolve sel
// starting from its own answer; inf when it cannot.
func (b *builder) cost(sc costScope, graph string, sel *SelectionSet, prov *provided, depth int) int {
	return b.costAt(sc, graph, sel.Type, sel, prov, depth)
}

// costAt is cost at a position whose type in graph is gtype.
func (b *builder) costAt(sc costScope, graph, gtype string, sel *SelectionSet, prov *provided, depth int) int {
	if depth > 32 {
		return 0
	}
	if sel.Abstract && b.isInterfaceObject(graph, gtype) {
		// Fields of the interface come from graph; the rest, and the
		// concrete __typename, from one entity fetch on the interface.
		return 1
	}
	// A provided set is never changed once built, so its pointer is part
	// of the key.
	key := costKey{graph, sel, sc.avoid.key(), prov}
	if c, ok := b.memo[key]; ok {
		return c
	}
	b.memo[key] = 0 // guards recursion through cyclic selections
	total := 0
	for _, tf := range sel.ByType {
		if sel.Abstract && !b.possibleIn(graph, gtype, tf.Type) {
			continue
		}
		tprov := b.provFor(prov, sel, tf)
		total = sat(total + b.costFields(sc, graph, tf.Type, b.askable(sc, graph, sel, tf, tprov, depth), tprov, depth))
	}
	b.memo[key] = total
	return total
}

func sat(c int) int {
	if c > inf {
		return inf
	}
	return c
}

func (b *builder) costFields(sc costScope, graph, typ string, fields []*Field, prov *provided, depth int) int {
	if !b.spend() {
		return inf
	}
	total := 0
	var targets []string
	for _, f := range fields {
		if f.Name == "__typename" {
			continue
		}
		if b.resolvable(graph, typ, f.Name, prov) {
			if fg := b.fieldIn(graph, typ, f.Name); fg != nil && len(fg.Requires) > 0 {
				total++
			}
			total = sat(total + b.fieldCost(sc, graph, typ, f, prov, depth))
			continue
		}
		best, bestGraph := inf, ""
		for _, gid := range b.leaveTargets(sc, graph, typ, f, prov) {
			// Past the jump, gid holds the entities it was sent: their key
			// fields are in the representation, as routing provides them.
			if c := sat(b.fieldCost(sc, gid, typ, f, b.keysProvided(gid, typ), depth) + b.keyCost(sc, graph, gid, typ, depth, prov)); c < best {
				best, bestGraph = c, gid
			}
		}
		if best >= inf {
			if gid, iface, _ := b.interfaceObjectTarget(graph, typ, f); gid != "" {
				best, bestGraph = b.fieldCost(sc, gid, iface, f, nil, depth), gid
			}
		}
		if best >= inf {
			return inf
		}
		total = sat(total + best)
		targets = appendString(targets, bestGraph)
	}
	return sat(total + len(targets))
}

func appendString(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

type fieldKey struct {
	graph string
	f     *Field
	avoid string
	prov  *provided
}

// fieldCost estimates the extra fetches for graph, which resolves typ.f,
// to deliver f's whole sub-selection: alone, or split with other
// subgraphs that resolve typ.f (a parent entity call).
func (b *builder) fieldCost(sc costScope, graph, typ string, f *Field, prov *provided, depth int) int {
	if f.Selection == nil || depth > 32 {
		return 0
	}
	fprov := b.providedBy(graph, typ, f.Name, prov)
	c := b.costAt(sc, graph, b.subgraphType(graph, typ, f), f.Selection, fprov, depth+1)
	if c < inf {
		return c
	}
	key := fieldKey{graph, f, sc.avoid.key(), prov}
	if c, ok := b.fieldMemo[key]; ok {
		return c
	}
	b.fieldMemo[key] = inf
	others := b.leaveTargets(sc, graph, typ, f, prov)
	total, targets := b.splitCost(sc, graph, others, f.Selection, fprov, depth)
	total = sat(total + len(targets))
	b.fieldMemo[key] = total
	return total
}

// splitCost estimates a sub-selection shared between graph and others:
// what graph resolves costs its own estimate, a field graph resolves but
// not its whole sub-selection is split again one level down, and the
// rest comes from the cheapest other subgraph (one fetch per subgraph).
func (b *builder) splitCost(sc costScope, graph string, others []string, sel *SelectionSet, prov *provided, depth int) (int, []string) {
	total := 0
	var targets []string
	one := make([]*Field, 1)
	for _, tf := range sel.ByType {
		if sel.Abstract && !b.possibleIn(graph, sel.Type, tf.Type) {
			continue
		}
		tprov := b.provFor(prov, sel, tf)
		for _, sf := range tf.Fields {
			if sf.Name == "__typename" || total >= inf {
				continue
			}
			// A field graph answers through the interface but not for every
			// type comes from one other subgraph as a whole.
			broken := sf.onInterface && b.interfaceFieldBroken(graph, sel.Type, sel, sf.Name, tprov)
			one[0] = sf
			if !broken {
				if cs := b.costFields(sc, graph, tf.Type, one, tprov, depth+1); cs < inf {
					total = sat(total + cs)
					continue
				}
			}
			if !broken && sf.Selection != nil && depth < 32 && b.resolvable(graph, tf.Type, sf.Name, tprov) {
				cs, ts := b.splitCost(sc, graph, others, sf.Selection, b.providedBy(graph, tf.Type, sf.Name, tprov), depth+1)
				if cs < inf {
					total = sat(total + cs)
					for _, t := range ts {
						targets = appendString(targets, t)
					}
					continue
				}
			}
			best, bestGraph := inf, ""
			for _, gid := range others {
				if sf.onInterface && b.interfaceFieldBroken(gid, sel.Type, sel, sf.Name, nil) {
					continue
				}
				one[0] = sf
				if cs := b.costFields(sc, gid, tf.Type, one, nil, depth+1); cs < best {
					best, bestGraph = cs, gid
				}
			}
			if best >= inf {
				total = inf
				continue
			}
			total = sat(total + best)
			targets = appendString(targets, bestGraph)
		}
	}
	return total, targets
}

// leaveTargets lists the other subgraphs that resolve typ.f and can be
// reached for typ: through a resolvable key, or, on the query root, by a
// fetch of their own. prov is what is provided at the position in graph.
func (b *builder) leaveTargets(sc costScope, graph, typ string, f *Field, prov *provided) []string {
	t := b.sg.Types[typ]
	if t == nil {
		return nil
	}
	var out []string
	for _, gid := range t.GraphIDs {
		if gid != graph && !sc.avoid.has(gid) && b.resolvable(gid, typ, f.Name, b.keysProvided(gid, typ)) && b.jumpableFrom(sc, graph, gid, typ, prov) {
			out = append(out, gid)
		}
	}
	return out
}

// jumpableFrom reports whether a fetch to target can start at typ with
// data from source: on the query root always, else through a key of
// target whose fields source can get, directly or through other fetches.
func (b *builder) jumpableFrom(sc costScope, source, target, typ string, prov *provided) bool {
	return b.keyCost(sc, source, target, typ, 0, prov) < inf
}

// keyCost estimates the fetches source needs to get the cheapest key of
// typ in target. It does not depend on where in the operation the jump
// happens, so it is memoized per source, target, type and avoided set; a
// key that needs itself (a cycle through the same source and type) is not
// an option. prov is what is provided where source holds the objects: an
// @external key field counts only where it is provided (an entity fetch's
// representation, a @provides).
//
// The plain estimate gets target's key fields from source itself or from
// subgraphs whose key source has. Where that finds no way, a key chain
// may (a: id -> b: id, sn -> d: sn, code -> c: code): the shortest-path
// estimate (chainCost) gives the fewest fetches over any number of jumps.
func (b *builder) keyCost(sc costScope, source, target, typ string, depth int, prov *provided) int {
	if typ == b.op.RootType && b.op.Kind == ast.Query {
		return 0
	}
	c := b.keyCostIn(sc, source, target, typ, depth, prov)
	if c < inf || sc.keys != nil {
		return c
	}
	return b.chainCost(sc.avoid, source, target, typ, depth)
}

// keyCostIn is the plain key estimate within sc: an estimate in progress
// from source for typ cuts any other from source, so only whole estimates
// are kept.
func (b *builder) keyCostIn(sc costScope, source, target, typ string, depth int, prov *provided) int {
	mk := keyCostKey{source, target, typ, sc.avoid.key(), prov}
	if c, ok := b.keyMemo[mk]; ok {
		return c
	}
	best := inf
	for _, k := range b.keysIn(target, typ) {
		if b.localKey(source, target, typ, k, prov) {
			best = 0
			break
		}
		if sc.keys.has(source, typ) {
			continue
		}
		inner := costScope{avoid: b.avoiding(sc.avoid, target), keys: &keyGuard{source: source, typ: typ, next: sc.keys}}
		if c := b.costFields(inner, source, typ, b.keyFields(typ, k), nil, depth+1); c < best {
			best = c
		}
	}
	// A cycle guard may have cut an inner estimate short: only whole
	// estimates are kept.
	if sc.keys == nil {
		b.keyMemo[mk] = best
	}
	return best
}

type keyCostKey struct {
	source, target, typ, avoid string
	prov                       *provided
}

// localKey reports whether source resolves the fields of key k of typ in
// target by itself where prov is provided: the query graph's jump,
// computed once per supergraph, decides unless an override label or an
// @external key field does.
func (b *builder) localKey(source, target, typ string, k *schema.Key, prov *provided) bool {
	if j := b.qg.Jump(typ, source, target, k); j != nil && !j.LabelDependent {
		if j.Local || !j.LocalAtEntityRoot {
			return j.Local
		}
	}
	return b.resolvesWith(source, typ, k.Selection, prov)
}

// resolvesWith reports whether graph resolves a field set on typ by itself
// where prov is provided.
func (b *builder) resolvesWith(graph, typ string, set ast.SelectionSet, prov *provided) bool {
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			if !b.resolvable(graph, typ, s.Name, prov) {
				return false
			}
			if len(s.SelectionSet) > 0 {
				t := b.sg.Types[typ]
				if t == nil || t.Fields[s.Name] == nil {
					return false
				}
				if !b.resolvesWith(graph, t.Fields[s.Name].Def.Type.Name(), s.SelectionSet, prov.child(s.Name)) {
					return false
				}
			}
		case *ast.InlineFragment:
			cond := s.TypeCondition
			if cond == "" {
				cond = typ
			}
			if !b.resolvesWith(graph, cond, s.SelectionSet, prov) {
				return false
			}
		}
	}
	return true
}

// keyFields returns a key's field set as fields of typ.
func (b *builder) keyFields(typ string, k *schema.Key) []*Field {
	if fs, ok := b.keyCache[k]; ok {
		return fs
	}
	var fs []*Field
	if sel := b.fieldSet(typ, k.Selection); sel != nil {
		fs = sel.FieldsFor(typ)
	}
	b.keyCache[k] = fs
	return fs
}

// selectionResolvable reports whether graph resolves a field set on typ by
// itself.
func (b *builder) selectionResolvable(graph, typ string, set ast.SelectionSet) bool {
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			if !b.resolvable(graph, typ, s.Name, b.keysProvided(graph, typ)) {
				return false
			}
			if len(s.SelectionSet) > 0 {
				t := b.sg.Types[typ]
				if t == nil || t.Fields[s.Name] == nil {
					return false
				}
				if !b.selectionResolvable(graph, t.Fields[s.Name].Def.Type.Name(), s.SelectionSet) {
					return false
				}
			}
		case *ast.InlineFragment:
			cond := s.TypeCondition
			if cond == "" {
				cond = typ
			}
			if !b.selectionResolvable(graph, cond, s.SelectionSet) {
				return false
			}
		}
	}
	return true
}

// interfaceFieldBroken reports whether graph defines, on the interface
// gtype of an abstract selection, a field (name, or any when "") selected
// on the interface that one of the interface's possible types has
// @external there, with nothing providing it. Graph would answer that
// field through the interface for every object, so the field is not split
// by type there: it comes whole from another subgraph (a parent entity
// call), and where none can give it the position does not plan, like
// Apollo's planner (the audit's corrupted-supergraph-node-id).
func (b *builder) interfaceFieldBroken(graph, gtype string, sel *SelectionSet, name string, prov *provided) bool {
	if !sel.Abstract {
		return false
	}
	if t := b.sg.Types[gtype]; t == nil || t.Kind != ast.Interface {
		return false
	}
	for _, tf := range sel.ByType {
		if !b.possibleIn(graph, gtype, tf.Type) {
			continue
		}
		for _, f := range tf.Fields {
			if f.onInterface && f.Name != "__typename" && (name == "" || f.Name == name) && b.resolvable(graph, gtype, f.Name, prov) && b.externalHere(graph, tf.Type, f.Name, prov) {
				return true
			}
		}
	}
	return false
}

// externalHere reports whether typ.field is @external in graph and not
// provided at the position (prov).
func (b *builder) externalHere(graph, typ, field string, prov *provided) bool {
	fg := b.fieldIn(graph, typ, field)
	return fg != nil && fg.External && !prov.has(field)
}
