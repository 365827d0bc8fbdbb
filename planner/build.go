package planner

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// Planner builds query plans for one supergraph. It is safe for concurrent
// use and holds no per-request state.
type Planner struct {
	sg *schema.Supergraph
}

// New returns a planner for the supergraph.
func New(sg *schema.Supergraph) *Planner { return &Planner{sg: sg} }

// Options are the per-request inputs that change a plan besides the
// operation itself; they are part of the plan cache key.
type Options struct {
	// Labels are the progressive @override labels in force.
	Labels map[string]bool
	// NoMerge keeps one entity fetch per response path instead of joining
	// same-subgraph fetches of one level.
	NoMerge bool
	// Authorized, when set, is the operation to plan in place of op: op
	// without the fields the caller may not see (auth.Result.Plan). The
	// plan still answers op, with Denied.
	Authorized *Operation
	// Denied are the fields of op the caller may not see; the response has
	// null and an UNAUTHORIZED_FIELD_OR_TYPE error wherever they are.
	Denied map[*Field]bool
	// Budget bounds the options planning evaluates (fields placed and
	// subgraph choices estimated); 0 means DefaultBudget.
	Budget int
}

// DefaultBudget is the planning budget when Options.Budget is 0: some
// hundred times what the largest operations of the tests need.
const DefaultBudget = 2_000_000

// Error is a planning failure with its reason.
type Error struct {
	Message string
	// OverBudget is true when the operation needed more planning work
	// than the budget allows: the client's document is the cause (HTTP
	// 400), not the supergraph.
	OverBudget bool
}

func (e *Error) Error() string { return e.Message }

// spend counts one evaluated option; false once the budget is exhausted,
// which fails the plan.
func (b *builder) spend() bool {
	b.spent++
	if b.spent <= b.budget {
		return true
	}
	if b.err == nil || !b.err.OverBudget {
		b.err = &Error{Message: fmt.Sprintf("query planning needs more than its budget of %d evaluated options: split the operation or select less", b.budget), OverBudget: true}
	}
	return false
}

const inf = 1 << 20

// Plan builds the query plan for a normalized operation.
func (p *Planner) Plan(op *Operation, opts Options) (*Plan, error) {
	render := op
	if opts.Authorized != nil {
		op = opts.Authorized
	}
	b := &builder{sg: p.sg, op: op, opts: opts, memo: map[costKey]int{}, fieldMemo: map[fieldKey]int{}, avoid: map[string]int{}, inKeyCost: map[string]bool{}, keyCache: map[*schema.Key][]*Field{}, keyProv: map[[2]string]*provided{}, excluded: map[*group]bool{}, keys: newDataKeys(op), keyMemo: map[keyCostKey]int{}}
	b.budget = opts.Budget
	if b.budget <= 0 {
		b.budget = DefaultBudget
	}
	b.planRoot()
	if b.err != nil {
		return nil, b.err
	}
	if !opts.NoMerge {
		b.mergeLevels()
	}
	root, fetches := b.nodes()
	return &Plan{Root: root, Operation: render, Fetches: fetches, Denied: opts.Denied}, nil
}

type builder struct {
	sg        *schema.Supergraph
	op        *Operation
	opts      Options
	groups    []*group
	memo      map[costKey]int
	fieldMemo map[fieldKey]int
	// avoid counts the subgraphs that must not feed the data being planned
	// (a subgraph never supplies its own key); avoidSig names the set for
	// the memo keys.
	avoid     map[string]int
	avoidSig  string
	inKeyCost map[string]bool
	keyCache  map[*schema.Key][]*Field
	keyProv   map[[2]string]*provided // keysProvided by graph and type
	depth     int
	excluded  map[*group]bool
	// touched collects the entity fetches used while planning a
	// representation, when not nil.
	touched *[]*group
	err     *Error
	// keys gives the planner's own fields their data keys.
	keys *dataKeys
	// keyMemo holds keyCost results.
	keyMemo map[keyCostKey]int
	// spent counts evaluated options against budget.
	spent, budget int
}

