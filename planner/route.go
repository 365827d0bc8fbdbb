package planner

import (
	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// Route pass: every field of the operation is placed in a fetch group:
// in the group of its parent when that subgraph resolves it, else in a
// group reached by an entity jump (key chosen by cost.go), split between
// subgraphs where no single one resolves a whole sub-selection.

// routeCtx is the scope of routing one field, passed down by value: a
// call that narrows the scope passes a changed copy to the calls below it,
// so nothing is saved and restored by hand.
type routeCtx struct {
	// depth counts the entity jumps on the way to the field.
	depth int
	// representing lists the entity fetches whose representations are
	// being planned: the fields that build one are never placed in it.
	representing *groupList
	// touched, when not nil, collects the entity fetches used while
	// planning the innermost representation (its fetch waits for them).
	// It is the output of that representation's planning, owned by it.
	touched *[]*group
	// cost is the scope of the cost estimates made on the way.
	cost costScope
	// ancestors are the object selections above the field, nearest
	// first: where a context's value is read (context.go).
	ancestors *frame
	// siblings counts, per subgraph, the fields of the selection being
	// planned that must leave the group's subgraph and could go to that
	// one (siblingTargets); jump breaks a tie between subgraphs of equal
	// cost by it, so that fields one entity fetch can answer together
	// share it. Nil outside planSelection's fields.
	siblings map[string]int
}

// groupList is an immutable list of fetch groups.
type groupList struct {
	g    *group
	next *groupList
}

func (l *groupList) has(g *group) bool {
	for ; l != nil; l = l.next {
		if l.g == g {
			return true
		}
	}
	return false
}

// awaitedBy reports whether g waits, directly or through other fetches,
// for a fetch of l: such a g cannot supply an input of that fetch (the two
// would wait for each other).
func (l *groupList) awaitedBy(g *group) bool {
	if l == nil {
		return false
	}
	seen := map[*group]bool{}
	var walk func(x *group) bool
	walk = func(x *group) bool {
		if seen[x] {
			return false
		}
		seen[x] = true
		for _, d := range x.deps {
			if l.has(d) || walk(d) {
				return true
			}
		}
		return false
	}
	return walk(g)
}

// planRoot assigns the root fields to subgraphs (rootchoice.go chooses
// them).
func (b *builder) planRoot() {
	var rc routeCtx
	root := b.op.Selection
	fields := root.FieldsFor(b.op.RootType)
	rootType := b.sg.Types[b.op.RootType]
	if rootType == nil {
		b.fail("the supergraph has no %s type", b.op.RootType)
		return
	}
	var chosen []string
	if b.op.Kind != ast.Mutation {
		chosen = b.chooseRootGraphs(rc, rootType, fields)
	}
	var last *group
	byGraph := map[string]*group{}
	byPart := map[rootSlot]*group{}
	step := 0
	for i, f := range fields {
		if f.answeredByGateway() {
			continue
		}
		var graph string
		if b.op.Kind == ast.Mutation {
			graph = b.chooseMutationGraph(rc, rootType, f, last)
		} else {
			graph = chosen[i]
		}
		if graph == "" {
			if below := b.unowned(f.Selection, 0); below != "" {
				b.fail("no subgraph can resolve %s.%s: no subgraph resolves %s", b.op.RootType, f.Name, below)
				return
			}
			b.fail("no subgraph can resolve %s.%s", b.op.RootType, f.Name)
			return
		}
		var g *group
		if b.op.Kind == ast.Mutation {
			if last != nil && last.graph == graph {
				g = last
			} else {
				g = b.newGroup(graph, false, nil, nil, nil)
				g.step = step
				step++
			}
			last = g
		} else if part := b.partOf(f); part != nil {
			// A deferred root field gets a root fetch of its own part.
			g = byPart[rootSlot{graph, part}]
			if g == nil {
				g = b.newGroup(graph, false, nil, nil, part)
				byPart[rootSlot{graph, part}] = g
			}
		} else {
			g = byGraph[graph]
			if g == nil {
				g = b.newGroup(graph, false, nil, nil, nil)
				byGraph[graph] = g
			}
		}
		g.sel.typ = b.op.RootType
		ts := g.sel.forType(b.op.RootType)
		frc := rc
		frc.ancestors = &frame{typ: b.op.RootType, ts: ts, g: g}
		b.planField(frc, g, ts, b.op.RootType, f, nil, nil, false)
	}
}

// unowned names the first field in sel (at any depth) that no subgraph
// resolves by itself (each declares it @external, or none has it): the
// reason a root field cannot be planned in a supergraph whose
// composition should have failed. "" when there is none.
func (b *builder) unowned(sel *SelectionSet, depth int) string {
	if sel == nil || depth > 64 {
		return ""
	}
	for _, tf := range sel.ByType {
		t := b.sg.Types[tf.Type]
		if t == nil {
			continue
		}
		for _, f := range tf.Fields {
			owned := false
			for _, gid := range t.GraphIDs {
				if b.resolvable(gid, tf.Type, f.Name, nil) {
					owned = true
					break
				}
			}
			if !owned {
				return tf.Type + "." + f.Name
			}
			if below := b.unowned(f.Selection, depth+1); below != "" {
				return below
			}
		}
	}
	return ""
}

// split divides sel between what graph resolves by itself (here) and the
// rest; either is nil when empty.
func (b *builder) split(rc routeCtx, graph string, sel *SelectionSet, prov *provided) (here, rest *SelectionSet) {
	here = &SelectionSet{Type: sel.Type, Abstract: sel.Abstract}
	rest = &SelectionSet{Type: sel.Type, Abstract: sel.Abstract}
	nHere, nRest := 0, 0
	one := make([]*Field, 1)
	for _, tf := range sel.ByType {
		if sel.Abstract && !b.possibleIn(graph, sel.Type, tf.Type) {
			continue
		}
		tprov := b.provFor(prov, sel, tf)
		h, r := &TypeFields{Type: tf.Type}, &TypeFields{Type: tf.Type}
		for _, f := range tf.Fields {
			if f.Name == "__typename" {
				h.Fields = append(h.Fields, f)
				r.Fields = append(r.Fields, f)
				continue
			}
			one[0] = f
			if b.costFields(rc.cost, graph, tf.Type, one, tprov, 0) < inf {
				h.Fields = append(h.Fields, f)
				nHere++
				continue
			}
			if f.Selection != nil && b.resolvable(graph, tf.Type, f.Name, tprov) {
				// graph resolves the field but not all below it: split
				// its sub-selection too.
				hs, rs := b.split(rc, graph, f.Selection, b.providedBy(graph, tf.Type, f.Name, tprov))
				if hs != nil {
					h.Fields = append(h.Fields, withSelection(f, hs))
					nHere++
					if rs != nil {
						r.Fields = append(r.Fields, withSelection(f, rs))
						nRest++
					}
					continue
				}
			}
			r.Fields = append(r.Fields, f)
			nRest++
		}
		here.ByType = append(here.ByType, h)
		rest.ByType = append(rest.ByType, r)
	}
	if nHere == 0 {
		here = nil
	}
	if nRest == 0 {
		rest = nil
	}
	return here, rest
}

func withSelection(f *Field, sel *SelectionSet) *Field {
	c := *f
	c.Selection = sel
	return &c
}

// planSelection plans the sub-selection of a field inside group g.
func (b *builder) planSelection(rc routeCtx, g *group, sub *subSel, sel *SelectionSet, gtype string, path []string, prov *provided) {
	sub.typ = sel.Type
	sub.abstract = sel.Abstract
	if sel.Abstract && b.isInterfaceObject(g.graph, gtype) {
		b.planInterfaceObject(rc, g, sub, sel, gtype, path, prov)
		return
	}
	for _, tf := range sel.ByType {
		if sel.Abstract && (!b.possibleIn(g.graph, gtype, tf.Type) || !b.safeMember(b.subCand(sub), gtype, tf.Type)) {
			continue
		}
		tprov := b.provFor(prov, sel, tf)
		ts := sub.forType(tf.Type)
		frc := rc
		frc.ancestors = &frame{typ: tf.Type, ts: ts, g: g, path: path, prov: tprov, next: rc.ancestors}
		fields := b.askable(rc.cost, g.graph, sel, tf, tprov, 0)
		frc.siblings = b.siblingTargets(rc, g, tf.Type, fields, tprov)
		for _, f := range fields {
			b.planField(frc, g, ts, tf.Type, f, path, tprov, false)
		}
	}
}

// planField places one field: in g when g's subgraph can resolve it, else
// in a fetch that depends on g; a field whose sub-selection g resolves
// only in part is split between g and other subgraphs.
func (b *builder) planField(rc routeCtx, g *group, ts *typeSel, typ string, f *Field, path []string, prov *provided, atEntityRoot bool) {
	if b.err != nil || !b.spend() {
		return
	}
	if f.Name == "__typename" {
		ts.add(b.dataKey(f), "__typename", nil, nil)
		return
	}
	if part := b.partOf(f); part != nil && part != g.part && b.deferJump(rc, g, ts, typ, f, path, prov, part) {
		return
	}
	if b.resolvable(g.graph, typ, f.Name, prov) {
		fg := b.fieldIn(g.graph, typ, f.Name)
		if fg != nil && len(fg.ContextArguments) > 0 {
			switch {
			case atEntityRoot && g.entity && g.parentSel[typ] != nil:
				f = b.addContexts(rc, g, typ, f, fg, path)
			case b.contextsAtRoot(rc, g, typ, fg, path):
				// The entity g is fetched for holds the context.
				f = b.addContexts(rc, g, typ, f, fg, path)
			default:
				// Its own entity fetch, whose objects' ancestors hold the
				// context (context.go).
				b.jumpTo(rc, g, ts, typ, f, g.graph, path, prov)
				return
			}
		}
		needsRequires := fg != nil && len(fg.Requires) > 0
		if needsRequires && atEntityRoot && g.entity && g.parentSel[typ] != nil && b.requiresConflict(g, typ, fg) {
			// The representation already carries a required field with
			// other arguments: this field gets an entity fetch of its own.
			b.separateRequires(rc, g, typ, f, path)
			return
		}
		if !needsRequires || (atEntityRoot && g.entity && g.parentSel[typ] != nil) {
			fprov := b.providedBy(g.graph, typ, f.Name, prov)
			whole := f.Selection == nil || b.cost(rc.cost, g.graph, f.Selection, fprov, 0) < inf
			var here, rest *SelectionSet
			if !whole {
				here, rest = b.split(rc, g.graph, f.Selection, fprov)
			}
			switch {
			case whole || len(b.leaveTargets(rc.cost, g.graph, typ, f, prov)) == 0 || (here != nil && rest == nil):
				if needsRequires {
					b.addRequires(rc, g, typ, fg)
				}
				b.addField(rc, g, ts, typ, f, path, prov)
				return
			case here != nil:
				if needsRequires {
					b.addRequires(rc, g, typ, fg)
				}
				b.addField(rc, g, ts, typ, withSelection(f, here), path, prov)
				b.jump(rc, g, ts, typ, withSelection(f, rest), path, prov)
				return
			}
		}
	}
	b.jump(rc, g, ts, typ, f, path, prov)
}

// addField adds f to ts in group g and plans its sub-selection there.
func (b *builder) addField(rc routeCtx, g *group, ts *typeSel, typ string, f *Field, path []string, prov *provided) {
	var mk func() *subSel
	if f.Selection != nil {
		mk = func() *subSel { return &subSel{} }
	}
	// A field the planner needs is selected under its own data key even
	// where the client selects it under an alias: the representation that
	// reads it may be built from another fetch's selection.
	sf := ts.add(b.dataKey(f), f.Name, f.Arguments, mk)
	if sf.field == nil {
		sf.field = f
	}
	if f.Selection != nil {
		if sf.sub.up == nil {
			sf.sub.up, sf.sub.upTyp, sf.sub.upField = ts, typ, f.Name
		}
		b.planSelection(rc, g, sf.sub, f.Selection, b.subgraphType(g.graph, typ, f), childPath(path, sf.key, f.Type), b.providedBy(g.graph, typ, f.Name, prov))
	}
}

func childPath(path []string, key string, t *ast.Type) []string {
	out := make([]string, 0, len(path)+3)
	out = append(out, path...)
	out = append(out, key)
	for t.Elem != nil {
		out = append(out, "@")
		t = t.Elem
	}
	return out
}

// jump fetches f through another fetch (or, for @requires, the same
// subgraph again) that starts from data g provides.
func (b *builder) jump(rc routeCtx, g *group, ts *typeSel, typ string, f *Field, path []string, prov *provided) {
	rc.depth++
	if rc.depth > 64 {
		b.fail("cannot plan field %s.%s: the plan nests too deeply", typ, f.Name)
		return
	}
	t := b.sg.Types[typ]
	if t == nil {
		b.fail("unknown type %s", typ)
		return
	}
	candidates := b.jumpCandidates(rc, g, t, f, prov)
	best, bestCost := "", inf+1
	for _, gid := range candidates {
		// Between subgraphs of equal cost, the one more fields of this
		// selection can go to: Apollo's planner answers them in one
		// entity fetch (graphgen seed 1879: { topProduct19 { p3 { u6 { x }
		// u8 } } }, u8 only in b and u6 in a, b and d, fetched u6 from a,
		// one fetch more than both references, which ask b for both).
		c := b.fieldCost(rc.cost, gid, typ, f, b.keysProvided(gid, typ), 0)
		if c < bestCost || (c == bestCost && rc.siblings[gid] > rc.siblings[best]) {
			best, bestCost = gid, c
		}
	}
	if best == "" {
		if gid, iface, key := b.interfaceObjectTarget(g.graph, typ, f); gid != "" {
			b.jumpToInterfaceObject(rc, g, ts, typ, f, gid, iface, key, path, prov)
			return
		}
		b.fail("cannot plan field %s.%s: no subgraph that can resolve it is reachable from subgraph %s", typ, f.Name, b.sg.Graph(g.graph).Name)
		return
	}
	if bestCost >= inf && f.Selection != nil {
		// No subgraph gives the whole sub-selection: give each what it can.
		for _, gid := range candidates {
			here, rest := b.split(rc, gid, f.Selection, b.providedBy(gid, typ, f.Name, b.keysProvided(gid, typ)))
			if here != nil && rest != nil {
				b.jumpTo(rc, g, ts, typ, withSelection(f, here), gid, path, prov)
				b.jump(rc, g, ts, typ, withSelection(f, rest), path, prov)
				return
			}
		}
	}
	b.jumpTo(rc, g, ts, typ, f, best, path, prov)
}

// jumpCandidates lists the subgraphs (in t.GraphIDs order) that a jump from
// g can take f of t to: they resolve it and are reachable from g's data; g's
// own subgraph only for a @requires field (a second fetch there).
func (b *builder) jumpCandidates(rc routeCtx, g *group, t *schema.Type, f *Field, prov *provided) []string {
	var out []string
	for _, gid := range t.GraphIDs {
		if rc.cost.avoid.has(gid) || !b.resolvable(gid, t.Name, f.Name, b.keysProvided(gid, t.Name)) || !b.jumpableFrom(rc.cost, g.graph, gid, t.Name, prov) {
			continue
		}
		if gid == g.graph {
			if fg := b.fieldIn(gid, t.Name, f.Name); fg == nil || len(fg.Requires) == 0 {
				continue
			}
		}
		out = append(out, gid)
	}
	return out
}

// siblingTargets counts, for the fields of typ that g's subgraph does not
// resolve, how many of them each subgraph could answer through a jump from
// g (nil when fewer than two fields leave g: no tie to break).
func (b *builder) siblingTargets(rc routeCtx, g *group, typ string, fields []*Field, prov *provided) map[string]int {
	t := b.sg.Types[typ]
	if t == nil || len(fields) < 2 {
		return nil
	}
	var out map[string]int
	leaving := 0
	for _, f := range fields {
		if f.Name == "__typename" || b.resolvable(g.graph, typ, f.Name, prov) {
			continue
		}
		leaving++
		for _, gid := range b.jumpCandidates(rc, g, t, f, prov) {
			if out == nil {
				out = map[string]int{}
			}
			out[gid]++
		}
	}
	if leaving < 2 {
		return nil
	}
	return out
}

// jumpTo places f in a fetch to target that starts from g's data: another
// root fetch on the query root, else an entity fetch keyed by data g has.
func (b *builder) jumpTo(rc routeCtx, g *group, ts *typeSel, typ string, f *Field, target string, path []string, prov *provided) {
	rc.siblings = nil // they count the selection of g, not the target's
	if typ == b.op.RootType && !g.entity && len(path) == 0 {
		rg := b.rootGroup(target, g.part)
		b.planField(rc, rg, rg.sel.forType(typ), typ, f, nil, nil, false)
		return
	}
	key := b.chooseKey(rc.cost, typ, target, g.graph, prov)
	if key == nil {
		b.fail("cannot plan field %s.%s: no key of %s in subgraph %s", typ, f.Name, typ, b.sg.Graph(target).Name)
		return
	}
	eg := b.openEntityFetch(rc, g, ts, target, typ, typ, key, path, prov, g.part)
	b.planField(rc, eg, eg.sel.forType(typ), typ, f, path, b.keysProvided(target, typ), true)
}

// chooseKey picks the key of typ in target that the source graph can
// provide most directly.
func (b *builder) chooseKey(sc costScope, typ, target, source string, prov *provided) *schema.Key {
	var best *schema.Key
	bestCost := inf + 1
	for _, k := range b.keysIn(target, typ) {
		sel := b.fieldSet(typ, k.Selection)
		if sel == nil {
			continue
		}
		c := b.cost(sc, source, sel, prov, 0)
		if c < bestCost {
			best, bestCost = k, c
		}
	}
	return best
}

// localFields counts the fields of f's selection, at any depth, that graph
// resolves itself from typ.f (with what it provides there): between root
// subgraphs of equal cost, the one that answers more itself sends less to
// the fetches after it. A field with a sub-selection counts where graph
// answers something below it (see answersItself).
func (b *builder) localFields(graph, typ string, f *Field, prov *provided, depth int) int {
	if f.Selection == nil || depth > 8 {
		return 0
	}
	fprov := b.providedBy(graph, typ, f.Name, prov)
	n := 0
	for _, tf := range f.Selection.ByType {
		tprov := b.provFor(fprov, f.Selection, tf)
		for _, sf := range tf.Fields {
			if sf.Name == "__typename" || !b.resolvable(graph, tf.Type, sf.Name, tprov) {
				continue
			}
			if inner, ok := b.answersItself(graph, tf.Type, sf, tprov, depth+1); ok {
				n += 1 + inner
			}
		}
	}
	return n
}

// answersItself reports whether graph, which resolves typ.f, answers f
// itself rather than leaving it to the subgraph that answers below it (a
// leaf, a selection of __typename alone, or one with a field graph
// resolves: routing splits f there), with localFields of f.
func (b *builder) answersItself(graph, typ string, f *Field, prov *provided, depth int) (int, bool) {
	if f.Selection == nil || depth > 8 {
		return 0, true
	}
	inner := b.localFields(graph, typ, f, prov, depth)
	if inner > 0 {
		return inner, true
	}
	for _, tf := range f.Selection.ByType {
		for _, sf := range tf.Fields {
			if sf.Name != "__typename" {
				return 0, false
			}
		}
	}
	return 0, true
}

// rootSlot names the root fetch of one subgraph for one deferred part.
type rootSlot struct {
	graph string
	part  *Defer
}

// partOf is the @defer part f is planned for: f.Defer when the builder
// plans the parts apart, else nil.
func (b *builder) partOf(f *Field) *Defer {
	if !b.deferAware || b.op.Kind != ast.Query {
		return nil
	}
	return f.Defer
}

// deferJump places f, delivered with part while g is planned for another
// part, in an entity fetch of part's own, keyed by what g fetches: the
// fetch g belongs to does not wait for f, even when g's subgraph resolves
// it (Apollo Router plans deferred fragments the same way). It reports
// false when f's type has no key to jump with (a value type): f is then
// fetched with g; and when g's subgraph has f here through a @provides:
// the value is in g's answer already (the subgraph promises it along that
// path), where an entity fetch would ask again, maybe another subgraph
// (one more request, and some subgraphs answer a provided field only
// along its @provides path, as the federation audit's nested-provides).
// It also reports false for an abstract type no object type implements
// (emptyabstract.go): an entity fetch there answers no object, while g's
// subgraph answers the position itself.
func (b *builder) deferJump(rc routeCtx, g *group, ts *typeSel, typ string, f *Field, path []string, prov *provided, part *Defer) bool {
	if typ == b.op.RootType && !g.entity && len(path) == 0 {
		return false
	}
	if len(objectTypes(b.sg.Full, typ)) == 0 {
		return false
	}
	if prov.has(f.Name) && b.resolvable(g.graph, typ, f.Name, prov) {
		return false
	}
	t := b.sg.Types[typ]
	if t == nil {
		return false
	}
	best, bestCost := "", inf+1
	var bestKey *schema.Key
	for _, gid := range t.GraphIDs {
		kp := b.keysProvided(gid, typ)
		if rc.cost.avoid.has(gid) || !b.resolvable(gid, typ, f.Name, kp) || !b.jumpableFrom(rc.cost, g.graph, gid, typ, prov) {
			continue
		}
		key := b.chooseKey(rc.cost, typ, gid, g.graph, prov)
		if key == nil {
			continue
		}
		c := b.fieldCost(rc.cost, gid, typ, f, kp, 0)
		if gid != g.graph {
			// Same cost: stay on the subgraph the primary asked.
			c++
		}
		if c < bestCost {
			best, bestCost, bestKey = gid, c, key
		}
	}
	if best == "" || bestCost >= inf {
		return false
	}
	eg := b.openEntityFetch(rc, g, ts, best, typ, typ, bestKey, path, prov, part)
	b.planField(rc, eg, eg.sel.forType(typ), typ, f, path, b.keysProvided(best, typ), true)
	return true
}
