package compose

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// The satisfiability check walks the API schema from its root types over
// the supergraph's query graph (schema.QueryGraph), the graph the planner
// routes on, so that what composes is what plans. A state is "an object of
// type T that the planner may hold in any of the subgraphs G" (with the
// fields a @provides on the way made available in some of them). From a
// state, a field is reachable when a node of G has its edge (active under
// the @override labels), or when a node reached from G by key jumps -
// whose key fields the nodes reached so far resolve - has it, with its
// @requires conditions resolvable the same way. Every field of every
// reachable state must be reachable, or the query that leads there is
// reported with SATISFIABILITY_ERROR.
//
// States are memoized by (type, subgraph set, provided fields), key-jump
// closures by (type, subgraph, provided fields), so the work is bounded by
// the distinct states, not by the number of paths.

// satChecker checks one supergraph under one state of the progressive
// @override labels.
type satChecker struct {
	sg     *schema.Supergraph
	qg     *schema.QueryGraph
	labels map[string]bool
	errs   *errorList
	roots  map[string]bool
	// closures caches closure results, computing guards its recursion.
	closures map[closureKey][]string
	// closureIDs names each cached closure by its sorted subgraphs: fields
	// are resolved once per closure, not once per subgraph holding it.
	closureIDs map[closureKey]string
	computing  map[closureKey]bool
	// fieldMemo caches the resolvers of a field from one subgraph (with
	// what a @provides made available there).
	fieldMemo map[fieldMemoKey][]resolver
	// selKeys caches selString of the provided selections (never
	// changed once built), possibleMemo the sorted possible types.
	selKeys      map[selID]string
	possibleMemo map[closureKey][]string
	// states counts the distinct states walked (for tests and benchmarks).
	states int
}

type closureKey struct{ typ, graph, provided string }

type selID struct {
	first *ast.Selection
	n     int
}

// selKey is selString(sel), cached.
func (c *satChecker) selKey(sel ast.SelectionSet) string {
	if len(sel) == 0 {
		return ""
	}
	id := selID{&sel[0], len(sel)}
	k, ok := c.selKeys[id]
	if !ok {
		k = selString(sel)
		c.selKeys[id] = k
	}
	return k
}

type fieldMemoKey struct{ typ, field, closure, graph, provided string }

// satVisit is one path of the API schema with the subgraphs the object
// there may be held in: the planner may pick any of them.
type satVisit struct {
	parent *satVisit
	field  string // response path element leading here
	args   string // its required arguments with witness values, printed
	cond   string // type condition when entering an implementation
	typ    string
	graphs []string
	// provided holds, per subgraph, the selection a @provides on the path
	// makes available at this node although the subgraph does not resolve
	// it in general.
	provided map[string]ast.SelectionSet
}

func (v *satVisit) key() string {
	ids := append([]string(nil), v.graphs...)
	sort.Strings(ids)
	var b strings.Builder
	b.WriteString(v.typ + ":" + strings.Join(ids, ","))
	for _, g := range ids {
		if p := v.provided[g]; len(p) > 0 {
			b.WriteString("|" + g + "=" + selString(p))
		}
	}
	return b.String()
}

// selString prints a selection set compactly (a memo key part).
func selString(sel ast.SelectionSet) string {
	var b strings.Builder
	for i, s := range sel {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch s := s.(type) {
		case *ast.Field:
			b.WriteString(s.Name)
			if len(s.SelectionSet) > 0 {
				b.WriteString("{" + selString(s.SelectionSet) + "}")
			}
		case *ast.InlineFragment:
			b.WriteString("..." + s.TypeCondition + "{" + selString(s.SelectionSet) + "}")
		}
	}
	return b.String()
}

func addString(list []string, x string) []string {
	if containsString(list, x) {
		return list
	}
	return append(list, x)
}