// dataKey is the key under which fetches of this plan write f.
func (b *builder) dataKey(f *Field) string {
	if f.internal {
		return b.keys.key(f.Name, argsString(f.Arguments))
	}
	return f.DataKey()
}

// group is one subgraph fetch being built.
type group struct {
	id     int
	graph  string
	entity bool
	path   []string
	// paths lists every response path the fetch serves: path, plus those
	// of fetches merged into it.
	paths [][]string
	sel   *subSel
	// reqs holds, per entity type, the representation selection.
	reqs     map[string][]*RequiredField
	reqOrder []string
	repType  map[string]string
	// parentSel is the parent group's selection at this group's path, per
	// entity type: where key and required fields are added.
	parentSel map[string]*typeSel
	deps      []*group
	parent    *group
	// step orders root groups of a mutation.
	step int
}

// subSel is a selection set of a subgraph operation.
type subSel struct {
	typ      string
	abstract bool
	types    []*typeSel
	// cand lists the subgraphs that could resolve the path to this
	// selection (see candidates), computed on first use from up (the
	// selection holding the field upTyp.upField); nil at a fetch root.
	cand           []string
	candDone       bool
	up             *typeSel
	upTyp, upField string
}

// typeSel is the part of a subSel that applies to one concrete type.
type typeSel struct {
	typ    string
	fields []*subField
	owner  *subSel
}

type subField struct {
	key  string
	name string
	args ast.ArgumentList
	sub  *subSel
	// fragment marks an inline fragment: sub is printed in place.
	fragment bool
	// field is the client field this one answers, nil for fields the plan
	// adds (keys, requirements).
	field *Field
}

func (s *subSel) forType(t string) *typeSel {
	for _, ts := range s.types {
		if ts.typ == t {
			return ts
		}
	}
	ts := &typeSel{typ: t, owner: s}
	s.types = append(s.types, ts)
	return ts
}

// find returns the field name(args) that ts already selects for the
// client, or nil.
func (ts *typeSel) find(name string, args ast.ArgumentList) *subField {
	as := argsString(args)
	for _, f := range ts.fields {
		if f.name == name && f.field != nil && !f.field.internal && argsString(f.args) == as {
			return f
		}
	}
	return nil
}

func argsString(args ast.ArgumentList) string {
	if len(args) == 0 {
		return ""
	}
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = a.Name + ":" + a.Value.String()
	}
	return strings.Join(parts, ",")
}

// add adds a field under the wanted response key; when that key already
// holds a different field, an alias is used. It returns the field.
func (ts *typeSel) add(key, name string, args ast.ArgumentList, sub func() *subSel) *subField {
	for _, f := range ts.fields {
		if f.key == key {
			if f.name == name && argsString(f.args) == argsString(args) {
				if f.sub == nil && sub != nil {
					f.sub = sub()
				}
				return f
			}
			key = "_fed_" + name + "_" + key
		}
	}
	// A second pass for the alias, should it exist too.
	for _, f := range ts.fields {
		if f.key == key && f.name == name {
			return f
		}
	}
	f := &subField{key: key, name: name, args: args}
	if sub != nil {
		f.sub = sub()
	}
	ts.fields = append(ts.fields, f)
	return f
}

func (b *builder) fail(format string, args ...any) {
	if b.err == nil {
		b.err = &Error{Message: fmt.Sprintf(format, args...)}
	}
}

func (b *builder) newGroup(graph string, entity bool, path []string, parent *group) *group {
	g := &group{id: len(b.groups), graph: graph, entity: entity, path: path, paths: [][]string{path}, parent: parent,
		sel: &subSel{abstract: entity}}
	if entity {
		g.reqs = map[string][]*RequiredField{}
		g.repType = map[string]string{}
		g.parentSel = map[string]*typeSel{}
	}
	if parent != nil {
		g.deps = append(g.deps, parent)
	}
	b.groups = append(b.groups, g)
	return g
}

