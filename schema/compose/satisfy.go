package compose

import (
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
// @requires conditions resolvable from that node the same way (as
// Apollo's composition does). Every field of every
// reachable state must be reachable, or the query that leads there is
// reported with SATISFIABILITY_ERROR.
//
// States are memoized by (type, subgraph set, provided fields), key-jump
// closures by (type, subgraph, provided fields), so the work is bounded by
// the distinct states, not by the number of paths. satisfy_reach.go
// holds the reachability questions, satisfy_report.go the messages.

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
