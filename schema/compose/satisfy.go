package compose

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// The satisfiability check walks the API schema from its root types the
// way a query planner would: a state is "an object of type T fetched from
// subgraph S". From a state, a field is reachable when S resolves it, or
// when another subgraph resolving it can be reached by @key jumps whose
// key fields S (or a subgraph reached before) can provide, and the
// field's @requires can be fetched the same way. Every field of every
// reachable state must be reachable, or the query that leads there is
// reported with SATISFIABILITY_ERROR.
//
// It is a per-type simplification of Apollo's graph-based validation: it
// does not track @provides per path (a provided field counts as available
// wherever its subgraph returns the type), nor the shareable-field
// runtime-type checks.

type state struct {
	typ      string
	subgraph int
}

// visit is one path of the API schema with the states it may be in: the
// planner may pick any of them.
type visit struct {
	parent *visit
	field  string // response path element leading here
	cond   string // type condition when entering an implementation
	typ    string
	graphs []int
}

func (v *visit) key() string {
	ids := make([]string, len(v.graphs))
	for i, g := range v.graphs {
		ids[i] = strconv.Itoa(g)
	}
	sort.Strings(ids)
	return v.typ + ":" + strings.Join(ids, ",")
}

func addGraph(list []int, g int) []int {
	for _, x := range list {
		if x == g {
			return list
		}
	}
	return append(list, g)
}

// checkSatisfiability checks the API schema once per state of the
// progressive @override labels: each label on and off (every combination
// for up to four labels).
func (s *supergraph) checkSatisfiability(sg *schema.Supergraph, errs *errorList) {
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
		s.labels = state
		s.checkSatisfiabilityOnce(sg, errs)
	}
	s.labels = nil
}

// activeNow reports whether subgraph i resolves field f under the
// current @override label state.
func (s *supergraph) activeNow(f *mField, i int) bool {
	sf := f.sources[i]
	if sf == nil {
		return false
	}
	if l, ok := strings.CutPrefix(f.overriddenIn(i), "label:"); ok {
		return !s.labels[l]
	}
	if sf.overrideLabel != "" && s.effectiveOverride(f, sf) && validOverrideLabel(sf.overrideLabel) {
		return s.labels[sf.overrideLabel]
	}
	return f.active(i)
}

func (s *supergraph) checkSatisfiabilityOnce(sg *schema.Supergraph, errs *errorList) {
	var starts []*visit
	for _, root := range s.roots {
		if root == "Mutation" {
			continue
		}
		v := &visit{typ: root}
		for i, st := range s.types[root].sources {
			if st != nil {
				v.graphs = append(v.graphs, i)
			}
		}
		starts = append(starts, v)
	}
	s.walk(sg, starts, errs)
	if containsString(s.roots, "Mutation") {
		s.checkMutations(sg, errs)
	}
}

