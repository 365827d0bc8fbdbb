package graphgen

import (
	"fmt"
	"sort"
	"strings"
)

// shapes17 adds the Federation shapes of session 17, drawn after every
// earlier draw (session 16's shapes included) so a seed keeps the graph
// earlier runs used and gains these: an entity whose keys differ per
// subgraph so that reaching a field takes a chain of key jumps (A knows
// id, B id and sn, C sn and code, D code), an entity keyed by a field of
// another entity (`id org { id }`, maybe `org { id region { code } }`), an
// input-only enum and an input object whose values and fields differ per
// subgraph (composition keeps the values and optional fields every
// subgraph has), progressive @override with custom labels and fractional
// percentages, and a custom directive composed with @composeDirective.
// Last, @provides three levels deep (`ref { ref2 { leaf } }`) through
// entities of other subgraphs, and a compound key whose fields two
// other subgraphs supply (Crew: id from one, berth { code } from another). With Features.Contexts, a context set on an abstract type (an
// interface, a union, or two implementations under one name) and read two
// entity hops below it. With Features.Authorization, @requiresScopes and @policy that differ
// per subgraph on one @shareable field (composition merges them).
func (g *gen) shapes17() {
	if len(g.subs) >= 3 && g.chance(2) {
		g.keyChain()
	}
	if g.chance(2) {
		g.entityKey()
	}
	if g.chance(2) {
		g.inputEnums()
	}
	for i := 0; i < g.pick(3); i++ {
		g.labelledOverride()
	}
	if g.chance(3) {
		g.composedDirective()
	}
	if g.feat.Authorization && g.chance(2) {
		g.mergedScopes()
	}
	if g.feat.Contexts && g.chance(3) {
		g.deepContexts()
	}
	for i := 0; i < g.pick(3); i++ {
		g.deepProvides()
	}
	if len(g.subs) >= 3 && g.chance(2) {
		g.splitKey()
	}
}

// keyChain adds an entity Part that each of three or four subgraphs
// knows by other keys: the first by id, the second by id and sn, the
// third by sn and code, a fourth by code alone. A field of the last is
// reached from the first's root field through every subgraph between,
// and a field of the last returning Part leads the whole way back.
func (g *gen) keyChain() {
	n := 3
	if len(g.subs) >= 4 && g.chance(2) {
		n = 4
	}
	chain := g.r.Perm(len(g.subs))[:n]
	keys := [][]string{{"id"}, {"id", "sn"}, {"sn", "code"}, {"code"}}
	if n == 3 && g.chance(2) {
		// The third by sn alone.
		keys[2] = []string{"sn"}
	}
	types := map[string]string{"id": "ID!", "sn": "String!", "code": "Int!"}
	var last *typeDef
	for i, s := range chain {
		t := g.subs[s].add(&typeDef{kind: "type", name: "Part"})
		for _, k := range keys[i] {
			t.dirs = append(t.dirs, fmt.Sprintf("@key(fields: %q)", k))
		}
		for _, k := range []string{"id", "sn", "code"} {
			if contains(keys[i], k) {
				t.fields = append(t.fields, &field{name: k, typ: types[k]})
			}
		}
		t.fields = append(t.fields, &field{name: g.fresh("part" + g.subs[s].name), typ: g.wrap([]string{"Int", "String", "Float"}[g.pick(3)])})
		last = t
	}
	// Back: the last subgraph's Part leads to other Parts, whose first
	// subgraph's fields take the chain in reverse.
	last.fields = append(last.fields, &field{name: g.fresh("next"), typ: g.wrap("Part")})
	first := chain[0]
	g.query(first).fields = append(g.query(first).fields, &field{name: g.fresh("parts"), args: "(first: Int = 2)", typ: "[Part!]!"})
	if g.chance(2) {
		// A root field in the last subgraph too: the chain from its end.
		s := chain[n-1]
		g.query(s).fields = append(g.query(s).fields, &field{name: g.fresh("part"), args: "(code: Int!)", typ: "Part"})
	}
	// An entity of the first subgraph may return Parts.
	for _, e := range g.usableIn(first) {
		if t := g.subs[first].get(e.name); t != nil && g.isOwner(first, e) && !resolvableFalse(t) && !e.altOnly[first] && g.chance(2) {
			t.fields = append(t.fields, &field{name: g.fresh("parts"), typ: g.wrap("Part")})
			break
		}
	}
}

