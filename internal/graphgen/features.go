package graphgen

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// later adds the Federation features drawn after the base graph:
// interfaces implementing interfaces over entities (a Relay-style Node),
// the entity interface Account defined in a second subgraph, @provides of
// nested paths, @tag, @deprecated, @cost and @listSize, and with
// Features, authorization and contexts.
func (g *gen) later() {
	if g.chance(2) {
		g.nodes()
	}
	if g.accountSub >= 0 && g.chance(2) {
		g.secondAccounts()
	}
	for i := 0; i < g.pick(3); i++ {
		g.nestedProvides()
	}
	if len(g.accountScores) > 0 && g.chance(2) {
		g.interfaceObjectRequires()
	}
	g.defaultsDiffer()
	if g.chance(3) {
		g.costs()
	}
	if g.feat.Contexts && g.chance(3) {
		g.contexts()
	}
	if g.feat.Authorization && g.chance(3) {
		g.authorization()
	}
	for s := range g.subs {
		if g.chance(3) {
			g.tags(s)
		}
		if g.chance(3) {
			g.deprecations(s)
		}
	} // Session 16's shapes (shapes.go) after all of the above.
	g.shapes()
}

// isRoot reports whether t is a root type.
func isRoot(t *typeDef) bool { return t.name == "Query" || t.name == "Mutation" }

func hasDir(dirs []string, prefix string) bool {
	for _, d := range dirs {
		if strings.HasPrefix(d, prefix) {
			return true
		}
	}
	return false
}

// nodes writes, in some subgraphs, `interface Node { id: ID! }` and makes
// types with an `id: ID!` there implement it (owners and references under
// `resolvable: false`), maybe with `interface Named implements Node` on
// some of them, and a root field returning each. Other subgraphs know the
// same types without the interfaces: the gateway fetches their fields
// below a fragment on an implementation with an entity jump.
func (g *gen) nodes() {
	first := g.pick(len(g.subs))
	for s, sb := range g.subs {
		if s != first && !g.chance(2) {
			continue
		}
		var impls []*typeDef
		for _, t := range sb.types {
			if t.kind != "type" || isRoot(t) || hasDir(t.dirs, "@interfaceObject") {
				continue
			}
			if f := t.field("id"); f != nil && f.typ == "ID!" && len(f.dirs) == 0 && !g.chance(3) {
				impls = append(impls, t)
			}
		}
		if len(impls) == 0 {
			continue
		}
		sb.add(&typeDef{kind: "interface", name: "Node", fields: []*field{{name: "id", typ: "ID!"}}})
		named := g.chance(2)
		if named {
			sb.add(&typeDef{kind: "interface", name: "Named", implements: []string{"Node"}, fields: []*field{{name: "id", typ: "ID!"}, {name: "label", typ: "String"}}})
		}
		for _, t := range impls {
			t.implements = append(t.implements, "Node")
			// Named's label only where the type resolves: a field of a
			// reference under `resolvable: false` is reached by nothing.
			if named && t.field("label") == nil && !resolvableFalse(t) && g.chance(2) {
				t.implements = append(t.implements, "Named")
				// Shareable: another subgraph may make the type Named too.
				t.fields = append(t.fields, &field{name: "label", typ: "String", dirs: []string{"@shareable"}})
			}
		}
		// The entity interface Account may be a Node too; so must be its
		// implementations here.
		if acc := sb.get("Account"); acc != nil && acc.kind == "interface" && g.chance(2) {
			acc.implements = append(acc.implements, "Node")
			for _, name := range g.accountImpls {
				if t := sb.get(name); t != nil && !contains(t.implements, "Node") {
					t.implements = append(t.implements, "Node")
				}
			}
		}
		up := strings.ToUpper(sb.name)
		g.query(s).fields = append(g.query(s).fields, &field{name: "node" + up, args: "(id: ID!)", typ: "Node"})
		if named {
			g.query(s).fields = append(g.query(s).fields, &field{name: "named" + up, typ: g.wrap("Named")})
		} else if g.chance(2) {
			g.query(s).fields = append(g.query(s).fields, &field{name: "nodes" + up, args: "(ids: [ID!]!)", typ: "[Node]!"})
		}
	}
}