// checkSatisfiability checks the API schema once per state of the
// progressive @override labels: each label on and off (every combination
// for up to four labels, else all off and each one on alone).
func checkSatisfiability(sg *schema.Supergraph, errs *errorList) {
	labels := sg.OverrideLabels
	var states []map[string]bool
	if len(labels) <= 4 {
		for mask := 0; mask < 1<<len(labels); mask++ {
			state := map[string]bool{}
			for i, l := range labels {
				state[l] = mask&(1<<i) != 0
			}
			states = append(states, state)
		}
	} else {
		states = append(states, map[string]bool{})
		for _, l := range labels {
			states = append(states, map[string]bool{l: true})
		}
	}
	for _, state := range states {
		newSatChecker(sg, state, errs).run()
	}
}

func newSatChecker(sg *schema.Supergraph, labels map[string]bool, errs *errorList) *satChecker {
	c := &satChecker{sg: sg, qg: sg.QueryGraph(), labels: labels, errs: errs, roots: map[string]bool{},
		closures: map[closureKey][]string{}, computing: map[closureKey]bool{}, closureIDs: map[closureKey]string{}, fieldMemo: map[fieldMemoKey][]resolver{},
		selKeys: map[selID]string{}, possibleMemo: map[closureKey][]string{}}
	for _, r := range []*ast.Definition{sg.API.Query, sg.API.Mutation, sg.API.Subscription} {
		if r != nil {
			c.roots[r.Name] = true
		}
	}
	return c
}

func (c *satChecker) run() {
	var starts []*satVisit
	for _, root := range []*ast.Definition{c.sg.API.Query, c.sg.API.Subscription} {
		if root == nil || c.sg.Types[root.Name] == nil {
			continue
		}
		starts = append(starts, &satVisit{typ: root.Name, graphs: append([]string(nil), c.sg.Types[root.Name].GraphIDs...)})
	}
	c.walk(starts, c.errs)
	if c.sg.API.Mutation != nil {
		c.checkMutations()
	}
}

// name is the subgraph name of a graph ID, quoted.
func (c *satChecker) name(gid string) string {
	if g := c.sg.Graph(gid); g != nil {
		return "\"" + g.Name + "\""
	}
	return "\"" + gid + "\""
}

func (c *satChecker) names(gids []string) string {
	var out []string
	for _, g := range gids {
		out = append(out, c.name(g))
	}
	return subgraphList(out)
}

// edge returns the field edge of a node active under the current labels
// (never an @external key field), or nil.
func (c *satChecker) edge(typ, gid, field string) *schema.Edge {
	n := c.qg.Node(typ, gid)
	if n == nil {
		return nil
	}
	e := n.Fields[field]
	if e == nil || e.KeyOnly {
		return nil
	}
	if e.Label != "" && c.labels[e.Label] != e.LabelOn {
		return nil
	}
	return e
}

// providedField returns the selection of field in a provided selection on
// typ (directly or in an inline fragment matching typ).
func providedField(sel ast.SelectionSet, typ, field string) (ast.SelectionSet, bool) {
	var out ast.SelectionSet
	found := false
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if s.Name == field {
				found = true
				out = append(out, s.SelectionSet...)
			}
		case *ast.InlineFragment:
			if s.TypeCondition == "" || s.TypeCondition == typ {
				if sub, ok := providedField(s.SelectionSet, typ, field); ok {
					found = true
					out = append(out, sub...)
				}
			}
		}
	}
	return out, found
}

// narrowProvided is the part of a selection provided on an abstract type
// that holds for its implementation typ.
func narrowProvided(sel ast.SelectionSet, typ string) ast.SelectionSet {
	var out ast.SelectionSet
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			out = append(out, s)
		case *ast.InlineFragment:
			if s.TypeCondition == "" || s.TypeCondition == typ {
				out = append(out, narrowProvided(s.SelectionSet, typ)...)
			}
		}
	}
	return out
}