// entityKey adds an entity Org and an entity Team keyed by a field
// returning Org: `@key(fields: "id org { id }")`, or deeper through a
// value type of Org (`id org { id region { code } }`). Two subgraphs
// resolve Team; one of them maybe knows Org only as a reference.
func (g *gen) entityKey() {
	if len(g.subs) < 2 {
		return
	}
	p := g.r.Perm(len(g.subs))
	a, b := p[0], p[1]
	deep := g.chance(3)
	key := "id org { id }"
	if deep {
		key = "id org { id region { code } }"
	}
	if g.chance(3) {
		key = strings.Replace(key, "id org", "org", 1) + " num"
	}
	orgFields := func() []*field {
		fs := []*field{{name: "id", typ: "ID!"}}
		if deep {
			fs = append(fs, &field{name: "region", typ: "Region!"})
		}
		return fs
	}
	region := func(s int) {
		if deep && g.subs[s].get("Region") == nil {
			g.subs[s].add(&typeDef{kind: "type", name: "Region", dirs: []string{"@shareable"}, fields: []*field{{name: "code", typ: "String!"}}})
		}
	}
	team := func(s int, own *field) *typeDef {
		t := g.subs[s].add(&typeDef{kind: "type", name: "Team", dirs: []string{fmt.Sprintf("@key(fields: %q)", key)}})
		if strings.Contains(key, "num") {
			t.fields = append(t.fields, &field{name: "num", typ: "Int!"})
		}
		if strings.HasPrefix(key, "id ") {
			t.fields = append(t.fields, &field{name: "id", typ: "ID!"})
		}
		t.fields = append(t.fields, &field{name: "org", typ: "Org!"}, own)
		return t
	}
	// a owns Org and resolves Team.
	org := g.subs[a].add(&typeDef{kind: "type", name: "Org", dirs: []string{`@key(fields: "id")`}, fields: orgFields()})
	region(a)
	org.fields = append(org.fields, &field{name: g.fresh("title"), typ: "String"}, &field{name: "teams", typ: "[Team!]"})
	team(a, &field{name: g.fresh("name"), typ: "String"})
	// b resolves Team; Org there is a reference, or resolved too.
	bo := &typeDef{kind: "type", name: "Org", dirs: []string{`@key(fields: "id", resolvable: false)`}, fields: orgFields()}
	if g.chance(2) {
		bo.dirs = []string{`@key(fields: "id")`}
		bo.fields = append(bo.fields, &field{name: g.fresh("budget"), typ: g.wrap("Int")})
	}
	if deep {
		// region is part of Team's key in b, resolved there too.
		bo.fields[1].dirs = []string{"@shareable"}
		org.fields[1].dirs = []string{"@shareable"}
	}
	g.subs[b].add(bo)
	region(b)
	team(b, &field{name: g.fresh("size"), typ: g.wrap("Int")})
	g.query(b).fields = append(g.query(b).fields, &field{name: g.fresh("teams"), typ: "[Team!]"})
	g.query(a).fields = append(g.query(a).fields, &field{name: g.fresh("org"), args: "(id: ID!)", typ: "Org"})
}

// inputEnums adds an input-only enum Size and an input object Dims to
// two or more subgraphs, each with its own values and optional fields
// (composition keeps the values and the optional fields every subgraph
// has), taken by a root field of each and by a @shareable root field.
func (g *gen) inputEnums() {
	k := 2 + g.pick(len(g.subs)-1)
	if k > len(g.subs) {
		k = len(g.subs)
	}
	subs := g.subset(k)
	for _, s := range subs {
		vals := []string{"SMALL", "MEDIUM"}
		for _, v := range []string{"LARGE", "HUGE"} {
			if g.chance(2) {
				vals = append(vals, v)
			}
		}
		g.subs[s].add(&typeDef{kind: "enum", name: "Size", values: vals})
		dims := &typeDef{kind: "input", name: "Dims", fields: []*field{{name: "w", typ: "Int!"}}}
		for _, f := range []*field{{name: "h", typ: "Int"}, {name: "unit", typ: "Size = MEDIUM"}, {name: "depth", typ: "[Int!]"}} {
			if g.chance(2) {
				dims.fields = append(dims.fields, f)
			}
		}
		g.subs[s].add(dims)
		up := strings.ToUpper(g.subs[s].name)
		g.query(s).fields = append(g.query(s).fields, &field{name: g.fresh("fit" + up), args: "(size: Size = SMALL, dims: Dims, sizes: [Size!] = [MEDIUM])", typ: "String"})
	}
	name := g.fresh("sizeLabel")
	for _, s := range subs[:2] {
		g.query(s).fields = append(g.query(s).fields, &field{name: name, args: "(size: Size!, dims: [Dims!])", typ: "Int", dirs: []string{"@shareable"}})
	}
}

