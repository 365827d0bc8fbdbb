package planner

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// mergeLevels joins the entity fetches of a query that can run at the same
// time, go to the same subgraph and send the same kind of representation:
// one _entities call then serves several response paths. Subgraphs see
// fewer, larger requests (a fetch per subgraph and level instead of one
// per path), which is what bounds throughput when the answers are cheap.
func (b *builder) mergeLevels() {
	if b.op.Kind != ast.Query {
		return
	}
	level := levels(b.groups, nil)
	sigs := signatures{m: map[*group]map[string]string{}, possible: b.sg.Full.PossibleTypes}
	// Only fetches that could be merged (another entity fetch to their
	// subgraph) need to know their types.
	perGraph := map[string]int{}
	for _, g := range b.groups {
		if g.entity {
			perGraph[g.graph]++
		}
	}
	for _, g := range b.groups {
		if g.entity && perGraph[g.graph] > 1 {
			g.present = b.presentTypes(g)
			g.collects = b.collectedTypes(g)
		}
	}
	// A fetch nothing waits for may run later, beside a fetch to the same
	// subgraph that it can join.
	hasDependents := map[*group]bool{}
	for _, g := range b.groups {
		for _, d := range g.deps {
			hasDependents[d] = true
		}
	}
	for _, g := range b.groups {
		if !g.entity || hasDependents[g] {
			continue
		}
		for _, c := range b.groups {
			if c != g && c.entity && c.graph == g.graph && c.part == g.part && level[c] > level[g] && sigs.mergeable(c, g) {
				level[g] = level[c]
			}
		}
	}
	type slot struct {
		level int
		graph string
	}
	firsts := map[slot][]*group{}
	merged := map[*group]*group{}
	for _, g := range b.groups {
		if !g.entity {
			continue
		}
		k := slot{level[g], g.graph}
		var into *group
		for _, c := range firsts[k] {
			if sigs.mergeable(c, g) {
				into = c
				break
			}
		}
		if into == nil {
			firsts[k] = append(firsts[k], g)
			continue
		}
		into.paths = append(into.paths, g.paths...)
		for _, typ := range g.reqOrder {
			if _, ok := into.reqs[typ]; !ok {
				into.reqOrder = append(into.reqOrder, typ)
				into.reqs[typ] = g.reqs[typ]
				into.repType[typ] = g.repType[typ]
			}
		}
		mergeSubSel(into.sel, g.sel)
		if into.present != nil && g.present != nil {
			for t := range g.present {
				into.present[t] = true
			}
		} else {
			into.present = nil
		}
		for t := range g.collects {
			into.collects[t] = true
		}
		delete(sigs.m, into)
		for _, d := range g.deps {
			into.deps = appendUnique(into.deps, d)
		}
		merged[g] = into
	}
	if len(merged) == 0 {
		return
	}
	kept := b.groups[:0]
	for _, g := range b.groups {
		if merged[g] != nil {
			continue
		}
		deps := g.deps[:0:0]
		for _, d := range g.deps {
			if m := merged[d]; m != nil {
				d = m
			}
			deps = appendUnique(deps, d)
		}
		g.deps = deps
		if m := merged[g.parent]; m != nil {
			g.parent = m
		}
		kept = append(kept, g)
	}
	b.groups = kept
}

// mergeable reports whether one entity fetch can serve both a's and b's
// paths: for every type both ask for, the same representation and the same
// selection. A fetch serving several paths sends the selection of a type
// for every object of that type it collects, so a union of different
// selections would ask the subgraph for fields a path did not select (and
// run their resolvers). A type only one of them asks for must not occur at
// the other's paths (present), or the merged fetch would collect the
// other path's objects of that type too and answer them the first path's
// selection.
func mergeable(a, b *group) bool { return signatures{}.mergeable(a, b) }

// signatures caches typeSignature per group and type during one merge
// pass (a group's entry is dropped when another is merged into it), and
// knows the possible types of abstract types.
type signatures struct {
	m        map[*group]map[string]string
	possible map[string][]*ast.Definition
}

func (s signatures) of(g *group, typ string) string {
	if s.m == nil {
		return typeSignature(g.sel, typ)
	}
	m := s.m[g]
	if m == nil {
		m = map[string]string{}
		s.m[g] = m
	}
	sig, ok := m[typ]
	if !ok {
		sig = typeSignature(g.sel, typ)
		m[typ] = sig
	}
	return sig
}

func (s signatures) mergeable(a, b *group) bool {
	if a.part != b.part || len(a.contexts) > 0 || len(b.contexts) > 0 || !compatibleRequirements(a, b) || !apart(a, b) || !apart(b, a) {
		return false
	}
	for _, typ := range b.reqOrder {
		if _, ok := a.reqs[typ]; !ok {
			continue
		}
		if s.of(a, typ) != s.of(b, typ) {
			return false
		}
	}
	// The selections may be on other types than the representations (an
	// interface entity is selected on as the interface): a selection
	// type of one that the other selects on too must select the same,
	// and one that shares objects with another selection type of the
	// other (an interface and its implementation) cannot be merged.
	for _, tb := range b.sel.types {
		for _, ta := range a.sel.types {
			if ta.typ == tb.typ {
				if s.of(a, ta.typ) != s.of(b, tb.typ) {
					return false
				}
			} else if s.overlap(ta.typ, tb.typ) {
				return false
			}
		}
	}
	return true
}

