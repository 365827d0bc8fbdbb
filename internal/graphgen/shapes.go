package graphgen

import (
	"fmt"
	"regexp"
	"strings"
)

// shapes adds the Federation shapes of session 16, drawn after every
// earlier draw so a seed keeps the graph earlier runs used and gains
// these: an @inaccessible field of an @inaccessible type that another
// subgraph @requires (where the type may be @external as a whole),
// @requires through lists (of a value type, of lists of it, of entity
// keys), @provides with type conditions on fields returning a union or an
// interface, mutations in a second subgraph whose results other
// subgraphs resolve, and @inaccessible on arguments, input fields and
// enum values (the enum value after every draw that may write Color, so
// each Color gains it), an @inaccessible implementation of Media, an
// @inaccessible key field, and @provides once more (also on the
// mutation fields).
func (g *gen) shapes() {
	if g.chance(2) {
		g.hiddenRequires()
	}
	if g.chance(2) {
		g.listRequires()
	}
	for i := 0; i < g.pick(3); i++ {
		g.abstractProvides()
	}
	if g.chance(2) {
		g.moreMutations()
	}
	if g.chance(2) {
		g.hiddenInputs()
	}
	if g.chance(3) {
		g.hiddenMember()
	}
	if g.chance(3) {
		g.hiddenKey()
	}
	if g.chance(2) {
		// Once more over every field, the mutation fields above among
		// them: @provides on what a mutation returns.
		g.provides()
	}
	// Session 17's shapes (shapes17.go) after all of the above, and
	// after the root field an empty subgraph gets.
	g.pings()
	g.shapes17()
}

// requirePair picks an entity with two owners that are not only keyed by
// upc, the subgraph holding a field (h) and the one requiring it (r); ok
// is false when there is none.
func (g *gen) requirePair() (e *entity, h, r int, ok bool) {
	var cands []*entity
	for _, e := range g.entities {
		if len(e.owners) > 1 && !e.account {
			cands = append(cands, e)
		}
	}
	if len(cands) == 0 {
		return nil, 0, 0, false
	}
	e = cands[g.pick(len(cands))]
	p := g.r.Perm(len(e.owners))
	h, r = e.owners[p[0]], e.owners[p[1]]
	return e, h, r, !g.authed(e.name)
}

// authed reports whether some subgraph puts an authorization directive
// (GenerateWith's) on type name or one of its fields: composition merges
// them, and a @requires of them would need the same requirements
// (MISSING_TRANSITIVE_AUTH_REQUIREMENTS).
func (g *gen) authed(name string) bool {
	isAuth := func(dirs []string) bool {
		return hasDir(dirs, "@authenticated") || hasDir(dirs, "@requiresScopes") || hasDir(dirs, "@policy")
	}
	for _, sb := range g.subs {
		t := sb.get(name)
		if t == nil {
			continue
		}
		if isAuth(t.dirs) {
			return true
		}
		for _, f := range t.fields {
			if isAuth(f.dirs) {
				return true
			}
		}
	}
	return false
}

// hiddenRequires gives one owner of an entity E a field of a new type
// ESecret, both @inaccessible (and maybe a hidden leaf beside it), and
// another owner a field that @requires them: the gateway must fetch
// what no client may select. The requiring subgraph writes ESecret
// either @external as a whole or with @external fields.
func (g *gen) hiddenRequires() {
	e, h, r, ok := g.requirePair()
	if !ok {
		return
	}
	vt := e.name + "Secret"
	if g.subs[h].get(vt) != nil || g.subs[r].get(vt) != nil {
		return
	}
	name := g.fresh("secret")
	typ := vt
	if g.chance(3) {
		typ = "[" + vt + "!]"
	}
	g.subs[h].add(&typeDef{kind: "type", name: vt, dirs: []string{"@inaccessible"}, fields: []*field{
		{name: "code", typ: "Int!"}, {name: "note", typ: "String"},
	}})
	ht, rt := g.subs[h].get(e.name), g.subs[r].get(e.name)
	ht.fields = append(ht.fields, &field{name: name, typ: typ, dirs: []string{"@inaccessible"}})
	rt.fields = append(rt.fields, &field{name: name, typ: typ, dirs: []string{"@external"}})
	set := name + " { code }"
	if g.chance(2) {
		set = name + " { code note }"
	}
	ext := &typeDef{kind: "type", name: vt, fields: []*field{{name: "code", typ: "Int!"}}}
	if strings.Contains(set, "note") {
		ext.fields = append(ext.fields, &field{name: "note", typ: "String"})
	}
	if g.chance(2) {
		// @external on the whole type: every field of it is.
		ext.dirs = []string{"@external"}
	} else {
		for _, f := range ext.fields {
			f.dirs = []string{"@external"}
		}
	}
	g.subs[r].add(ext)
	if g.chance(2) {
		leaf := g.fresh("hid")
		ht.fields = append(ht.fields, &field{name: leaf, args: "", typ: "Int", dirs: []string{"@inaccessible"}})
		rt.fields = append(rt.fields, &field{name: leaf, typ: "Int", dirs: []string{"@external"}})
		set += " " + leaf
	}
	rt.fields = append(rt.fields, &field{name: g.fresh("needs"), typ: []string{"Int", "String", "[Int]"}[g.pick(3)], dirs: []string{fmt.Sprintf("@requires(fields: %q)", set)}})
}