// planRoot assigns the root fields to subgraphs.
func (b *builder) planRoot() {
	root := b.op.Selection
	fields := root.FieldsFor(b.op.RootType)
	rootType := b.sg.Types[b.op.RootType]
	if rootType == nil {
		b.fail("the supergraph has no %s type", b.op.RootType)
		return
	}
	var last *group
	byGraph := map[string]*group{}
	step := 0
	for _, f := range fields {
		if f.Name == "__typename" || f.Name == "__schema" || f.Name == "__type" {
			continue
		}
		graph := b.chooseRootGraph(rootType, f, byGraph, last)
		if graph == "" {
			b.fail("no subgraph can resolve %s.%s", b.op.RootType, f.Name)
			return
		}
		var g *group
		if b.op.Kind == ast.Mutation {
			if last != nil && last.graph == graph {
				g = last
			} else {
				g = b.newGroup(graph, false, nil, nil)
				g.step = step
				step++
			}
			last = g
		} else {
			g = byGraph[graph]
			if g == nil {
				g = b.newGroup(graph, false, nil, nil)
				byGraph[graph] = g
			}
		}
		g.sel.typ = b.op.RootType
		ts := g.sel.forType(b.op.RootType)
		b.planField(g, ts, b.op.RootType, f, nil, nil, false)
	}
}

func (b *builder) chooseRootGraph(rootType *schema.Type, f *Field, chosen map[string]*group, last *group) string {
	best, bestCost := "", inf+1
	for _, gid := range rootType.GraphIDs {
		if !b.resolvable(gid, rootType.Name, f.Name, nil) {
			continue
		}
		// Jumps below the field add sequential steps; another root fetch
		// runs in parallel: a jump weighs more than a new root fetch.
		c := sat(2 * b.fieldCost(gid, rootType.Name, f, nil, 0))
		if b.op.Kind == ast.Mutation {
			if last == nil || last.graph != gid {
				c++
			}
		} else if chosen[gid] == nil {
			c++
		}
		if c < bestCost {
			best, bestCost = gid, c
		}
	}
	return best
}

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