// overlap reports whether an object can be of both types x and y.
func (s signatures) overlap(x, y string) bool {
	in := func(t, obj string) bool {
		if t == obj {
			return true
		}
		for _, p := range s.possible[t] {
			if p.Name == obj {
				return true
			}
		}
		return false
	}
	if in(x, y) || in(y, x) {
		return true
	}
	for _, p := range s.possible[x] {
		if in(y, p.Name) {
			return true
		}
	}
	return false
}

// apart reports whether every type b's fetch collects that a's does not
// is absent from a's paths.
func apart(a, b *group) bool {
	for t := range b.collects {
		if !a.collects[t] && (a.present == nil || a.present[t]) {
			return false
		}
	}
	return true
}

// presentTypes lists the object types that can occur at g's path: the
// possible types of the static type of the selections its
// representations are read from; nil when unknown.
func (b *builder) presentTypes(g *group) map[string]bool {
	out := map[string]bool{}
	for _, ps := range g.parentSel {
		if ps == nil || ps.owner == nil || ps.owner.typ == "" {
			return nil
		}
		out[ps.owner.typ] = true
		for _, p := range b.sg.Full.PossibleTypes[ps.owner.typ] {
			out[p.Name] = true
		}
	}
	return out
}

// collectedTypes lists the object types whose objects g's fetch turns
// into representations: the types it asks for and, for an interface,
// their possible types (see emit).
func (b *builder) collectedTypes(g *group) map[string]bool {
	out := map[string]bool{}
	for _, typ := range g.reqOrder {
		out[typ] = true
		for _, p := range b.sg.Full.PossibleTypes[typ] {
			out[p.Name] = true
		}
	}
	return out
}

// typeSignature writes the part of an entity selection for one type, with
// field keys, names and arguments.
func typeSignature(s *subSel, typ string) string {
	var b strings.Builder
	for _, ts := range s.types {
		if ts.typ == typ {
			writeFieldsSignature(&b, ts.fields)
		}
	}
	return b.String()
}

func writeSelectionSignature(b *strings.Builder, s *subSel) {
	if s == nil {
		return
	}
	types := make([]*typeSel, len(s.types))
	copy(types, s.types)
	sort.Slice(types, func(i, j int) bool { return types[i].typ < types[j].typ })
	for _, ts := range types {
		if len(ts.fields) == 0 {
			continue
		}
		b.WriteString(ts.typ)
		b.WriteByte('{')
		writeFieldsSignature(b, ts.fields)
		b.WriteByte('}')
	}
}

func writeFieldsSignature(b *strings.Builder, fields []*subField) {
	for _, f := range fields {
		if f.fragment {
			b.WriteString("...{")
			writeSelectionSignature(b, f.sub)
			b.WriteByte('}')
			continue
		}
		fmt.Fprintf(b, "%s:%s(%s)", f.key, f.name, argsString(f.args))
		if f.sub != nil {
			b.WriteByte('{')
			writeSelectionSignature(b, f.sub)
			b.WriteByte('}')
		}
		b.WriteByte(' ')
	}
}

// compatibleRequirements reports whether two entity fetches send the same
// representation for every type they both ask for.
func compatibleRequirements(a, b *group) bool {
	for _, typ := range b.reqOrder {
		if _, ok := a.reqs[typ]; !ok {
			continue
		}
		if a.repType[typ] != b.repType[typ] || requiredSignature(a.reqs[typ]) != requiredSignature(b.reqs[typ]) {
			return false
		}
	}
	return true
}

func requiredSignature(fields []*RequiredField) string {
	var s strings.Builder
	writeRequiredSignature(&s, fields)
	return s.String()
}

func writeRequiredSignature(s *strings.Builder, fields []*RequiredField) {
	for _, f := range fields {
		fmt.Fprintf(s, "%s:%s:%s:%s(", f.Name, f.Key, f.TypeCondition, f.args)
		writeRequiredSignature(s, f.Fields)
		s.WriteString(")")
	}
}

// mergeSubSel adds the selections of src to dst.
func mergeSubSel(dst, src *subSel) {
	for _, sts := range src.types {
		dts := dst.forType(sts.typ)
		for _, f := range sts.fields {
			if f.fragment {
				var frag *subField
				for _, df := range dts.fields {
					if df.fragment {
						frag = df
					}
				}
				if frag == nil {
					dts.fields = append(dts.fields, f)
					continue
				}
				mergeSubSel(frag.sub, f.sub)
				continue
			}
			var mk func() *subSel
			if f.sub != nil {
				mk = func() *subSel { return &subSel{typ: f.sub.typ, abstract: f.sub.abstract} }
			}
			df := dts.add(f.key, f.name, f.args, mk)
			if df.field == nil {
				df.field = f.field
			}
			if f.sub != nil {
				mergeSubSel(df.sub, f.sub)
			}
		}
	}
}

// levels gives every group (of members, when not nil) its distance from
// the fetches it transitively waits for: 0 for a fetch that waits for
// none, else one more than its latest dependency.
func levels(groups []*group, members map[*group]bool) map[*group]int {
	level := map[*group]int{}
	var levelOf func(g *group) int
	levelOf = func(g *group) int {
		if l, ok := level[g]; ok {
			return l
		}
		level[g] = 0
		l := 0
		for _, d := range g.deps {
			if members == nil || members[d] {
				if dl := levelOf(d) + 1; dl > l {
					l = dl
				}
			}
		}
		level[g] = l
		return l
	}
	for _, g := range groups {
		if members == nil || members[g] {
			levelOf(g)
		}
	}
	return level
}