// checkMutations checks each top-level mutation field from each subgraph
// resolving it on its own: a mutation is never called in two subgraphs,
// so one of them must satisfy every query below the field.
func (c *satChecker) checkMutations() {
	api := c.sg.API.Mutation
	t := c.sg.Types[api.Name]
	if t == nil {
		return
	}
	for _, fd := range api.Fields {
		if strings.HasPrefix(fd.Name, "__") {
			continue
		}
		var first *errorList
		ok := false
		for _, g := range t.GraphIDs {
			e := c.edge(api.Name, g, fd.Name)
			if e == nil {
				continue
			}
			root := &satVisit{typ: api.Name, graphs: []string{g}}
			one := &errorList{}
			if nt := c.sg.Types[fd.Type.Name()]; nt != nil {
				next := &satVisit{parent: root, field: fd.Name, args: witnessArgs(c.sg.API, fd), typ: nt.Name, graphs: []string{g}}
				if len(e.Provides) > 0 {
					next.provided = map[string]ast.SelectionSet{g: e.Provides}
				}
				c.walk([]*satVisit{next}, one)
			}
			if one.empty() {
				ok = true
				break
			}
			if first == nil {
				first = one
			}
		}
		if !ok && first != nil {
			c.errs.list = append(c.errs.list, first.list...)
		}
	}
}

// possible lists the object types subgraph gid may return for an abstract
// type, sorted: all implementations from an @interfaceObject.
func (c *satChecker) possible(typ, gid string) []string {
	k := closureKey{typ: typ, graph: gid}
	if r, ok := c.possibleMemo[k]; ok {
		return r
	}
	r := c.possibleTypes(typ, gid)
	c.possibleMemo[k] = r
	return r
}