// resolvableFalse reports whether t is a reference under `resolvable:
// false`.
func resolvableFalse(t *typeDef) bool {
	for _, d := range t.dirs {
		if strings.HasPrefix(d, "@key(") && strings.Contains(d, "resolvable: false") {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// secondAccounts defines the entity interface Account in a second
// subgraph with every implementation (as composition wants of an
// interface with @key), its own field on each, and a root field.
func (g *gen) secondAccounts() {
	var cands []int
	for o := range g.subs {
		if o != g.accountSub && !g.accountObjects[o] {
			cands = append(cands, o)
		}
	}
	if len(cands) == 0 {
		return
	}
	o := cands[g.pick(len(cands))]
	sb := g.subs[o]
	own := g.fresh("rank")
	typ := g.wrap("Int")
	sb.add(&typeDef{kind: "interface", name: "Account", dirs: []string{`@key(fields: "id")`},
		fields: []*field{{name: "id", typ: "ID!"}, {name: own, typ: typ}}})
	for _, name := range g.accountImpls {
		t := sb.get(name)
		if t == nil {
			t = sb.add(&typeDef{kind: "type", name: name, dirs: []string{`@key(fields: "id")`}, fields: []*field{{name: "id", typ: "ID!"}}})
			for _, e := range g.entities {
				if e.name == name {
					// A new slice: the entity's shared fields hold the old
					// one as their owners.
					e.owners = append(append([]int{}, e.owners...), o)
					sort.Ints(e.owners)
				}
			}
		}
		if resolvableFalse(t) {
			// A reference until now: an implementation of an
			// interface with @key resolves it here.
			t.dirs[0] = `@key(fields: "id")`
			for _, e := range g.entities {
				if e.name == name {
					// A new slice: the entity's shared fields hold the old
					// one as their owners.
					e.owners = append(append([]int{}, e.owners...), o)
					sort.Ints(e.owners)
				}
			}
		}
		t.implements = append(t.implements, "Account")
		t.fields = append(t.fields, &field{name: own, typ: typ})
	}
	g.query(o).fields = append(g.query(o).fields, &field{name: g.fresh("accounts"), typ: g.wrap("Account")})
}

// nestedProvides puts `@provides(fields: "ref { leaf }")` on a field
// returning an entity E: ref is E's field of one other subgraph returning
// an entity F (maybe a list), leaf a field of F of a third party. Both
// are @external where provided and @shareable in their owners.
func (g *gen) nestedProvides() {
	type site struct {
		s    int
		f    *field
		e    *entity
		ref  *efield
		leaf *efield
	}
	var sites []site
	for s, sb := range g.subs {
		for _, t := range sb.types {
			if t.kind != "type" {
				continue
			}
			for _, f := range t.fields {
				if len(f.dirs) > 0 || g.overridden[t.name+"."+f.name] {
					continue
				}
				for _, e := range g.entities {
					if strings.Trim(f.typ, "[]!") != e.name || sb.get(e.name) == nil {
						continue
					}
					for _, ref := range e.fields {
						if ref.ref == nil || ref.args != "" || ref.owners[0] == s || !ref.ref.usable(s) || sb.get(e.name).field(ref.name) != nil || g.overridden[e.name+"."+ref.name] {
							continue
						}
						var target *typeDef
						if target = sb.get(ref.ref.name); target == nil {
							target = &typeDef{}
						}
						for _, leaf := range ref.ref.fields {
							if leaf.plain && leaf.leaf && !leaf.computed && leaf.owners[0] != s && leaf.args == "" && target.field(leaf.name) == nil && !strings.Contains(leaf.typ, "Mood") && !g.overridden[ref.ref.name+"."+leaf.name] {
								sites = append(sites, site{s, f, e, ref, leaf})
							}
						}
					}
				}
			}
		}
	}
	if len(sites) == 0 {
		return
	}
	st := sites[g.pick(len(sites))]
	sb := g.subs[st.s]
	sb.get(st.e.name).fields = append(sb.get(st.e.name).fields, &field{name: st.ref.name, typ: st.ref.typ, dirs: []string{"@external"}})
	g.has(st.s, st.ref.ref).fields = append(g.has(st.s, st.ref.ref).fields, &field{name: st.leaf.name, typ: st.leaf.typ, dirs: []string{"@external"}})
	g.ensureFor(st.s, st.leaf.typ)
	st.f.dirs = append(st.f.dirs, fmt.Sprintf("@provides(fields: %q)", st.ref.name+" { "+st.leaf.name+" }"))
	for _, f := range []*efield{st.ref, st.leaf} {
		if d := f.defs[f.owners[0]]; !contains(d.dirs, "@shareable") {
			d.dirs = append(d.dirs, "@shareable")
		}
	}
	st.ref.ref, st.ref.plain = nil, false
	st.leaf.plain = false
}

// interfaceObjectRequires gives an @interfaceObject Account a field that
// @requires the interface's handle (resolved by the implementations'
// subgraph) and maybe another @interfaceObject subgraph's score: the
// gateway fetches them for each implementation before the abstraction.
func (g *gen) interfaceObjectRequires() {
	var objects []int
	for o := range g.accountScores {
		objects = append(objects, o)
	}
	sort.Ints(objects)
	o := objects[g.pick(len(objects))]
	acc := g.subs[o].get("Account")
	sets := []string{"handle"}
	acc.fields = append(acc.fields, &field{name: "handle", typ: "String", dirs: []string{"@external"}})
	for _, other := range objects {
		score := g.accountScores[other]
		if other != o && score.args == "" && !strings.HasPrefix(score.typ, "[[") && g.chance(2) {
			acc.fields = append(acc.fields, &field{name: score.name, typ: score.typ, dirs: []string{"@external"}})
			sets = append(sets, score.name)
			break
		}
	}
	acc.fields = append(acc.fields, &field{name: g.fresh("rated"), typ: []string{"Int", "String", "[Int!]"}[g.pick(3)], dirs: []string{fmt.Sprintf("@requires(fields: %q)", strings.Join(sets, " "))}})
}

// defaultValue finds the default of an argument in an argument list.
var defaultValue = regexp.MustCompile(` = (?:\{[^}]*\}|"[^"]*"|\w+)`)

// defaultsDiffer leaves out, in some subgraphs, the default of Filter's
// color and the argument defaults of a copy of a shared field: a default
// only some subgraphs give is none in the supergraph.
func (g *gen) defaultsDiffer() {
	for _, sb := range g.subs {
		if t := sb.get("Filter"); t != nil && g.chance(4) {
			t.field("color").typ = "Color"
		}
	}
	for _, e := range g.entities {
		for _, ef := range e.fields {
			if len(ef.owners) < 2 || !strings.Contains(ef.args, " = ") || !g.chance(3) {
				continue
			}
			if d := ef.defs[ef.owners[1+g.pick(len(ef.owners)-1)]]; d != nil {
				d.args = defaultValue.ReplaceAllString(d.args, "")
			}
		}
	}
}

// costs puts @cost and @listSize (Federation 2.9, demand control) on
// types, fields, arguments and input fields of some subgraphs.
func (g *gen) costs() {
	for s, sb := range g.subs {
		if s != 0 && !g.chance(2) {
			continue
		}
		used := false
		for _, t := range sb.types {
			if (t.kind == "type" || t.kind == "enum") && !isRoot(t) && !hasDir(t.dirs, "@interfaceObject") && g.chance(8) {
				t.dirs = append(t.dirs, fmt.Sprintf("@cost(weight: %d)", 1+g.pick(9)))
				used = true
			}
			if t.kind != "type" && t.kind != "input" && t.kind != "interface" {
				continue
			}
			for _, f := range t.fields {
				if hasDir(f.dirs, "@external") {
					continue
				}
				// Not on interface fields (COST_APPLIED_TO_INTERFACE_FIELD)
				// nor on an @interfaceObject's, which the supergraph puts on
				// the interface: @apollo/composition 2.14 then throws
				// extracting the subgraphs again (docs/differential.md).
				if t.kind != "interface" && !hasDir(t.dirs, "@interfaceObject") && g.chance(8) {
					f.dirs = append(f.dirs, fmt.Sprintf("@cost(weight: %d)", g.pick(20)))
					used = true
				}
				if t.kind == "input" {
					continue
				}
				if strings.HasPrefix(f.typ, "[") && g.chance(3) {
					if strings.Contains(f.args, "first: Int") {
						f.dirs = append(f.dirs, `@listSize(slicingArguments: ["first"], requireOneSlicingArgument: false)`)
					} else {
						f.dirs = append(f.dirs, fmt.Sprintf("@listSize(assumedSize: %d)", 1+g.pick(50)))
					}
					used = true
				}
				if f.args != "" && g.chance(6) {
					// The first argument costs too.
					if i := strings.IndexAny(f.args, ",)"); i > 0 {
						f.args = f.args[:i] + fmt.Sprintf(" @cost(weight: %d)", 1+g.pick(4)) + f.args[i:]
						used = true
					}
				}
			}
		}
		if used {
			sb.use("@cost", 9)
			sb.use("@listSize", 9)
		}
	}
}

// tags puts @tag on types, fields, enum values and input fields of
// subgraph s; composition takes the union of each element's tags.
func (g *gen) tags(s int) {
	sb := g.subs[s]
	names := []string{"public", "internal", "team-" + sb.name}
	tag := func() string { return fmt.Sprintf("@tag(name: %q)", names[g.pick(len(names))]) }
	used := false
	for _, t := range sb.types {
		if g.chance(5) {
			t.dirs = append(t.dirs, tag())
			used = true
		}
		if t.kind == "enum" {
			for i, v := range t.values {
				if g.chance(6) {
					t.values[i] = v + " " + tag()
					used = true
				}
			}
		}
		for _, f := range t.fields {
			// Not on @external copies: composition merges a field's tags
			// from the subgraphs resolving it
			// (MERGED_DIRECTIVE_APPLICATION_ON_EXTERNAL).
			if !hasDir(f.dirs, "@external") && g.chance(7) {
				f.dirs = append(f.dirs, tag())
				used = true
			}
		}
	}
	if used {
		sb.use("@tag", 7)
	}
}

// optionalArg finds an argument with a default in an argument list.
var optionalArg = regexp.MustCompile(`(\w+: [\w\[\]!]+ = (?:\{[^}]*\}|"[^"]*"|\w+))`)

// deprecations deprecates fields, optional arguments and input fields and
// enum values of subgraph s, with and without a reason.
func (g *gen) deprecations(s int) {
	sb := g.subs[s]
	dep := func() string {
		if g.chance(2) {
			return "@deprecated"
		}
		return fmt.Sprintf("@deprecated(reason: %q)", []string{"use another field", "gone soon"}[g.pick(2)])
	}
	for _, t := range sb.types {
		switch t.kind {
		case "enum":
			// HAPPY is every subgraph's Mood; RED the Color default.
			for i, v := range t.values {
				if !strings.HasPrefix(v, "HAPPY") && !strings.HasPrefix(v, "GREEN") && g.chance(5) {
					t.values[i] = v + " " + dep()
				}
			}
		case "input":
			for _, f := range t.fields {
				if !strings.HasSuffix(f.typ, "!") && g.chance(4) {
					f.dirs = append(f.dirs, dep())
				}
			}
		case "type", "interface":
			for _, f := range t.fields {
				if f.name == "id" || f.name == "upc" || f.name == "sku" || f.name == "loc" || hasDir(f.dirs, "@external") {
					continue
				}
				if g.chance(9) {
					f.dirs = append(f.dirs, dep())
				}
				if f.args != "" && g.chance(6) {
					if loc := optionalArg.FindStringIndex(f.args); loc != nil {
						f.args = f.args[:loc[1]] + " " + dep() + f.args[loc[1]:]
					}
				}
			}
		}
	}
}

// contexts adds, to one subgraph, an entity Shelf that sets a context
// and an entity Item below it whose field takes an argument from it
// (Federation 2.8 @context, @fromContext); another subgraph may resolve
// Item too.
func (g *gen) contexts() {
	s := g.pick(len(g.subs))
	sb := g.subs[s]
	sb.use("@context", 8)
	sb.use("@fromContext", 8)
	from, typ := "locale", "String"
	if g.chance(2) {
		from, typ = "code", "Int"
	}
	sel := "$shelf { " + from + " }"
	if g.chance(3) {
		sel = "$shelf ... on Shelf { " + from + " }"
	}
	sb.add(&typeDef{kind: "type", name: "Shelf", dirs: []string{`@key(fields: "id")`, `@context(name: "shelf")`}, fields: []*field{
		{name: "id", typ: "ID!"}, {name: "locale", typ: "String"}, {name: "code", typ: "Int"}, {name: "items", typ: g.wrap("Item")},
	}})
	args := fmt.Sprintf("(in: %s @fromContext(field: %q))", typ, sel)
	if g.chance(2) {
		args = fmt.Sprintf("(in: %s @fromContext(field: %q), n: Int = 1)", typ, sel)
	}
	sb.add(&typeDef{kind: "type", name: "Item", dirs: []string{`@key(fields: "id")`}, fields: []*field{
		{name: "id", typ: "ID!"}, {name: "title", args: args, typ: "String"},
	}})
	g.query(s).fields = append(g.query(s).fields, &field{name: "shelves" + strings.ToUpper(sb.name), typ: "[Shelf!]"})
	if len(g.subs) > 1 && g.chance(2) {
		o := (s + 1 + g.pick(len(g.subs)-1)) % len(g.subs)
		g.subs[o].add(&typeDef{kind: "type", name: "Item", dirs: []string{`@key(fields: "id")`}, fields: []*field{
			{name: "id", typ: "ID!"}, {name: "stock", typ: g.wrap("Int")},
		}})
	}
}

// authorization puts @authenticated, @requiresScopes and @policy on root
// fields, types and fields no @requires or @fromContext selection reads
// (their readers would need the same requirements).
func (g *gen) authorization() {
	read := map[string]bool{}
	word := regexp.MustCompile(`\w+`)
	for _, sb := range g.subs {
		for _, t := range sb.types {
			for _, f := range t.fields {
				for _, d := range f.dirs {
					if strings.HasPrefix(d, "@requires") {
						for _, w := range word.FindAllString(d, -1) {
							read[w] = true
						}
					}
				}
				if strings.Contains(f.args, "@fromContext") {
					read["locale"], read["code"] = true, true
				}
			}
		}
	}
	auth := func() string {
		switch g.pick(4) {
		case 0, 1:
			return "@authenticated"
		case 2:
			return fmt.Sprintf("@requiresScopes(scopes: [[%q]%s])", []string{"read:a", "read:b"}[g.pick(2)], []string{"", `, ["admin"]`}[g.pick(2)])
		}
		return fmt.Sprintf("@policy(policies: [[%q]])", []string{"owner", "staff"}[g.pick(2)])
	}
	for _, sb := range g.subs {
		used := false
		for _, t := range sb.types {
			// Not on interfaces: composition refuses that
			// (AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE).
			if t.kind != "type" {
				continue
			}
			readable := false
			for _, f := range t.fields {
				readable = readable || read[f.name]
			}
			if t.kind == "type" && !isRoot(t) && !readable && t.name != "Shelf" && !hasDir(t.dirs, "@interfaceObject") && g.chance(10) {
				t.dirs = append(t.dirs, auth())
				used = true
			}
			for _, f := range t.fields {
				if read[f.name] || f.name == "id" || f.name == "upc" || f.name == "sku" || f.name == "loc" || hasDir(f.dirs, "@external") {
					continue
				}
				if (isRoot(t) && g.chance(4)) || g.chance(12) {
					f.dirs = append(f.dirs, auth())
					used = true
				}
			}
		}
		if used {
			sb.use("@authenticated", 5)
			sb.use("@requiresScopes", 5)
			sb.use("@policy", 6)
		}
	}
}