// overrideLabels are the labels labelledOverride writes: custom labels
// (off unless the router is told otherwise) and percentages with
// fractions.
var overrideLabels = []string{"beta", "feature:newPrices", "canary.v2-b", "percent(12.5)", "percent(33.33333333)", "percent(0)"}

// labelledOverride adds a field to two owners of an entity, the second
// taking it over from the first with @override and a custom label or a
// fractional percentage.
func (g *gen) labelledOverride() {
	var cands []*entity
	for _, e := range g.entities {
		if len(e.owners) > 1 && !e.account && !g.authed(e.name) {
			cands = append(cands, e)
		}
	}
	if len(cands) == 0 {
		return
	}
	e := cands[g.pick(len(cands))]
	p := g.r.Perm(len(e.owners))
	from, to := e.owners[p[0]], e.owners[p[1]]
	name := g.fresh("flag")
	typ := []string{"Int", "String", "[Int]", "Point"}[g.pick(4)]
	if typ == "Point" && g.authed("Point") {
		typ = "Int"
	}
	g.ensureFor(from, typ)
	g.ensureFor(to, typ)
	label := overrideLabels[g.pick(len(overrideLabels))]
	g.subs[from].get(e.name).fields = append(g.subs[from].get(e.name).fields, &field{name: name, typ: typ})
	g.subs[to].get(e.name).fields = append(g.subs[to].get(e.name).fields, &field{name: name, typ: typ, dirs: []string{fmt.Sprintf("@override(from: %q, label: %q)", g.subs[from].name, label)}})
	g.overridden[e.name+"."+name] = true
}

// composedDirective defines a custom directive @audit in a spec of its
// own in some subgraphs, composes it with @composeDirective, and applies
// it to object types and fields there (not to @interfaceObject types:
// the supergraph has them as interfaces, where @audit may not go). One
// subgraph's definition may have another argument and link a later
// version of the spec; that subgraph applies none (@apollo/composition
// 2.14 throws where one element has @audit from subgraphs whose
// definitions differ).
func (g *gen) composedDirective() {
	var subs []int
	for s := range g.subs {
		if s == 0 || g.chance(2) {
			subs = append(subs, s)
		}
	}
	sort.Ints(subs)
	for i, s := range subs {
		sb := g.subs[s]
		sb.use("@composeDirective", 1)
		version, args := "v1.0", "(level: Int = 1)"
		other := i == 1 && g.chance(2)
		if other {
			args = "(level: Int = 1, note: String)"
			if g.chance(2) {
				version = "v1.1"
			}
		}
		sb.links = append(sb.links, fmt.Sprintf(`extend schema @link(url: "https://fedgate.dev/audit/%s", import: ["@audit"]) @composeDirective(name: "@audit")`, version))
		sb.directives = append(sb.directives, "directive @audit"+args+" on FIELD_DEFINITION | OBJECT")
		if other {
			continue
		}
		for _, t := range sb.types {
			if t.kind != "type" || hasDir(t.dirs, "@interfaceObject") {
				continue
			}
			if g.chance(6) {
				t.dirs = append(t.dirs, fmt.Sprintf("@audit(level: %d)", 1+g.pick(3)))
			}
			for _, f := range t.fields {
				if !hasDir(f.dirs, "@external") && g.chance(10) {
					f.dirs = append(f.dirs, "@audit")
				}
			}
		}
	}
}