// listRequires gives one owner of an entity a list field (of Point, of
// lists of Point, or of another entity) and another owner a field that
// @requires a selection through it: the representation carries lists.
func (g *gen) listRequires() {
	e, h, r, ok := g.requirePair()
	if !ok {
		return
	}
	name := g.fresh("list")
	ht, rt := g.subs[h].get(e.name), g.subs[r].get(e.name)
	var typ, set string
	switch k := g.pick(3); {
	case k < 2 && g.authed("Point"):
		return
	case k == 0:
		typ = []string{"[Point!]", "[Point]!", "[Point!]!"}[g.pick(3)]
		set = name + []string{" { x }", " { x color }", " { tags y }"}[g.pick(3)]
	case k == 1:
		typ = "[[Point!]]"
		set = name + " { x }"
	default:
		// A list of another entity's keys; both subgraphs must know its
		// id (a jump for it inside the selection is the shape
		// @apollo/composition refuses in some graphs).
		var refs []*entity
		for _, to := range g.usableIn(h, r) {
			okH := g.subs[h].get(to.name) == nil || g.subs[h].get(to.name).field("id") != nil
			okR := g.subs[r].get(to.name) == nil || g.subs[r].get(to.name).field("id") != nil
			if okH && okR && !to.account && !g.authed(to.name) {
				refs = append(refs, to)
			}
		}
		if len(refs) == 0 {
			return
		}
		to := refs[g.pick(len(refs))]
		g.has(h, to)
		g.has(r, to)
		typ = "[" + to.name + "]"
		set = name + " { id }"
	}
	g.ensureFor(h, typ)
	g.ensureFor(r, typ)
	ht.fields = append(ht.fields, &field{name: name, typ: typ})
	rt.fields = append(rt.fields, &field{name: name, typ: typ, dirs: []string{"@external"}})
	rt.fields = append(rt.fields, &field{name: g.fresh("needs"), typ: []string{"Int", "String", "[Float]"}[g.pick(3)], dirs: []string{fmt.Sprintf("@requires(fields: %q)", set)}})
}