// checkMutations checks each top-level mutation field from each subgraph
// resolving it on its own: a mutation is never called in two subgraphs,
// so one of them must satisfy every query below the field.
func (s *supergraph) checkMutations(sg *schema.Supergraph, errs *errorList) {
	t := s.types["Mutation"]
	api := sg.API.Types["Mutation"]
	if api == nil {
		return
	}
	for _, f := range t.fields {
		if api.Fields.ForName(f.name) == nil {
			continue
		}
		var first *errorList
		ok := false
		for g, sf := range f.sources {
			if sf == nil || sf.external || !s.activeNow(f, g) {
				continue
			}
			root := &visit{typ: "Mutation", graphs: []int{g}}
			one := &errorList{}
			if nt := s.types[f.typ.Name()]; nt != nil && nt.kind != ast.Enum && nt.kind != ast.Scalar {
				s.walk(sg, []*visit{{parent: root, field: f.name, typ: nt.name, graphs: []int{g}}}, one)
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
			for _, e := range first.list {
				errs.list = append(errs.list, e)
			}
		}
	}
}

// walk checks every path reachable from the start visits.
func (s *supergraph) walk(sg *schema.Supergraph, starts []*visit, errs *errorList) {
	seen := map[string]bool{}
	closures := map[state][]int{}
	var queue []*visit
	push := func(v *visit) {
		if len(v.graphs) == 0 {
			return
		}
		if k := v.key(); !seen[k] {
			seen[k] = true
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
		t := s.types[v.typ]
		if t == nil || sg.API.Types[t.name] == nil {
			continue
		}
		if t.kind == ast.Union || t.kind == ast.Interface {
			var runtime []string
			for _, g := range v.graphs {
				for _, m := range s.possible(t, g) {
					if !containsString(runtime, m) {
						runtime = append(runtime, m)
					}
				}
			}
			for _, m := range runtime {
				next := &visit{parent: v, cond: m, typ: m}
				for _, g := range v.graphs {
					if containsString(s.possible(t, g), m) {
						for _, target := range s.entryGraphs(t, m, g, closures) {
							next.graphs = addGraph(next.graphs, target)
						}
					}
				}
				if len(next.graphs) == 0 && sg.API.Types[m] != nil {
					coord := t.name + "/" + m
					if !reported[coord] {
						reported[coord] = true
						var from []string
						for _, g := range v.graphs {
							from = append(from, "\""+s.subgraphs[g].name+"\"")
						}
						errs.add("SATISFIABILITY_ERROR", "", t.name, "The following supergraph API query:\n%s\ncannot be satisfied by the subgraphs because:\n- from %s: no subgraph can be reached to resolve the implementation type of @interfaceObject type \"%s\" (a subgraph defining \"%s\" as an interface with a resolvable @key, and type \"%s\").", s.pathQuery(v, "... on "+m+" { __typename }"), subgraphList(from), t.name, t.name, m)
					}
				}
				push(next)
			}
			// Fields of an interface are checked on each implementation a
			// subgraph may return, as a planner splits by type.
			if t.kind == ast.Union || len(runtime) > 0 {
				continue
			}
		}
		apiType := sg.API.Types[t.name]
		for _, f := range t.fields {
			if apiType.Fields.ForName(f.name) == nil {
				continue
			}
			next := &visit{parent: v, field: f.name, typ: f.typ.Name()}
			for _, g := range v.graphs {
				closure := s.closure(state{t.name, g}, closures)
				for _, r := range s.resolvers(t, f, closure, closures) {
					next.graphs = addGraph(next.graphs, r)
				}
			}
			if len(next.graphs) == 0 {
				if t.kind == ast.Interface {
					// Reached through the implementations instead.
					continue
				}
				coord := t.name + "." + f.name
				if reported[coord] {
					continue
				}
				reported[coord] = true
				var from []string
				for _, g := range v.graphs {
					from = append(from, "\""+s.subgraphs[g].name+"\"")
				}
				errs.add("SATISFIABILITY_ERROR", "", coord, "The following supergraph API query:\n%s\ncannot be satisfied by the subgraphs because:\n- from %s: cannot find field \"%s\" there, and no subgraph resolving it can be reached through a @key of \"%s\" (%s).", s.pathQuery(v, f.name), subgraphList(from), coord, t.name, s.resolverNames(f))
				continue
			}
			nt := s.types[next.typ]
			if nt == nil || nt.kind == ast.Enum || nt.kind == ast.Scalar || nt.kind == ast.InputObject {
				continue
			}
			var kept []int
			for _, g := range next.graphs {
				if nt.kind != ast.Object || nt.sources[g] != nil {
					kept = append(kept, g)
				}
			}
			next.graphs = kept
			if (nt.kind == ast.Union || nt.kind == ast.Interface) && len(kept) > 1 {
				s.checkRuntimeTypes(v, t, f, nt, kept, reported, errs)
			}
			push(next)
		}
	}
}

// checkRuntimeTypes reports a shared field of abstract type whose
// subgraphs have no possible runtime type in common: they cannot resolve
// it the same way (SHAREABLE_HAS_MISMATCHED_RUNTIME_TYPES).
func (s *supergraph) checkRuntimeTypes(v *visit, t *mType, f *mField, nt *mType, all []int, reported map[string]bool, errs *errorList) {
	// A subgraph knowing no implementation never returns an object there.
	var graphs []int
	for _, g := range all {
		if len(s.possible(nt, g)) > 0 {
			graphs = append(graphs, g)
		}
	}
	if len(graphs) < 2 {
		return
	}
	common := s.possible(nt, graphs[0])
	for _, g := range graphs[1:] {
		var keep []string
		for _, m := range s.possible(nt, g) {
			if containsString(common, m) {
				keep = append(keep, m)
			}
		}
		common = keep
	}
	coord := t.name + "." + f.name
	if len(common) > 0 || reported["runtime:"+coord] {
		return
	}
	reported["runtime:"+coord] = true
	var lines []string
	for _, g := range graphs {
		lines = append(lines, fmt.Sprintf(" - in subgraph \"%s\", types %s", s.subgraphs[g].name, strings.Join(quoteAll(s.possible(nt, g)), ", ")))
	}
	errs.add("SHAREABLE_HAS_MISMATCHED_RUNTIME_TYPES", "", coord, "For the following supergraph API query:\n%s\nShared field \"%s\" return type \"%s\" has a non-intersecting set of possible runtime types across subgraphs. Runtime types in subgraphs are:\n%s.\nThis is not allowed as shared fields must resolve the same way in all subgraphs, and that implies at least some common runtime types between the subgraphs.", s.pathQuery(v, f.name+" { ... }"), coord, f.typ.String(), strings.Join(lines, ";\n"))
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, x := range list {
		out[i] = "\"" + x + "\""
	}
	return out
}

func (s *supergraph) resolverNames(f *mField) string {
	var names []string
	for i, sf := range f.sources {
		if sf != nil && !sf.external {
			names = append(names, "\""+s.subgraphs[i].name+"\"")
		}
	}
	if len(names) == 0 {
		return "no subgraph resolves it"
	}
	return "resolved in " + subgraphList(names)
}

// possible lists the object types subgraph i may return for an abstract type.
func (s *supergraph) possible(t *mType, i int) []string {
	st := t.sources[i]
	var out []string
	if st == nil {
		return nil
	}
	if t.kind == ast.Union {
		return st.members
	}
	for _, impl := range s.implementations(t.name) {
		ot := s.types[impl]
		if st.interfaceObject {
			out = append(out, impl)
			continue
		}
		if ot.sources[i] != nil && containsString(ot.sources[i].interfaces, t.name) {
			out = append(out, impl)
		}
	}
	return out
}

// entryGraphs lists where an object of type name, returned by subgraph i
// for abstract type abstract, can be continued: subgraph i itself when it
// defines the type; from an @interfaceObject subgraph, the subgraphs
// defining the interface with a resolvable @key (reachable from i) and the
// type, which tell the actual type.
func (s *supergraph) entryGraphs(abstract *mType, name string, i int, cache map[state][]int) []int {
	t := s.types[name]
	if t.sources[i] != nil {
		return []int{i}
	}
	var out []int
	if src := abstract.sources[i]; src != nil && src.interfaceObject {
		from := s.closure(state{abstract.name, i}, cache)
		for j, st := range abstract.sources {
			if st == nil || st.interfaceObject || st.kind != ast.Interface || t.sources[j] == nil {
				continue
			}
			for _, key := range st.keys {
				if key.resolvable && key.sel != nil && s.canProvide(abstract.name, key.sel, from, cache) {
					out = append(out, j)
					break
				}
			}
		}
		return out
	}
	for j, st := range t.sources {
		if st != nil && hasResolvableKey(st) {
			out = append(out, j)
		}
	}
	return out
}

func hasResolvableKey(st *sType) bool {
	for _, k := range st.keys {
		if k.resolvable {
			return true
		}
	}
	return false
}

// closure lists the subgraphs reachable from a state by @key jumps. The
// key fields may come from any subgraph reached so far, nested entity
// fields of a key through jumps of their own.
func (s *supergraph) closure(st state, cache map[state][]int) []int {
	if c, ok := cache[st]; ok {
		return c
	}
	t := s.types[st.typ]
	if containsString(s.roots, st.typ) {
		var all []int
		for i, src := range t.sources {
			if src != nil {
				all = append(all, i)
			}
		}
		cache[st] = all
		return all
	}
	if s.computing == nil {
		s.computing = map[state]bool{}
	}
	if s.computing[st] || t.kind != ast.Object && t.kind != ast.Interface {
		return []int{st.subgraph}
	}
	s.computing[st] = true
	defer delete(s.computing, st)
	reached := []int{st.subgraph}
	for changed := true; changed; {
		changed = false
		for j, src := range t.sources {
			if src == nil || containsInt(reached, j) {
				continue
			}
			for _, key := range src.keys {
				if key.resolvable && key.sel != nil && s.canProvide(t.name, key.sel, reached, cache) {
					reached = append(reached, j)
					changed = true
					break
				}
			}
		}
	}
	cache[st] = reached
	return reached
}

func containsInt(list []int, x int) bool {
	for _, v := range list {
		if v == x {
			return true
		}
	}
	return false
}

// available reports whether subgraph i resolves field of typeName.
func (s *supergraph) available(typeName, field string, i int) (*sField, bool) {
	sg := s.subgraphs[i]
	f := sg.types[typeName].field(field)
	if f == nil || (f.external && !sg.provided(typeName, f.name)) {
		return nil, false
	}
	if mf := s.types[typeName].field(field); mf != nil && !s.activeNow(mf, i) {
		return nil, false
	}
	return f, true
}

// canProvide reports whether the subgraphs from can together resolve
// every field of a selection on type typeName.
func (s *supergraph) canProvide(typeName string, sel ast.SelectionSet, from []int, cache map[state][]int) bool {
	for _, x := range sel {
		switch x := x.(type) {
		case *ast.Field:
			if x.Name == "__typename" {
				continue
			}
			ok := false
			for _, i := range from {
				f, found := s.available(typeName, x.Name, i)
				if !found {
					continue
				}
				if len(x.SelectionSet) == 0 {
					ok = true
					break
				}
				nested := f.typ.Name()
				reach := []int{i}
				if s.types[nested] != nil {
					reach = s.closure(state{nested, i}, cache)
				}
				if s.canProvide(nested, x.SelectionSet, reach, cache) {
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
				cond = typeName
			}
			known := false
			for _, i := range from {
				if s.subgraphs[i].types[cond] != nil {
					known = true
				}
			}
			if known && !s.canProvide(cond, x.SelectionSet, from, cache) {
				return false
			}
		}
	}
	return true
}

// resolvers lists the subgraphs of a closure that resolve field f of t,
// with their @requires satisfiable.
func (s *supergraph) resolvers(t *mType, f *mField, closure []int, cache map[state][]int) []int {
	var out []int
	for _, i := range closure {
		sg := s.subgraphs[i]
		sf := f.sources[i]
		if sf == nil {
			// A field of an @interfaceObject reaches the implementations.
			if f.fromInterfaceObject {
				for _, iname := range t.interfaces {
					itf := s.types[iname]
					if itf != nil && itf.sources[i] == nil {
						continue
					}
				}
			}
			continue
		}
		if !s.activeNow(f, i) {
			continue
		}
		if sf.external && !sg.provided(t.name, f.name) {
			continue
		}
		if sf.requires != "" {
			// The required fields come from other subgraphs, and the query
			// resumes in this one through one of its keys.
			sel, err := parseFieldSet(sf.requires)
			if err != nil || !s.requirable(t, sel, s.closure(state{t.name, i}, cache), i) || len(t.sources[i].keys) == 0 {
				continue
			}
		}
		out = append(out, i)
	}
	if len(out) == 0 && (f.fromInterfaceObject || s.viaInterfaceObject(f)) {
		// Jump to the @interfaceObject subgraph through the interface key.
		for _, iname := range t.interfaces {
			itf := s.types[iname]
			if itf == nil {
				continue
			}
			itfField := itf.field(f.name)
			if itfField == nil {
				continue
			}
			for j, st := range itf.sources {
				if st == nil || !st.interfaceObject || itfField.sources[j] == nil {
					continue
				}
				for _, key := range st.keys {
					if key.resolvable && key.sel != nil && s.canProvide(t.name, key.sel, closure, cache) {
						return []int{j}
					}
				}
			}
		}
	}
	return out
}

// requirable reports whether every top-level field a @requires selects is
// resolved by a subgraph other than i that the closure reaches.
func (s *supergraph) requirable(t *mType, sel ast.SelectionSet, closure []int, i int) bool {
	for _, x := range sel {
		fd, ok := x.(*ast.Field)
		if !ok {
			continue
		}
		f := t.field(fd.Name)
		if f == nil {
			return false
		}
		found := false
		for _, j := range closure {
			if sf := f.sources[j]; sf != nil && !sf.external && s.activeNow(f, j) {
				found = true
				break
			}
		}
		if !found && !s.viaInterfaceObject(f) {
			return false
		}
	}
	return true
}

// pathQuery prints the query that reaches a state and then selects field.
func (s *supergraph) pathQuery(v *visit, field string) string {
	var steps []string
	for x := v; x != nil; x = x.parent {
		switch {
		case x.cond != "":
			steps = append(steps, "... on "+x.cond)
		case x.field != "":
			steps = append(steps, x.field)
		}
	}
	root := ""
	for x := v; x != nil; x = x.parent {
		if x.parent == nil {
			root = x.typ
		}
	}
	var b strings.Builder
	indent := ""
	if root != "Query" {
		b.WriteString(strings.ToLower(root) + " ")
	}
	b.WriteString("{\n")
	indent = "  "
	for i := len(steps) - 1; i >= 0; i-- {
		b.WriteString(indent + steps[i] + " {\n")
		indent += "  "
	}
	b.WriteString(indent + field + "\n")
	for i := 0; i < len(steps); i++ {
		indent = indent[2:]
		b.WriteString(indent + "}\n")
	}
	b.WriteString("}")
	return fmt.Sprint(b.String())
}