// mergedScopes puts @requiresScopes or @policy on the copies of a
// @shareable entity field, other scopes in each subgraph: composition
// merges them into one requirement every subgraph's holds for.
func (g *gen) mergedScopes() {
	read := map[string]bool{}
	for _, sb := range g.subs {
		for _, t := range sb.types {
			for _, f := range t.fields {
				for _, d := range f.dirs {
					if strings.HasPrefix(d, "@requires") || strings.HasPrefix(d, "@provides") {
						for _, w := range strings.FieldsFunc(d, func(r rune) bool {
							return !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
						}) {
							read[w] = true
						}
					}
				}
			}
		}
	}
	var cands []*efield
	for _, e := range g.entities {
		for _, ef := range e.fields {
			if len(ef.owners) > 1 && !read[ef.name] && len(ef.defs) == len(ef.owners) {
				cands = append(cands, ef)
			}
		}
	}
	if len(cands) == 0 {
		return
	}
	ef := cands[g.pick(len(cands))]
	dir := "@requiresScopes(scopes: "
	if g.chance(3) {
		dir = "@policy(policies: "
	}
	sets := [][]string{{`["read:a"]`}, {`["read:b"]`, `["admin"]`}, {`["read:a", "read:b"]`}, {`["admin"]`}}
	for _, o := range ef.owners {
		d := ef.defs[o]
		if hasDir(d.dirs, "@requiresScopes") || hasDir(d.dirs, "@policy") || hasDir(d.dirs, "@authenticated") || hasDir(d.dirs, "@external") {
			continue
		}
		d.dirs = append(d.dirs, dir+"["+strings.Join(sets[g.pick(len(sets))], ", ")+"])")
		g.subs[o].use("@authenticated", 5)
		g.subs[o].use("@requiresScopes", 5)
		g.subs[o].use("@policy", 6)
	}
}

// deepContexts adds to one subgraph Box and Crate, implementing an
// interface Holder or members of a union Holder, that set a context
// "holder" (on the abstract type, or on each object under one name), and
// below them Slot and then Cell, whose field takes an argument from the
// context two levels up: `$holder { locale }` on the interface, with
// type conditions otherwise. Another subgraph may resolve Cell too.
func (g *gen) deepContexts() {
	s := g.pick(len(g.subs))
	sb := g.subs[s]
	sb.use("@context", 8)
	sb.use("@fromContext", 8)
	ctx := `@context(name: "holder")`
	sel := "$holder ... on Box { locale } ... on Crate { locale }"
	var boxDirs, crateDirs []string
	switch g.pick(3) {
	case 0:
		sb.add(&typeDef{kind: "interface", name: "Holder", dirs: []string{ctx}, fields: []*field{{name: "id", typ: "ID!"}, {name: "locale", typ: "String"}}})
		sel = "$holder { locale }"
	case 1:
		sb.add(&typeDef{kind: "union", name: "Holder", dirs: []string{ctx}, values: []string{"Box", "Crate"}})
	default:
		boxDirs, crateDirs = []string{ctx}, []string{ctx}
		sb.add(&typeDef{kind: "union", name: "Holder", values: []string{"Box", "Crate"}})
	}
	impl := func(name string, dirs []string, slots string) {
		t := &typeDef{kind: "type", name: name, dirs: append([]string{`@key(fields: "id")`}, dirs...), fields: []*field{
			{name: "id", typ: "ID!"}, {name: "locale", typ: "String"}, {name: "slots", typ: slots},
		}}
		if sb.get("Holder").kind == "interface" {
			t.implements = []string{"Holder"}
		}
		sb.add(t)
	}
	impl("Box", boxDirs, "[Slot!]")
	impl("Crate", crateDirs, g.wrap("Slot"))
	sb.add(&typeDef{kind: "type", name: "Slot", dirs: []string{`@key(fields: "id")`}, fields: []*field{{name: "id", typ: "ID!"}, {name: "cells", typ: g.wrap("Cell")}}})
	args := fmt.Sprintf("(in: String @fromContext(field: %q))", sel)
	if g.chance(2) {
		args = fmt.Sprintf("(n: Int = 1, in: String @fromContext(field: %q))", sel)
	}
	sb.add(&typeDef{kind: "type", name: "Cell", dirs: []string{`@key(fields: "id")`}, fields: []*field{{name: "id", typ: "ID!"}, {name: "tag", args: args, typ: "String"}}})
	up := strings.ToUpper(sb.name)
	g.query(s).fields = append(g.query(s).fields, &field{name: "holders" + up, typ: "[Holder!]"}, &field{name: "boxes" + up, typ: "[Box]"})
	if len(g.subs) > 1 && g.chance(2) {
		o := (s + 1 + g.pick(len(g.subs)-1)) % len(g.subs)
		g.subs[o].add(&typeDef{kind: "type", name: "Cell", dirs: []string{`@key(fields: "id")`}, fields: []*field{{name: "id", typ: "ID!"}, {name: "weight", typ: g.wrap("Int")}}})
	}
}