// abstractProvides puts @provides with a type condition on a field
// returning a union or an interface (Result, Media, Account): the
// member's leaf, of another owner, is @external where provided and
// @shareable in its owner.
func (g *gen) abstractProvides() {
	type site struct {
		s    int
		f    *field
		e    *entity
		leaf *efield
	}
	var sites []site
	for s, sb := range g.subs {
		for _, t := range sb.types {
			if t.kind != "type" {
				continue
			}
			for _, f := range t.fields {
				if hasDir(f.dirs, "@provides") || hasDir(f.dirs, "@external") || hasDir(f.dirs, "@override") || hasDir(f.dirs, "@requires") || hasDir(f.dirs, "@shareable") || g.overridden[t.name+"."+f.name] {
					continue
				}
				abs := sb.get(strings.Trim(f.typ, "[]!"))
				if abs == nil || (abs.kind != "union" && abs.kind != "interface") {
					continue
				}
				for _, e := range g.entities {
					mt := sb.get(e.name)
					if mt == nil || !(contains(abs.values, e.name) || contains(mt.implements, abs.name)) || resolvableFalse(mt) {
						continue
					}
					for _, leaf := range e.fields {
						if leaf.plain && leaf.leaf && !leaf.computed && leaf.owners[0] != s && leaf.args == "" && mt.field(leaf.name) == nil && !strings.Contains(leaf.typ, "Mood") && !g.overridden[e.name+"."+leaf.name] {
							sites = append(sites, site{s, f, e, leaf})
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
	g.ensureFor(st.s, st.leaf.typ)
	g.subs[st.s].get(st.e.name).fields = append(g.subs[st.s].get(st.e.name).fields, &field{name: st.leaf.name, typ: st.leaf.typ, dirs: []string{"@external"}})
	st.f.dirs = append(st.f.dirs, fmt.Sprintf("@provides(fields: %q)", "... on "+st.e.name+" { "+st.leaf.name+" }"))
	if d := st.leaf.defs[st.leaf.owners[0]]; !contains(d.dirs, "@shareable") {
		d.dirs = append(d.dirs, "@shareable")
	}
	st.leaf.plain = false
}

// moreMutations adds mutation fields to a subgraph (a second one where a
// Mutation exists) returning entities other subgraphs resolve: one
// entity, a list of lists of them, and a value.
func (g *gen) moreMutations() {
	s := g.pick(len(g.subs))
	ents := g.usableIn(s)
	var elsewhere []*entity
	for _, e := range ents {
		if !g.isOwner(s, e) {
			elsewhere = append(elsewhere, e)
		}
	}
	if len(elsewhere) > 0 {
		ents = elsewhere
	}
	if len(ents) == 0 {
		return
	}
	e := ents[g.pick(len(ents))]
	g.has(s, e)
	m := g.subs[s].get("Mutation")
	if m == nil {
		m = g.subs[s].add(&typeDef{kind: "type", name: "Mutation"})
	}
	up := strings.ToUpper(g.subs[s].name)
	m.fields = append(m.fields, &field{name: g.fresh("create" + e.name), args: "(x: Int = 3, tag: String)", typ: e.name + "!"})
	if g.chance(2) {
		m.fields = append(m.fields, &field{name: g.fresh("batch" + up), args: "(n: Int! = 2)", typ: []string{"[[" + e.name + "!]]", "[" + e.name + "]!"}[g.pick(2)]})
	}
	if g.chance(2) {
		g.ensure(s, "Point")
		m.fields = append(m.fields, &field{name: g.fresh("move" + up), args: "(by: Int = 1)", typ: "Point"})
	}
}

// hiddenArg finds an optional argument (a default, or a nullable type).
var hiddenArg = regexp.MustCompile(`\w+: [\w\[\]]*[\w\]](?: = (?:\{[^}]*\}|"[^"]*"|\w+))?`)

// hiddenInputs puts @inaccessible on input positions: an optional
// argument of a field, Filter's tags in some subgraphs, and a new Color
// value VIOLET every subgraph's Color has (Color is an input enum, whose
// values composition wants alike) and some hide. A subgraph may answer
// VIOLET where a Color is returned: the API schema has no such value.
func (g *gen) hiddenInputs() {
	type site struct {
		t *typeDef
		f *field
	}
	var sites []site
	for _, sb := range g.subs {
		for _, t := range sb.types {
			// Not interface fields nor those an interface declares
			// (Media's year, Node's id, Named's label): an
			// implementation's arguments follow its interface's.
			if t.kind != "type" || hasDir(t.dirs, "@interfaceObject") || len(t.implements) > 0 {
				continue
			}
			for _, f := range t.fields {
				if f.args != "" && !hasDir(f.dirs, "@external") && !strings.Contains(f.args, "@inaccessible") && !strings.Contains(f.args, "@fromContext") {
					sites = append(sites, site{t, f})
				}
			}
		}
	}
	for k := 0; k < 1+g.pick(2) && len(sites) > 0; k++ {
		st := sites[g.pick(len(sites))]
		// An argument of the list, not of a directive on one (@cost's
		// weight), and of a nullable type.
		var locs [][]int
		for _, loc := range hiddenArg.FindAllStringIndex(st.f.args, -1) {
			if (loc[0] == 1 || st.f.args[loc[0]-2:loc[0]] == ", ") && st.f.args[loc[1]] != '!' && !strings.HasPrefix(st.f.args[loc[1]:], " @inaccessible") {
				locs = append(locs, loc)
			}
		}
		if len(locs) == 0 {
			continue
		}
		loc := locs[g.pick(len(locs))]
		st.f.args = st.f.args[:loc[1]] + " @inaccessible" + st.f.args[loc[1]:]
	}
	for _, sb := range g.subs {
		if t := sb.get("Filter"); t != nil && g.chance(3) {
			if f := t.field("tags"); f != nil && !hasDir(f.dirs, "@inaccessible") {
				f.dirs = append(f.dirs, "@inaccessible")
			}
		}
	}
	if g.chance(2) {
		hidden := false
		for _, sb := range g.subs {
			if t := sb.get("Color"); t != nil {
				v := "VIOLET"
				if !hidden || g.chance(2) {
					v += " @inaccessible"
					hidden = true
				}
				t.values = append(t.values, v)
			}
		}
	}
}

// hiddenMember makes a value type implementing Media in one subgraph
// (Book, Movie, ...) @inaccessible: the subgraph's mediaX may return an
// object of a type the API schema does not have.
func (g *gen) hiddenMember() {
	var cands []*typeDef
	for _, sb := range g.subs {
		for _, t := range sb.types {
			if t.kind == "type" && contains(t.implements, "Media") && t.field(strings.ToLower(t.name)+"Only") != nil && !hasDir(t.dirs, "@inaccessible") {
				cands = append(cands, t)
			}
		}
	}
	if len(cands) == 0 {
		return
	}
	t := cands[g.pick(len(cands))]
	t.dirs = append(t.dirs, "@inaccessible")
}

// hiddenKey makes the key field upc @inaccessible in one subgraph of an
// entity keyed by it: representations carry a field no client selects.
func (g *gen) hiddenKey() {
	var cands []*typeDef
	for _, e := range g.entities {
		for _, o := range e.owners {
			if !e.alt[o] {
				continue
			}
			if t := g.subs[o].get(e.name); t != nil && t.field("upc") != nil {
				cands = append(cands, t)
			}
		}
	}
	if len(cands) == 0 {
		return
	}
	f := cands[g.pick(len(cands))].field("upc")
	if !hasDir(f.dirs, "@inaccessible") {
		f.dirs = append(f.dirs, "@inaccessible")
	}
}