// split divides sel between what graph resolves by itself (here) and the
// rest; either is nil when empty.
func (b *builder) split(graph string, sel *SelectionSet, prov *provided) (here, rest *SelectionSet) {
	here = &SelectionSet{Type: sel.Type, Abstract: sel.Abstract}
	rest = &SelectionSet{Type: sel.Type, Abstract: sel.Abstract}
	nHere, nRest := 0, 0
	one := make([]*Field, 1)
	for _, tf := range sel.ByType {
		if sel.Abstract && !b.possibleIn(graph, sel.Type, tf.Type) {
			continue
		}
		h, r := &TypeFields{Type: tf.Type}, &TypeFields{Type: tf.Type}
		for _, f := range tf.Fields {
			if f.Name == "__typename" {
				h.Fields = append(h.Fields, f)
				r.Fields = append(r.Fields, f)
				continue
			}
			one[0] = f
			if b.costFields(graph, tf.Type, one, prov, 0) < inf {
				h.Fields = append(h.Fields, f)
				nHere++
				continue
			}
			if f.Selection != nil && b.resolvable(graph, tf.Type, f.Name, prov) {
				// graph resolves the field but not all below it: split
				// its sub-selection too.
				hs, rs := b.split(graph, f.Selection, b.providedBy(graph, tf.Type, f.Name, prov))
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
func (b *builder) planSelection(g *group, sub *subSel, sel *SelectionSet, gtype string, path []string, prov *provided) {
	sub.typ = sel.Type
	sub.abstract = sel.Abstract
	if sel.Abstract && b.isInterfaceObject(g.graph, gtype) {
		b.planInterfaceObject(g, sub, sel, gtype, path, prov)
		return
	}
	for _, tf := range sel.ByType {
		if sel.Abstract && (!b.possibleIn(g.graph, gtype, tf.Type) || !b.safeMember(b.subCand(sub), gtype, tf.Type)) {
			continue
		}
		ts := sub.forType(tf.Type)
		for _, f := range tf.Fields {
			b.planField(g, ts, tf.Type, f, path, prov, false)
		}
	}
}

// planField places one field: in g when g's subgraph can resolve it, else
// in a fetch that depends on g; a field whose sub-selection g resolves
// only in part is split between g and other subgraphs.
func (b *builder) planField(g *group, ts *typeSel, typ string, f *Field, path []string, prov *provided, atEntityRoot bool) {
	if b.err != nil || !b.spend() {
		return
	}
	if f.Name == "__typename" {
		ts.add(b.dataKey(f), "__typename", nil, nil)
		return
	}
	if b.resolvable(g.graph, typ, f.Name, prov) {
		fg := b.fieldIn(g.graph, typ, f.Name)
		needsRequires := fg != nil && len(fg.Requires) > 0
		if needsRequires && atEntityRoot && g.entity && g.parentSel[typ] != nil && b.requiresConflict(g, typ, fg) {
			// The representation already carries a required field with
			// other arguments: this field gets an entity fetch of its own.
			b.separateRequires(g, typ, f, path)
			return
		}
		if !needsRequires || (atEntityRoot && g.entity && g.parentSel[typ] != nil) {
			fprov := b.providedBy(g.graph, typ, f.Name, prov)
			whole := f.Selection == nil || b.cost(g.graph, f.Selection, fprov, 0) < inf
			var here, rest *SelectionSet
			if !whole {
				here, rest = b.split(g.graph, f.Selection, fprov)
			}
			switch {
			case whole || len(b.leaveTargets(g.graph, typ, f)) == 0 || (here != nil && rest == nil):
				if needsRequires {
					b.addRequires(g, typ, fg)
				}
				b.addField(g, ts, typ, f, path, prov)
				return
			case here != nil:
				if needsRequires {
					b.addRequires(g, typ, fg)
				}
				b.addField(g, ts, typ, withSelection(f, here), path, prov)
				b.jump(g, ts, typ, withSelection(f, rest), path, prov)
				return
			}
		}
	}
	b.jump(g, ts, typ, f, path, prov)
}

// addField adds f to ts in group g and plans its sub-selection there.
func (b *builder) addField(g *group, ts *typeSel, typ string, f *Field, path []string, prov *provided) {
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
		b.planSelection(g, sf.sub, f.Selection, b.subgraphType(g.graph, typ, f), childPath(path, sf.key, f.Type), b.providedBy(g.graph, typ, f.Name, prov))
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
func (b *builder) jump(g *group, ts *typeSel, typ string, f *Field, path []string, prov *provided) {
	b.depth++
	defer func() { b.depth-- }()
	if b.depth > 64 {
		b.fail("cannot plan field %s.%s: the plan nests too deeply", typ, f.Name)
		return
	}
	t := b.sg.Types[typ]
	if t == nil {
		b.fail("unknown type %s", typ)
		return
	}
	var candidates []string
	best, bestCost := "", inf+1
	for _, gid := range t.GraphIDs {
		kp := b.keysProvided(gid, typ)
		if b.avoid[gid] > 0 || !b.resolvable(gid, typ, f.Name, kp) || !b.jumpableFrom(g.graph, gid, typ) {
			continue
		}
		if gid == g.graph {
			if fg := b.fieldIn(gid, typ, f.Name); fg == nil || len(fg.Requires) == 0 {
				continue
			}
		}
		candidates = append(candidates, gid)
		if c := b.fieldCost(gid, typ, f, kp, 0); c < bestCost {
			best, bestCost = gid, c
		}
	}
	if best == "" {
		if gid, iface, key := b.interfaceObjectTarget(g.graph, typ, f); gid != "" {
			b.jumpToInterfaceObject(g, ts, typ, f, gid, iface, key, path, prov)
			return
		}
		b.fail("cannot plan field %s.%s: no subgraph that can resolve it is reachable from subgraph %s", typ, f.Name, b.sg.Graph(g.graph).Name)
		return
	}
	if bestCost >= inf && f.Selection != nil {
		// No subgraph gives the whole sub-selection: give each what it can.
		for _, gid := range candidates {
			here, rest := b.split(gid, f.Selection, b.providedBy(gid, typ, f.Name, b.keysProvided(gid, typ)))
			if here != nil && rest != nil {
				b.jumpTo(g, ts, typ, withSelection(f, here), gid, path, prov)
				b.jump(g, ts, typ, withSelection(f, rest), path, prov)
				return
			}
		}
	}
	b.jumpTo(g, ts, typ, f, best, path, prov)
}

// jumpTo places f in a fetch to target that starts from g's data: another
// root fetch on the query root, else an entity fetch keyed by data g has.
func (b *builder) jumpTo(g *group, ts *typeSel, typ string, f *Field, target string, path []string, prov *provided) {
	if typ == b.op.RootType && !g.entity && len(path) == 0 {
		rg := b.rootGroup(target)
		b.planField(rg, rg.sel.forType(typ), typ, f, nil, nil, false)
		return
	}
	key := b.chooseKey(typ, target, g.graph, prov)
	if key == nil {
		b.fail("cannot plan field %s.%s: no key of %s in subgraph %s", typ, f.Name, typ, b.sg.Graph(target).Name)
		return
	}
	eg := b.openEntityFetch(g, ts, target, typ, typ, key, path, prov)
	b.planField(eg, eg.sel.forType(typ), typ, f, path, b.keysProvided(target, typ), true)
}

// openEntityFetch returns the entity fetch to target for the objects of
// runtime type typ that ts selects in g at path (an existing one when it
// fits), with the key's fields in its representation, which names
// repType (the interface, for an @interfaceObject target).
func (b *builder) openEntityFetch(g *group, ts *typeSel, target, typ, repType string, key *schema.Key, path []string, prov *provided) *group {
	eg := b.entityGroup(target, path, g, typ, ts)
	if b.touched != nil {
		*b.touched = appendUnique(*b.touched, eg)
	}
	if eg.parentSel[typ] == nil {
		eg.parentSel[typ] = ts
		eg.repType[typ] = repType
	}
	ts.add("__typename", "__typename", nil, nil)
	b.addRepresentation(eg, typ, key.Selection, ts, path, prov, true)
	return eg
}

// rootGroup returns the root fetch of a query for graph.
func (b *builder) rootGroup(graph string) *group {
	for _, g := range b.groups {
		if !g.entity && g.graph == graph {
			return g
		}
	}
	g := b.newGroup(graph, false, nil, nil)
	g.sel.typ = b.op.RootType
	return g
}

// entityGroup finds or creates the entity fetch to graph at path fed by
// parent.
func (b *builder) entityGroup(graph string, path []string, parent *group, typ string, ps *typeSel) *group {
	for _, g := range b.groups {
		if g.entity && g.graph == graph && g.parent == parent && !b.excluded[g] && samePath(g.path, path) &&
			(g.parentSel[typ] == nil || g.parentSel[typ] == ps) {
			return g
		}
	}
	return b.newGroup(graph, true, path, parent)
}

func samePath(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// chooseKey picks the key of typ in target that the source graph can
// provide most directly.
func (b *builder) chooseKey(typ, target, source string, prov *provided) *schema.Key {
	var best *schema.Key
	bestCost := inf + 1
	for _, k := range b.keysIn(target, typ) {
		sel := NormalizeFieldSet(b.sg.Full, typ, k.Selection)
		if sel == nil {
			continue
		}
		c := b.cost(source, sel, prov, 0)
		if c < bestCost {
			best, bestCost = k, c
		}
	}
	return best
}

func appendUnique(list []*group, g *group) []*group {
	for _, x := range list {
		if x == g {
			return list
		}
	}
	return append(list, g)
}

// avoidGraph adds (delta 1) or removes (delta -1) graph from the avoided
// subgraphs.
func (b *builder) avoidGraph(graph string, delta int) {
	b.avoid[graph] += delta
	if b.avoid[graph] <= 0 {
		delete(b.avoid, graph)
	}
	names := make([]string, 0, len(b.avoid))
	for g := range b.avoid {
		names = append(names, g)
	}
	sort.Strings(names)
	b.avoidSig = strings.Join(names, ",")
}