// deepProvides gives three entities E, F and G new fields of owners
// other than a subgraph s (E.hop: F, F.hop: G, G.deep: Int, each
// @shareable) and s a root field returning E with
// `@provides(fields: "hop { hop { deep } }")`, each field @external in s.
func (g *gen) deepProvides() {
	s := g.pick(len(g.subs))
	var ents []*entity
	for _, e := range g.usableIn(s) {
		if !e.account && !g.authed(e.name) {
			for _, o := range e.owners {
				if o != s && !e.altOnly[o] {
					ents = append(ents, e)
					break
				}
			}
		}
	}
	if len(ents) == 0 {
		return
	}
	chain := []*entity{ents[g.pick(len(ents))], ents[g.pick(len(ents))], ents[g.pick(len(ents))]}
	owner := func(e *entity) int {
		var os []int
		for _, o := range e.owners {
			if o != s && !e.altOnly[o] {
				os = append(os, o)
			}
		}
		return os[g.pick(len(os))]
	}
	var names []string
	for i, e := range chain {
		o := owner(e)
		f := &field{name: g.fresh("deep"), typ: "Int", dirs: []string{"@shareable"}}
		if i < 2 {
			f.name, f.typ = g.fresh("hop"), g.wrap(chain[i+1].name)
			g.has(o, chain[i+1])
		}
		g.subs[o].get(e.name).fields = append(g.subs[o].get(e.name).fields, f)
		g.has(s, e).fields = append(g.has(s, e).fields, &field{name: f.name, typ: f.typ, dirs: []string{"@external"}})
		names = append(names, f.name)
	}
	up := strings.ToUpper(g.subs[s].name)
	g.query(s).fields = append(g.query(s).fields, &field{name: g.fresh("deep" + up), typ: g.wrap(chain[0].name),
		dirs: []string{fmt.Sprintf("@provides(fields: %q)", names[0]+" { "+names[1]+" { "+names[2]+" } }")}})
}

// splitKey adds an entity Crew that one subgraph knows by id, a second by
// id with a field berth, and a third by `id berth { code }` (maybe
// `berth { code } id`): reaching the third from the first takes the
// key's fields from two subgraphs. Each has a field of its own; the first
// and maybe the third a root field.
func (g *gen) splitKey() {
	p := g.r.Perm(len(g.subs))
	a, b, c := p[0], p[1], p[2]
	key := "id berth { code }"
	if g.chance(2) {
		key = "berth { code } id"
	}
	berth := func(s int) {
		if g.subs[s].get("Berth") == nil {
			g.subs[s].add(&typeDef{kind: "type", name: "Berth", dirs: []string{"@shareable"}, fields: []*field{{name: "code", typ: "String!"}, {name: "deck", typ: "Int"}}})
		}
	}
	g.subs[a].add(&typeDef{kind: "type", name: "Crew", dirs: []string{`@key(fields: "id")`}, fields: []*field{
		{name: "id", typ: "ID!"}, {name: g.fresh("crew" + g.subs[a].name), typ: g.wrap("String")}}})
	g.subs[b].add(&typeDef{kind: "type", name: "Crew", dirs: []string{`@key(fields: "id")`}, fields: []*field{
		{name: "id", typ: "ID!"}, {name: "berth", typ: "Berth!", dirs: []string{"@shareable"}}, {name: g.fresh("crew" + g.subs[b].name), typ: g.wrap("Int")}}})
	berth(b)
	g.subs[c].add(&typeDef{kind: "type", name: "Crew", dirs: []string{fmt.Sprintf("@key(fields: %q)", key)}, fields: []*field{
		{name: "id", typ: "ID!"}, {name: "berth", typ: "Berth!", dirs: []string{"@shareable"}}, {name: g.fresh("crew" + g.subs[c].name), typ: g.wrap("Float")}}})
	berth(c)
	g.query(a).fields = append(g.query(a).fields, &field{name: g.fresh("crews"), typ: "[Crew!]"})
	if g.chance(2) {
		g.query(c).fields = append(g.query(c).fields, &field{name: g.fresh("crew"), typ: "Crew"})
	}
}