func (c *satChecker) possibleTypes(typ, gid string) []string {
	t := c.sg.Types[typ]
	if t == nil || t.Graphs[gid] == nil {
		return nil
	}
	tg := t.Graphs[gid]
	var out []string
	if tg.InterfaceObject {
		for _, d := range c.sg.Full.PossibleTypes[typ] {
			if d.Kind == ast.Object {
				out = append(out, d.Name)
			}
		}
	} else {
		for m := range tg.Possible {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}

// walk checks every path reachable from the start visits, each distinct
// state once.
func (c *satChecker) walk(starts []*satVisit, errs *errorList) {
	seen := map[string]bool{}
	var queue []*satVisit
	push := func(v *satVisit) {
		if len(v.graphs) == 0 {
			return
		}
		if k := v.key(); !seen[k] {
			seen[k] = true
			c.states++
			queue = append(queue, v)
		}
	}
	for _, v := range starts {
		push(v)
	}
	reported := map[string]bool{}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		t := c.sg.Types[v.typ]
		apiType := c.sg.API.Types[v.typ]
		if t == nil || apiType == nil {
			continue
		}
		if t.Kind == ast.Union || t.Kind == ast.Interface {
			if c.walkAbstract(v, t, reported, errs, push) {
				continue
			}
		}
		for _, fd := range apiType.Fields {
			if strings.HasPrefix(fd.Name, "__") {
				continue
			}
			c.walkField(v, t, fd, reported, errs, push)
		}
	}
}

// walkAbstract continues a visit of an abstract type on each runtime type
// its subgraphs may return, as a planner splits by type. It reports
// whether the visit is done (else the interface's own fields are checked:
// no subgraph returns any implementation).
func (c *satChecker) walkAbstract(v *satVisit, t *schema.Type, reported map[string]bool, errs *errorList, push func(*satVisit)) bool {
	var runtime []string
	for _, g := range v.graphs {
		for _, m := range c.possible(t.Name, g) {
			runtime = addString(runtime, m)
		}
	}
	sort.Strings(runtime)
	for _, m := range runtime {
		next := &satVisit{parent: v, cond: m, typ: m}
		for _, g := range v.graphs {
			if !containsString(c.possible(t.Name, g), m) {
				continue
			}
			for _, target := range c.entryGraphs(t, m, g, v.provided[g]) {
				next.graphs = addString(next.graphs, target)
				if target == g && len(v.provided[g]) > 0 {
					if next.provided == nil {
						next.provided = map[string]ast.SelectionSet{}
					}
					next.provided[g] = narrowProvided(v.provided[g], m)
				}
			}
		}
		if len(next.graphs) == 0 && c.sg.API.Types[m] != nil {
			coord := t.Name + "/" + m
			if !reported[coord] {
				reported[coord] = true
				errs.add("SATISFIABILITY_ERROR", "", t.Name, "The following supergraph API query:\n%s\ncannot be satisfied by the subgraphs because:\n- from %s: no subgraph can be reached to resolve the implementation type of @interfaceObject type \"%s\" (a subgraph defining \"%s\" as an interface with a resolvable @key, and type \"%s\").", pathQuery(v, "... on "+m+" { __typename }"), c.names(v.graphs), t.Name, t.Name, m)
			}
		}
		push(next)
	}
	return t.Kind == ast.Union || len(runtime) > 0
}

// walkField checks one field of a visit and continues below it.
func (c *satChecker) walkField(v *satVisit, t *schema.Type, fd *ast.FieldDefinition, reported map[string]bool, errs *errorList, push func(*satVisit)) {
	next := &satVisit{parent: v, field: fd.Name, args: witnessArgs(c.sg.API, fd), typ: fd.Type.Name()}
	for _, g := range v.graphs {
		for _, r := range c.fieldResolvers(t, fd.Name, g, v.provided[g]) {
			next.graphs = addString(next.graphs, r.graph)
			if len(r.provided) > 0 {
				if next.provided == nil {
					next.provided = map[string]ast.SelectionSet{}
				}
				next.provided[r.graph] = append(next.provided[r.graph], r.provided...)
			}
		}
	}
	if len(next.graphs) == 0 {
		if t.Kind == ast.Interface {
			// Reached through the implementations instead.
			return
		}
		coord := t.Name + "." + fd.Name
		if reported[coord] {
			return
		}
		reported[coord] = true
		errs.add("SATISFIABILITY_ERROR", "", coord, "The following supergraph API query:\n%s\ncannot be satisfied by the subgraphs because:\n- from %s: cannot find field \"%s\" there, and no subgraph resolving it can be reached through a @key of \"%s\" (%s).", pathQuery(v, fd.Name), c.names(v.graphs), coord, t.Name, c.resolverNames(t, fd.Name))
		return
	}
	nt := c.sg.Types[next.typ]
	if nt == nil {
		return // a leaf
	}
	var kept []string
	for _, g := range next.graphs {
		if nt.Kind != ast.Object || nt.Graphs[g] != nil {
			kept = append(kept, g)
		}
	}
	next.graphs = kept
	if (nt.Kind == ast.Union || nt.Kind == ast.Interface) && len(kept) > 1 {
		c.checkRuntimeTypes(v, t, fd, nt, kept, reported, errs)
	}
	push(next)
}

// checkRuntimeTypes reports a shared field of abstract type whose
// subgraphs have no possible runtime type in common: they cannot resolve
// it the same way (SHAREABLE_HAS_MISMATCHED_RUNTIME_TYPES).
func (c *satChecker) checkRuntimeTypes(v *satVisit, t *schema.Type, fd *ast.FieldDefinition, nt *schema.Type, all []string, reported map[string]bool, errs *errorList) {
	// A subgraph knowing no implementation never returns an object there.
	var graphs []string
	for _, g := range all {
		if len(c.possible(nt.Name, g)) > 0 {
			graphs = append(graphs, g)
		}
	}
	if len(graphs) < 2 {
		return
	}
	common := c.possible(nt.Name, graphs[0])
	for _, g := range graphs[1:] {
		var keep []string
		for _, m := range c.possible(nt.Name, g) {
			if containsString(common, m) {
				keep = append(keep, m)
			}
		}
		common = keep
	}
	coord := t.Name + "." + fd.Name
	if len(common) > 0 || reported["runtime:"+coord] {
		return
	}
	reported["runtime:"+coord] = true
	var lines []string
	for _, g := range graphs {
		var quoted []string
		for _, m := range c.possible(nt.Name, g) {
			quoted = append(quoted, "\""+m+"\"")
		}
		lines = append(lines, fmt.Sprintf(" - in subgraph %s, types %s", c.name(g), strings.Join(quoted, ", ")))
	}
	errs.add("SHAREABLE_HAS_MISMATCHED_RUNTIME_TYPES", "", coord, "For the following supergraph API query:\n%s\nShared field \"%s\" return type \"%s\" has a non-intersecting set of possible runtime types across subgraphs. Runtime types in subgraphs are:\n%s.\nThis is not allowed as shared fields must resolve the same way in all subgraphs, and that implies at least some common runtime types between the subgraphs.", pathQuery(v, fd.Name+" { ... }"), coord, fd.Type.String(), strings.Join(lines, ";\n"))
}

// resolverNames says which subgraphs resolve a field, for messages.
func (c *satChecker) resolverNames(t *schema.Type, field string) string {
	var names []string
	for _, g := range t.GraphIDs {
		if n := c.qg.Node(t.Name, g); n != nil {
			if e := n.Fields[field]; e != nil && !e.KeyOnly {
				names = append(names, c.name(g))
			}
		}
	}
	if len(names) == 0 {
		return "no subgraph resolves it"
	}
	return "resolved in " + subgraphList(names)
}

// entryGraphs lists where an object of type name, returned by subgraph gid
// for an abstract type, can be continued: gid itself when it has a node
// for the type; from an @interfaceObject node, the subgraphs defining the
// interface with a resolvable @key (reached by a key jump) and the type,
// which tell the actual type; else the subgraphs with a resolvable key of
// the type.
func (c *satChecker) entryGraphs(abstract *schema.Type, name, gid string, provided ast.SelectionSet) []string {
	if c.qg.Node(name, gid) != nil {
		return []string{gid}
	}
	t := c.sg.Types[name]
	if t == nil {
		return nil
	}
	var out []string
	if src := c.qg.Node(abstract.Name, gid); src != nil && src.InterfaceObject {
		from := c.closure(abstract.Name, gid, provided)
		for _, j := range abstract.GraphIDs {
			n := c.qg.Node(abstract.Name, j)
			if n == nil || n.InterfaceObject || t.Graphs[j] == nil {
				continue
			}
			for _, k := range n.Keys {
				if c.canProvide(abstract.Name, k.Selection, from, gid, provided) {
					out = append(out, j)
					break
				}
			}
		}
		return out
	}
	for _, j := range t.GraphIDs {
		if n := c.qg.Node(name, j); n != nil && len(n.Keys) > 0 {
			out = append(out, j)
		}
	}
	return out
}

// closure lists the subgraphs an object of typ held in gid reaches by key
// jumps: a jump's key fields may come from any subgraph reached so far,
// nested entity fields of a key through jumps of their own. provided is
// what a @provides made available in gid.
func (c *satChecker) closure(typ, gid string, provided ast.SelectionSet) []string {
	ck := closureKey{typ, gid, c.selKey(provided)}
	if r, ok := c.closures[ck]; ok {
		return r
	}
	t := c.sg.Types[typ]
	if t == nil {
		return []string{gid}
	}
	if c.roots[typ] {
		r := append([]string(nil), t.GraphIDs...)
		c.closures[ck] = r
		return r
	}
	if c.computing[ck] || (t.Kind != ast.Object && t.Kind != ast.Interface) {
		return []string{gid}
	}
	c.computing[ck] = true
	defer delete(c.computing, ck)
	reached := []string{gid}
	for changed := true; changed; {
		changed = false
		for _, j := range t.GraphIDs {
			n := c.qg.Node(typ, j)
			if n == nil || containsString(reached, j) {
				continue
			}
			for _, k := range n.Keys {
				if c.canProvide(typ, k.Selection, reached, gid, provided) {
					reached = append(reached, j)
					changed = true
					break
				}
			}
		}
	}
	c.closures[ck] = reached
	return reached
}

// canProvide reports whether the subgraphs from can together resolve
// every field of a selection on typ (with what a @provides made available
// in graph pg).
func (c *satChecker) canProvide(typ string, sel ast.SelectionSet, from []string, pg string, provided ast.SelectionSet) bool {
	for _, x := range sel {
		switch x := x.(type) {
		case *ast.Field:
			if x.Name == "__typename" {
				continue
			}
			ok := false
			for _, g := range from {
				var target string
				var sub ast.SelectionSet
				if e := c.edge(typ, g, x.Name); e != nil {
					target = e.Target
				} else if ps, found := providedField(provided, typ, x.Name); found && g == pg {
					target, sub = c.fieldType(typ, x.Name), ps
				} else {
					continue
				}
				if len(x.SelectionSet) == 0 {
					ok = true
					break
				}
				reach := []string{g}
				if c.sg.Types[target] != nil {
					reach = c.closure(target, g, sub)
				}
				if c.canProvide(target, x.SelectionSet, reach, g, sub) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		case *ast.InlineFragment:
			cond := x.TypeCondition
			if cond == "" {
				cond = typ
			}
			known := false
			for _, g := range from {
				if c.qg.Node(cond, g) != nil {
					known = true
				}
			}
			if known && !c.canProvide(cond, x.SelectionSet, from, pg, narrowProvided(provided, cond)) {
				return false
			}
		}
	}
	return true
}

// fieldType is the named type of a supergraph field.
func (c *satChecker) fieldType(typ, field string) string {
	if t := c.sg.Types[typ]; t != nil {
		if f := t.Fields[field]; f != nil {
			return f.Def.Type.Name()
		}
	}
	return ""
}

// resolver is a subgraph resolving a field, with what a @provides on the
// field makes available below it.
type resolver struct {
	graph    string
	provided ast.SelectionSet
}

// fieldResolvers is resolvers from gid's key-jump closure, memoized.
func (c *satChecker) fieldResolvers(t *schema.Type, field, gid string, provided ast.SelectionSet) []resolver {
	closure := c.closure(t.Name, gid, provided)
	k := fieldMemoKey{typ: t.Name, field: field, closure: c.closureID(t.Name, gid, provided, closure)}
	if len(provided) > 0 {
		// What gid was given by a @provides counts in gid only. When the
		// @provides does not name the field nor change the closure, the
		// answer is the one without it - unless that is empty (an
		// @interfaceObject key might use provided fields).
		if _, named := providedField(provided, t.Name, field); !named {
			plain := c.closure(t.Name, gid, nil)
			if id := c.closureID(t.Name, gid, nil, plain); id == k.closure {
				if r := c.fieldResolvers(t, field, gid, nil); len(r) > 0 {
					return r
				}
			}
		}
		k.graph, k.provided = gid, c.selKey(provided)
	}
	if r, ok := c.fieldMemo[k]; ok {
		return r
	}
	r := c.resolvers(t, field, gid, closure, provided)
	c.fieldMemo[k] = r
	return r
}

// closureID names a closure by its sorted subgraphs.
func (c *satChecker) closureID(typ, gid string, provided ast.SelectionSet, closure []string) string {
	ck := closureKey{typ, gid, c.selKey(provided)}
	id, ok := c.closureIDs[ck]
	if !ok {
		sorted := append([]string(nil), closure...)
		sort.Strings(sorted)
		id = strings.Join(sorted, ",")
		c.closureIDs[ck] = id
	}
	return id
}

// resolvers lists the subgraphs of a closure (reached from gid) that
// resolve field of t, with their @requires satisfiable.
func (c *satChecker) resolvers(t *schema.Type, field, gid string, closure []string, provided ast.SelectionSet) []resolver {
	var out []resolver
	if sub, ok := providedField(provided, t.Name, field); ok {
		out = append(out, resolver{graph: gid, provided: sub})
	}
	for _, g := range closure {
		e := c.edge(t.Name, g, field)
		if e == nil {
			continue
		}
		if len(e.Requires) > 0 {
			// The required fields come from the subgraphs reached from
			// this one (as Apollo resolves the conditions from the node of
			// the @requires, not from where the path was before), and the
			// query resumes in this one through one of its keys.
			tg := t.Graphs[g]
			if tg == nil || len(tg.Keys) == 0 || !c.requirable(t, e.Requires, c.closure(t.Name, g, nil)) {
				continue
			}
		}
		if len(out) > 0 && out[0].graph == g {
			out[0].provided = append(out[0].provided, e.Provides...)
			continue
		}
		out = append(out, resolver{graph: g, provided: e.Provides})
	}
	if len(out) == 0 && c.viaInterfaceObject(t, field) {
		// Jump to the @interfaceObject subgraph through the interface key.
		for _, iname := range c.interfaces(t.Name) {
			itf := c.sg.Types[iname]
			if itf == nil || itf.Fields[field] == nil {
				continue
			}
			for _, j := range itf.GraphIDs {
				n := c.qg.Node(iname, j)
				if n == nil || !n.InterfaceObject || n.Fields[field] == nil {
					continue
				}
				for _, k := range n.Keys {
					if c.canProvide(t.Name, k.Selection, closure, gid, provided) {
						return []resolver{{graph: j, provided: n.Fields[field].Provides}}
					}
				}
			}
		}
	}
	return out
}

// interfaces lists the interfaces an object type implements.
func (c *satChecker) interfaces(typ string) []string {
	if d := c.sg.Full.Types[typ]; d != nil {
		return d.Interfaces
	}
	return nil
}

// viaInterfaceObject reports whether an @interfaceObject of one of the
// interfaces of t resolves field.
func (c *satChecker) viaInterfaceObject(t *schema.Type, field string) bool {
	for _, iname := range c.interfaces(t.Name) {
		itf := c.sg.Types[iname]
		if itf == nil {
			continue
		}
		for _, j := range itf.GraphIDs {
			if n := c.qg.Node(iname, j); n != nil && n.InterfaceObject {
				if e := n.Fields[field]; e != nil && !e.KeyOnly {
					return true
				}
			}
		}
	}
	return false
}

// requirable reports whether every top-level field a @requires selects is
// resolved by a subgraph of the closure (or by an @interfaceObject).
func (c *satChecker) requirable(t *schema.Type, sel ast.SelectionSet, closure []string) bool {
	for _, x := range sel {
		fd, ok := x.(*ast.Field)
		if !ok {
			continue
		}
		if t.Fields[fd.Name] == nil {
			return false
		}
		found := false
		for _, g := range closure {
			if c.edge(t.Name, g, fd.Name) != nil {
				found = true
				break
			}
		}
		if !found && !c.viaInterfaceObject(t, fd.Name) {
			return false
		}
	}
	return true
}

// witnessArgs prints the required arguments of a field with a value of
// their type, as Apollo's messages do, so that the query is a valid
// document: "(id: \"<any id>\")", or "" when there are none.
func witnessArgs(api *ast.Schema, fd *ast.FieldDefinition) string {
	var parts []string
	for _, a := range fd.Arguments {
		if a.Type.NonNull && a.DefaultValue == nil {
			parts = append(parts, a.Name+": "+witness(api, a.Type, 0))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// witness prints a value of an input type.
func witness(api *ast.Schema, t *ast.Type, depth int) string {
	if t.Elem != nil {
		return "[]"
	}
	switch t.NamedType {
	case "ID":
		return `"<any id>"`
	case "String":
		return `"A string value"`
	case "Int":
		return "0"
	case "Float":
		return "3.14"
	case "Boolean":
		return "true"
	}
	d := api.Types[t.NamedType]
	switch {
	case d == nil:
		return "null"
	case d.Kind == ast.Enum && len(d.EnumValues) > 0:
		return d.EnumValues[0].Name
	case d.Kind == ast.InputObject && depth < 8:
		var parts []string
		for _, f := range d.Fields {
			if f.Type.NonNull && f.DefaultValue == nil {
				parts = append(parts, f.Name+": "+witness(api, f.Type, depth+1))
			}
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return `"<any value>"`
}

// pathQuery prints the query that reaches a visit and then selects field.
func pathQuery(v *satVisit, field string) string {
	var steps []string
	root := ""
	for x := v; x != nil; x = x.parent {
		switch {
		case x.cond != "":
			steps = append(steps, "... on "+x.cond)
		case x.field != "":
			steps = append(steps, x.field+x.args)
		}
		if x.parent == nil {
			root = x.typ
		}
	}
	var b strings.Builder
	if root != "Query" {
		b.WriteString(strings.ToLower(root) + " ")
	}
	b.WriteString("{\n")
	indent := "  "
	for i := len(steps) - 1; i >= 0; i-- {
		b.WriteString(indent + steps[i] + " {\n")
		indent += "  "
	}
	b.WriteString(indent + field + "\n")
	for range steps {
		indent = indent[2:]
		b.WriteString(indent + "}\n")
	}
	b.WriteString("}")
	return b.String()
}
