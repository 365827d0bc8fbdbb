// Package graphgen generates random federated graphs: 2 to 5 Federation 2
// subgraph schemas, deterministic from a seed, built to compose. They hold
// the shapes hand-written fixtures rarely combine: entities under single,
// compound and nested keys, several keys, keys only some subgraphs resolve
// and references under `resolvable: false`; fields split across subgraphs
// and @shareable ones; entity fields that bounce between subgraphs;
// value types shared whole or split field by field; interfaces and unions
// whose members are spread over subgraphs, an entity interface with
// @interfaceObject subgraphs; @external with @requires (plain, nested field
// sets, arguments), @provides, @override (also progressive, with a label),
// @inaccessible; lists and non-null at several depths, arguments with
// defaults, enums and input objects; root queries and a mutation. Drawn
// after those (features.go): a Relay-style interface Node over entities
// and references, an interface implementing it, the entity interface
// keyed in two subgraphs, @provides of nested paths, @tag, @deprecated,
// @cost and @listSize; with Features (GenerateWith), @authenticated,
// @requiresScopes, @policy and @context/@fromContext. Drawn last
// (shapes.go): @requires of @inaccessible fields and types (@external as a
// whole where required), @requires through lists, @provides with type
// conditions on abstract fields, mutations in a second subgraph,
// @inaccessible arguments, input fields, enum values and implementations.
// Drawn after those (shapes17.go): key chains over three or four
// subgraphs, keys through another entity, input enums and input objects
// differing per subgraph, @override with custom labels, @composeDirective,
// and with Features scopes merged from several subgraphs and contexts
// read two hops below an abstract type.
//
// Composition (schema/compose, @apollo/composition) stays the judge: a
// graph the generator gets wrong is skipped by its callers and is a
// finding of its own when the two composers disagree on it.
package graphgen

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Subgraph is one generated subgraph schema.
type Subgraph struct {
	// Name is the subgraph name ("a", "b", ...).
	Name string
	// SDL is its schema text.
	SDL string
}

// Graph is a generated federated graph.
type Graph struct {
	Seed      int64
	Subgraphs []Subgraph
}

// Features are the parts of Federation a graph may use beyond what every
// gateway of the differential test serves alike.
type Features struct {
	// Authorization: @authenticated, @requiresScopes and @policy, which
	// fedgate enforces and the reference gateways as started do not.
	Authorization bool
	// Contexts: @context and @fromContext, whose supergraph Apollo
	// Gateway 2.14 refuses.
	Contexts bool
}

// All is every feature: the graphs the composition tests compose.
var All = Features{Authorization: true, Contexts: true}

// Generate returns the graph of seed without the optional Features; the
// same seed gives the same graph.
func Generate(seed int64) Graph { return GenerateWith(seed, Features{}) }

// GenerateWith returns the graph of seed using the features f. The graph
// of a seed with more features is the one without them plus their types,
// fields and directives.
func GenerateWith(seed int64, f Features) Graph {
	g := &gen{r: rand.New(rand.NewSource(seed)), feat: f}
	g.build()
	out := Graph{Seed: seed}
	for _, s := range g.subs {
		out.Subgraphs = append(out.Subgraphs, Subgraph{Name: s.name, SDL: s.print()})
	}
	return out
}

// field is one field definition in one subgraph.
type field struct {
	name, args, typ string
	dirs            []string
}

// typeDef is one type definition in one subgraph.
type typeDef struct {
	kind       string // type, interface, union, enum, input
	name       string
	implements []string
	dirs       []string
	fields     []*field
	values     []string // enum values or union members
}

func (t *typeDef) field(name string) *field {
	for _, f := range t.fields {
		if f.name == name {
			return f
		}
	}
	return nil
}

type sub struct {
	name  string
	types []*typeDef
	// imports: federation directives beyond the base header's that the
	// subgraph uses; minor: the federation version it links (7 unless
	// a directive needs a later one).
	imports []string
	minor   int
	// links: more schema extensions after the header (another spec's
	// @link); directives: directive definitions, printed after them.
	links      []string
	directives []string
}

// use imports directive name (with its "@") into the subgraph, linking at
// least federation v2.minor.
func (s *sub) use(name string, minor int) {
	if s.minor < minor {
		s.minor = minor
	}
	for _, n := range s.imports {
		if n == name {
			return
		}
	}
	s.imports = append(s.imports, name)
}

func (s *sub) get(name string) *typeDef {
	for _, t := range s.types {
		if t.name == name {
			return t
		}
	}
	return nil
}

func (s *sub) add(t *typeDef) *typeDef {
	s.types = append(s.types, t)
	return t
}

// baseImports are the federation directives every subgraph imports.
const baseImports = `"@key", "@shareable", "@external", "@requires", "@provides", "@override", "@inaccessible", "@interfaceObject"`

func (s *sub) header() string {
	imports := baseImports
	for _, n := range s.imports {
		imports += fmt.Sprintf(", %q", n)
	}
	return fmt.Sprintf(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.%d", import: [%s])`, max(7, s.minor), imports)
}

func (s *sub) print() string {
	var b strings.Builder
	b.WriteString(s.header() + "\n")
	for _, l := range s.links {
		b.WriteString(l + "\n")
	}
	for _, d := range s.directives {
		b.WriteString("\n" + d + "\n")
	}
	for _, t := range s.types {
		b.WriteString("\n")
		dirs := ""
		for _, d := range t.dirs {
			dirs += " " + d
		}
		switch t.kind {
		case "union":
			fmt.Fprintf(&b, "union %s%s = %s\n", t.name, dirs, strings.Join(t.values, " | "))
			continue
		case "enum":
			fmt.Fprintf(&b, "enum %s%s {\n", t.name, dirs)
			for _, v := range t.values {
				fmt.Fprintf(&b, "  %s\n", v)
			}
			b.WriteString("}\n")
			continue
		}
		b.WriteString(t.kind + " " + t.name)
		if len(t.implements) > 0 {
			b.WriteString(" implements " + strings.Join(t.implements, " & "))
		}
		for _, d := range t.dirs {
			b.WriteString(" " + d)
		}
		b.WriteString(" {\n")
		for _, f := range t.fields {
			fmt.Fprintf(&b, "  %s%s: %s", f.name, f.args, f.typ)
			for _, d := range f.dirs {
				b.WriteString(" " + d)
			}
			b.WriteString("\n")
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// keyField is a field of an entity's primary key.
type keyField struct {
	name, typ string
	// nested: the key selects these leaves of a value type typ.
	nested []keyField
}

// efield is a non-key field of an entity, resolved by its owners.
type efield struct {
	name, args, typ string
	owners          []int
	// plain: a leaf field of one owner with no directive, which @requires
	// and @provides may name.
	plain bool
	leaf  bool
	// value: the field's type is the shared value type Point.
	value bool
	// ref: the entity a field of one owner returns, which @requires may
	// select the key of.
	ref *entity
	// computed: a @requires field, which @provides leaves alone.
	computed bool
	defs     map[int]*field
}

type entity struct {
	name    string
	primary string
	keys    []keyField
	owners  []int
	// alt: owners that also resolve the entity by upc; altOnly: owners
	// that resolve it by upc alone.
	alt, altOnly map[int]bool
	fields       []*efield
	// account: an implementation of the entity interface Account.
	account bool
	// banned: subgraphs that must not define the entity (they abstract
	// Account with @interfaceObject).
	banned map[int]bool
}

type gen struct {
	r        *rand.Rand
	feat     Features
	subs     []*sub
	entities []*entity
	nameSeq  int
	// overridden: TYPE.FIELD moved by @override; its source may not
	// have @provides.
	overridden map[string]bool
	// filterMax: subgraphs whose Filter has the field max.
	filterMax map[int]bool
	// mood: the values of the output-only enum Mood per subgraph.
	mood map[int][]string
	// accountSub: the subgraph defining the entity interface Account (-1:
	// none); accountImpls its implementations; accountObjects the
	// subgraphs with Account as an @interfaceObject.
	accountSub     int
	accountImpls   []string
	accountObjects map[int]bool
	// accountScores: the field each @interfaceObject subgraph adds.
	accountScores map[int]*field
}

func (g *gen) chance(n int) bool { return g.r.Intn(n) == 0 }

func (g *gen) pick(n int) int { return g.r.Intn(n) }

// subset returns k distinct subgraph indexes in increasing order.
func (g *gen) subset(k int) []int {
	p := g.r.Perm(len(g.subs))[:k]
	sort.Ints(p)
	return p
}

func (g *gen) fresh(prefix string) string {
	g.nameSeq++
	return fmt.Sprintf("%s%d", prefix, g.nameSeq)
}

var entityNames = []string{"Product", "User", "Review", "Store", "Order"}

func (g *gen) build() {
	n := 2 + g.pick(4)
	for i := 0; i < n; i++ {
		g.subs = append(g.subs, &sub{name: string(rune('a' + i))})
	}
	g.mood = map[int][]string{}
	g.overridden = map[string]bool{}
	g.filterMax = map[int]bool{}
	g.accountSub = -1
	g.accountScores = map[int]*field{}
	for i := range g.subs {
		g.filterMax[i] = g.chance(3)
	}
	for i := range g.subs {
		vals := []string{"HAPPY"}
		for _, v := range []string{"SAD", "CALM", "ANGRY"} {
			if g.chance(2) {
				vals = append(vals, v)
			}
		}
		g.mood[i] = vals
	}
	m := 2 + g.pick(4)
	for i := 0; i < m; i++ {
		g.entities = append(g.entities, g.newEntity(entityNames[i]))
	}
	if g.chance(2) {
		g.accounts()
	}
	for _, e := range g.entities {
		for k := 0; k < 2+g.pick(5); k++ {
			g.entityField(e)
		}
		if len(e.owners) > 1 && g.chance(3) {
			g.splitValue(e)
		}
	}
	for _, e := range g.entities {
		for k := 0; k < 3; k++ {
			if g.chance(2) {
				g.requires(e)
			}
		}
	}
	for _, e := range g.entities {
		g.rootFields(e)
	}
	if g.chance(2) {
		g.media()
	}
	if g.chance(2) {
		g.union()
	}
	if g.chance(2) {
		g.mutation()
	}
	for i := 0; i < 1+g.pick(3); i++ {
		g.provides()
	}
	// Later features draw after the base graph: a seed's base graph stays
	// the one earlier sessions ran, these add to it.
	g.later()
	g.pings()
}

// pings gives a subgraph without any type a root field: a subgraph
// without a Query type is fine, without any type is not. Session 17's
// shapes run it first, so a subgraph they add types to keeps the field
// it had in earlier sessions' graphs.
func (g *gen) pings() {
	for i, s := range g.subs {
		if len(s.types) == 0 {
			g.query(i).fields = append(g.query(i).fields, &field{name: "ping" + s.name, typ: "Int"})
		}
	}
}

// newEntity decides an entity's keys and owners and writes its keyed type
// into each owner.
func (g *gen) newEntity(name string) *entity {
	e := &entity{name: name, alt: map[int]bool{}, altOnly: map[int]bool{}}
	switch g.pick(5) {
	case 0, 1:
		e.keys = []keyField{{name: "id", typ: "ID!"}}
	case 2:
		e.keys = []keyField{{name: "id", typ: "Int!"}}
	case 3:
		e.keys = []keyField{{name: "id", typ: "ID!"}, {name: "sku", typ: "String!"}}
	case 4:
		e.keys = []keyField{{name: "id", typ: "ID!"}, {name: "loc", typ: name + "Loc!", nested: []keyField{{name: "code", typ: "String!"}, {name: "zone", typ: "Int!"}}}}
	}
	e.primary = keySet(e.keys)
	owners := 1 + g.pick(min(3, len(g.subs)))
	e.owners = g.subset(owners)
	if g.chance(3) {
		for _, o := range e.owners {
			if g.chance(2) {
				e.alt[o] = true
			}
		}
		// One owner may know the entity by upc alone, reached through an
		// owner that has both keys.
		if len(e.alt) > 0 && len(e.owners) > 1 && g.chance(2) {
			for _, o := range e.owners {
				if !e.alt[o] {
					e.alt[o], e.altOnly[o] = true, true
					break
				}
			}
		}
	}
	for _, o := range e.owners {
		t := g.subs[o].add(&typeDef{kind: "type", name: name})
		if !e.altOnly[o] {
			t.dirs = append(t.dirs, fmt.Sprintf("@key(fields: %q)", e.primary))
			g.writeKeyFields(o, t, e.keys)
		}
		if e.alt[o] {
			t.dirs = append(t.dirs, `@key(fields: "upc")`)
			t.fields = append(t.fields, &field{name: "upc", typ: "String!"})
		}
	}
	return e
}

func keySet(keys []keyField) string {
	var parts []string
	for _, k := range keys {
		if len(k.nested) > 0 {
			parts = append(parts, k.name+" { "+keySet(k.nested)+" }")
		} else {
			parts = append(parts, k.name)
		}
	}
	return strings.Join(parts, " ")
}

func (g *gen) writeKeyFields(s int, t *typeDef, keys []keyField) {
	for _, k := range keys {
		t.fields = append(t.fields, &field{name: k.name, typ: k.typ})
		if len(k.nested) > 0 {
			vt := strings.TrimSuffix(k.typ, "!")
			if g.subs[s].get(vt) == nil {
				v := g.subs[s].add(&typeDef{kind: "type", name: vt, dirs: []string{"@shareable"}})
				for _, nk := range k.nested {
					v.fields = append(v.fields, &field{name: nk.name, typ: nk.typ})
				}
			}
		}
	}
}

// usable reports whether subgraph s may define entity e.
func (e *entity) usable(s int) bool { return !e.banned[s] }

// usableIn returns the entities every subgraph of subs may define.
func (g *gen) usableIn(subs ...int) []*entity {
	var out []*entity
	for _, e := range g.entities {
		ok := true
		for _, s := range subs {
			ok = ok && e.usable(s)
		}
		if ok {
			out = append(out, e)
		}
	}
	return out
}

// has makes entity e usable in subgraph s: an owner has it; elsewhere a
// reference under `resolvable: false` is written.
func (g *gen) has(s int, e *entity) *typeDef {
	if t := g.subs[s].get(e.name); t != nil {
		return t
	}
	t := g.subs[s].add(&typeDef{kind: "type", name: e.name, dirs: []string{fmt.Sprintf("@key(fields: %q, resolvable: false)", e.primary)}})
	g.writeKeyFields(s, t, e.keys)
	return t
}

func (g *gen) isOwner(s int, e *entity) bool {
	for _, o := range e.owners {
		if o == s {
			return true
		}
	}
	return false
}

// ensure writes a shared type into subgraph s once.
func (g *gen) ensure(s int, name string) {
	sb := g.subs[s]
	if sb.get(name) != nil {
		return
	}
	switch name {
	case "Color":
		sb.add(&typeDef{kind: "enum", name: "Color", values: []string{"RED", "GREEN", "BLUE"}})
	case "Mood":
		sb.add(&typeDef{kind: "enum", name: "Mood", values: g.mood[s]})
	case "Filter":
		g.ensure(s, "Color")
		t := sb.add(&typeDef{kind: "input", name: "Filter", fields: []*field{
			{name: "min", typ: "Int", args: ""}, {name: "color", typ: "Color = GREEN"}, {name: "tags", typ: "[String!]"},
		}})
		if g.filterMax[s] {
			// An optional input field only some subgraphs have: the
			// supergraph's Filter leaves it out.
			t.fields = append(t.fields, &field{name: "max", typ: "Int"})
		}
	case "Point":
		g.ensure(s, "Color")
		sb.add(&typeDef{kind: "type", name: "Point", dirs: []string{"@shareable"}, fields: []*field{
			{name: "x", typ: "Int!"}, {name: "y", typ: "Float"}, {name: "color", typ: "Color"}, {name: "tags", typ: "[String!]!"},
		}})
	}
}

// ensureFor writes the shared types text names into subgraph s.
func (g *gen) ensureFor(s int, text string) {
	for _, named := range []string{"Color", "Mood", "Point", "Filter"} {
		if strings.Contains(text, named) {
			g.ensure(s, named)
		}
	}
}

// wrap puts a named type under random list and non-null wrappers.
func (g *gen) wrap(named string) string {
	switch g.pick(9) {
	case 0, 1, 2:
		return named
	case 3, 4:
		return named + "!"
	case 5:
		return "[" + named + "]"
	case 6:
		return "[" + named + "!]!"
	case 7:
		return "[" + named + "!]"
	default:
		if g.chance(2) {
			return "[[" + named + "!]]"
		}
		return "[" + named + "]!"
	}
}

// args returns a random argument list (maybe empty) for subgraph s.
func (g *gen) args(s int) string {
	switch g.pick(7) {
	case 0:
		return "(x: Int = 3)"
	case 1:
		g.ensure(s, "Color")
		return "(c: Color = RED, n: Int)"
	case 2:
		g.ensure(s, "Filter")
		return `(f: Filter = {min: 1}, s: String = "q")`
	case 3:
		return "(n: Int!)"
	}
	return ""
}

// entityField adds a non-key field to e, resolved by one owner or shared.
func (g *gen) entityField(e *entity) {
	ef := &efield{name: g.fresh(strings.ToLower(e.name[:1])), defs: map[int]*field{}}
	owner := e.owners[g.pick(len(e.owners))]
	ef.owners = []int{owner}
	shared := len(e.owners) > 1 && g.chance(3)
	if shared {
		ef.owners = e.owners
	}
	ef.args = g.args(owner)
	switch k := g.pick(10); {
	case k < 5:
		named := []string{"Int", "String", "Float", "Boolean", "ID", "Color", "Mood"}[g.pick(7)]
		if named == "Mood" && shared {
			named = "Color" // a shared field has one type everywhere
		}
		ef.typ = g.wrap(named)
		ef.leaf = true
		ef.plain = !shared && !strings.HasPrefix(ef.typ, "[[")
	case k < 7:
		ef.typ = g.wrap("Point")
		ef.value = !strings.Contains(ef.typ, "[")
		ef.plain = !shared && ef.value
	default:
		// A reference to another entity (or itself): chains that bounce
		// between subgraphs.
		targets := g.usableIn(ef.owners...)
		to := targets[g.pick(len(targets))]
		if g.chance(4) && g.allHave(ef.owners, "Account") {
			// The entity interface below an entity: its fields from the
			// @interfaceObject subgraphs, its implementations' from theirs.
			ef.typ = g.wrap("Account")
			break
		}
		ef.typ = g.wrap(to.name)
		for _, o := range ef.owners {
			g.has(o, to)
		}
		if !shared && !strings.HasPrefix(ef.typ, "[[") && !strings.Contains(ef.args, "Filter") {
			ef.ref = to
		}
	}
	relaxed := false
	for i, o := range ef.owners {
		g.ensureFor(o, ef.typ+ef.args)
		f := &field{name: ef.name, args: ef.args, typ: ef.typ}
		if shared {
			f.dirs = append(f.dirs, "@shareable")
			// Copies of a shared field may differ where composition
			// merges them: nullable in one subgraph (the supergraph's
			// type is nullable), an optional argument only one has
			// (left out of the supergraph), @inaccessible in one.
			if i > 0 && !relaxed && strings.Contains(f.typ, "!") && g.chance(3) {
				// Once: two copies relaxed differently ([T]! and [T!])
				// have no common type composition would pick.
				relaxed = true
				cut := strings.LastIndex(f.typ, "!")
				if g.chance(2) {
					cut = strings.Index(f.typ, "!")
				}
				f.typ = f.typ[:cut] + f.typ[cut+1:]
			}
			if g.chance(6) {
				if f.args == "" {
					f.args = "(extra: Int)"
				} else {
					f.args = strings.TrimSuffix(f.args, ")") + ", extra: Int)"
				}
			}
			if g.chance(15) {
				f.dirs = append(f.dirs, "@inaccessible")
			}
		}
		g.subs[o].get(e.name).fields = append(g.subs[o].get(e.name).fields, f)
		ef.defs[o] = f
	}
	switch {
	case !shared && ef.plain && g.chance(10):
		ef.defs[owner].dirs = append(ef.defs[owner].dirs, "@inaccessible")
		ef.plain = false
	case !shared && len(e.owners) > 1 && g.chance(6):
		// @override: another owner resolves the field too, the one that
		// takes it over names it; with a label, progressively.
		var from int
		for {
			from = e.owners[g.pick(len(e.owners))]
			if from != owner {
				break
			}
		}
		for _, to := range g.entities {
			if strings.Trim(ef.typ, "[]!") == to.name && !to.usable(from) {
				e.fields = append(e.fields, ef)
				return
			}
		}
		if strings.Trim(ef.typ, "[]!") == "Account" && g.subs[from].get("Account") == nil {
			e.fields = append(e.fields, ef)
			return
		}
		g.overridden[e.name+"."+ef.name] = true
		fromType := g.subs[from].get(e.name)
		f := &field{name: ef.name, args: ef.args, typ: ef.typ}
		fromType.fields = append(fromType.fields, f)
		g.ensureFor(from, ef.typ+ef.args)
		for _, to := range g.entities {
			if strings.Trim(ef.typ, "[]!") == to.name {
				g.has(from, to)
			}
		}
		label := ""
		if g.chance(2) && !strings.Contains(ef.typ, "Mood") {
			label = fmt.Sprintf(", label: \"percent(%d)\"", []int{0, 50, 100}[g.pick(3)])
		}
		ef.defs[owner].dirs = append(ef.defs[owner].dirs, fmt.Sprintf("@override(from: %q%s)", g.subs[from].name, label))
		ef.plain, ef.ref = false, nil
	}
	e.fields = append(e.fields, ef)
}

// splitValue adds a field shared by every owner of e whose value type has
// other fields in each: a field of it only one subgraph has is reached by
// an entity jump to that subgraph.
func (g *gen) splitValue(e *entity) {
	vt := e.name + "Stats"
	name := g.fresh("stats")
	typ := vt
	if g.chance(2) {
		typ = "[" + vt + "!]"
	}
	pool := []string{"count", "avg", "max", "last"}
	for _, o := range e.owners {
		t := g.subs[o].add(&typeDef{kind: "type", name: vt, dirs: []string{"@shareable"}})
		t.fields = append(t.fields, &field{name: "count", typ: "Int"})
		for _, p := range pool[1:] {
			if g.chance(2) {
				t.fields = append(t.fields, &field{name: p, typ: map[string]string{"avg": "Float", "max": "Int!", "last": "String"}[p]})
			}
		}
		g.subs[o].get(e.name).fields = append(g.subs[o].get(e.name).fields, &field{name: name, typ: typ, dirs: []string{"@shareable"}})
	}
}

// requires adds to one owner of e a field that @requires fields another
// owner resolves: a leaf, a nested selection of a Point, a field with
// arguments given in the field set.
func (g *gen) requires(e *entity) {
	if len(e.owners) < 2 {
		return
	}
	s := e.owners[g.pick(len(e.owners))]
	var cands []*efield
	for _, f := range e.fields {
		// Mood's values differ per subgraph: a required or provided value
		// must be one the subgraph knows.
		// The entity's id must come with the field from its owner: with
		// a jump to another subgraph inside the @requires selection,
		// @apollo/composition refuses some graphs (docs/differential.md,
		// "Generated graphs").
		refOK := f.ref != nil && f.ref.usable(s) && (g.subs[s].get(f.ref.name) == nil || g.subs[s].get(f.ref.name).field("id") != nil) &&
			g.subs[f.owners[0]].get(f.ref.name).field("id") != nil
		if (f.plain || refOK) && f.owners[0] != s && g.subs[s].get(e.name).field(f.name) == nil && !strings.Contains(f.args, "Filter") && !strings.Contains(f.typ, "Mood") {
			cands = append(cands, f)
		}
	}
	if len(cands) == 0 {
		return
	}
	var sets []string
	for _, i := range g.r.Perm(len(cands))[:1+g.pick(min(3, len(cands)))] {
		f := cands[i]
		set := f.name
		switch f.args {
		case "(x: Int = 3)":
			set += "(x: 5)"
		case "(c: Color = RED, n: Int)":
			set += "(c: BLUE)"
		case "(n: Int!)":
			set += "(n: 2)"
		}
		if f.value {
			set += []string{" { x }", " { x color }", " { tags }"}[g.pick(3)]
			g.ensure(s, "Point")
		}
		if f.ref != nil {
			// The key of an entity another subgraph returns.
			set += " { id }"
			g.has(s, f.ref)
		}
		if strings.Contains(f.typ, "Color") || strings.Contains(f.args, "Color") {
			g.ensure(s, "Color")
		}
		if strings.Contains(f.typ, "Mood") {
			g.ensure(s, "Mood")
		}
		g.subs[s].get(e.name).fields = append(g.subs[s].get(e.name).fields, &field{name: f.name, args: f.args, typ: f.typ, dirs: []string{"@external"}})
		sets = append(sets, set)
	}
	typ := []string{"Int", "String!", "[Float]", "Color"}[g.pick(4)]
	if typ == "Color" {
		g.ensure(s, "Color")
	}
	args := ""
	if g.chance(3) {
		args = "(scale: Int = 2)"
	}
	f := &field{name: g.fresh("needs"), args: args, typ: typ, dirs: []string{fmt.Sprintf("@requires(fields: %q)", strings.Join(sets, " "))}}
	g.subs[s].get(e.name).fields = append(g.subs[s].get(e.name).fields, f)
	// Another owner may require it in turn: a chain of @requires across
	// subgraphs.
	e.fields = append(e.fields, &efield{name: f.name, args: args, typ: typ, owners: []int{s}, plain: true, leaf: true, computed: true, defs: map[int]*field{s: f}})
}

// allHave reports whether every subgraph of subs defines type name.
func (g *gen) allHave(subs []int, name string) bool {
	for _, s := range subs {
		if g.subs[s].get(name) == nil {
			return false
		}
	}
	return true
}

func (g *gen) query(s int) *typeDef {
	if t := g.subs[s].get("Query"); t != nil {
		return t
	}
	return g.subs[s].add(&typeDef{kind: "type", name: "Query"})
}

// rootFields gives e one to three root fields in random subgraphs, owners
// or not, one of them maybe @shareable in two subgraphs.
func (g *gen) rootFields(e *entity) {
	low := strings.ToLower(e.name)
	var subs []int
	for s := range g.subs {
		if e.usable(s) {
			subs = append(subs, s)
		}
	}
	for k := 0; k < 1+g.pick(2); k++ {
		s := subs[g.pick(len(subs))]
		g.has(s, e)
		switch g.pick(3) {
		case 0:
			g.query(s).fields = append(g.query(s).fields, &field{name: g.fresh(low), args: "(id: ID!)", typ: e.name})
		case 1:
			g.ensure(s, "Filter")
			g.query(s).fields = append(g.query(s).fields, &field{name: g.fresh(low + "s"), args: "(first: Int = 2, f: Filter)", typ: "[" + e.name + "!]!"})
		default:
			g.query(s).fields = append(g.query(s).fields, &field{name: g.fresh("top" + e.name), typ: g.wrap(e.name)})
		}
	}
	if len(subs) > 1 && g.chance(3) {
		name := g.fresh("shared" + e.name)
		typ := g.wrap(e.name)
		p := g.r.Perm(len(subs))
		for _, s := range []int{subs[p[0]], subs[p[1]]} {
			g.has(s, e)
			g.query(s).fields = append(g.query(s).fields, &field{name: name, typ: typ, dirs: []string{"@shareable"}})
		}
	}
}

// accounts adds an entity interface Account, implemented by entities of
// one subgraph, and @interfaceObject definitions of it in others.
func (g *gen) accounts() {
	if len(g.subs) < 2 {
		return
	}
	s := g.pick(len(g.subs))
	objects := map[int]bool{}
	for o := range g.subs {
		if o != s && (o == (s+1)%len(g.subs) || g.chance(2)) {
			objects[o] = true
		}
	}
	iface := g.subs[s].add(&typeDef{kind: "interface", name: "Account", dirs: []string{`@key(fields: "id")`},
		fields: []*field{{name: "id", typ: "ID!"}, {name: "handle", typ: "String"}}})
	for _, name := range []string{"Admin", "Member"}[:1+g.pick(2)] {
		e := &entity{name: name, primary: "id", keys: []keyField{{name: "id", typ: "ID!"}}, owners: []int{s}, alt: map[int]bool{}, altOnly: map[int]bool{}, account: true, banned: objects}
		g.subs[s].add(&typeDef{kind: "type", name: name, implements: []string{"Account"}, dirs: []string{`@key(fields: "id")`},
			fields: []*field{{name: "id", typ: "ID!"}, {name: "handle", typ: "String"}}})
		// Other subgraphs may resolve the implementation too.
		for o := range g.subs {
			if o != s && !objects[o] && g.chance(3) {
				e.owners = append(e.owners, o)
				g.subs[o].add(&typeDef{kind: "type", name: name, dirs: []string{`@key(fields: "id")`}, fields: []*field{{name: "id", typ: "ID!"}}})
			}
		}
		sort.Ints(e.owners)
		g.entities = append(g.entities, e)
		g.accountImpls = append(g.accountImpls, name)
	}
	_ = iface
	g.accountSub, g.accountObjects = s, objects
	g.query(s).fields = append(g.query(s).fields, &field{name: "account", args: "(id: ID!)", typ: "Account"})
	for o := range g.subs {
		if !objects[o] {
			continue
		}
		extra := g.fresh("score")
		score := &field{name: extra, args: g.args(o), typ: g.wrap("Int")}
		g.subs[o].add(&typeDef{kind: "type", name: "Account", dirs: []string{`@key(fields: "id")`, "@interfaceObject"},
			fields: []*field{{name: "id", typ: "ID!"}, score}})
		g.accountScores[o] = score
		if g.chance(2) {
			g.query(o).fields = append(g.query(o).fields, &field{name: g.fresh("accounts"), typ: "[Account!]"})
		}
	}
}

// media adds a value interface Media whose implementations are spread over
// subgraphs, one per subgraph, sometimes an entity; each subgraph with
// one asks for its own.
func (g *gen) media() {
	impls := []string{"Book", "Movie", "Song", "Game", "Show"}
	for s := range g.subs {
		if !g.chance(2) && s != 0 {
			continue
		}
		g.subs[s].add(&typeDef{kind: "interface", name: "Media", fields: []*field{{name: "title", typ: "String"}, {name: "year", args: "(x: Int = 3)", typ: "Int!"}}})
		impl := impls[s]
		// An owned entity may implement Media here.
		for _, e := range g.entities {
			if g.isOwner(s, e) && !e.account && g.chance(3) {
				t := g.subs[s].get(e.name)
				if t.field("title") == nil && t.field("year") == nil {
					t.implements = append(t.implements, "Media")
					// Shareable: another subgraph may make the entity
					// implement Media too.
					t.fields = append(t.fields, &field{name: "title", typ: "String", dirs: []string{"@shareable"}}, &field{name: "year", args: "(x: Int = 3)", typ: "Int!", dirs: []string{"@shareable"}})
					impl = ""
				}
				break
			}
		}
		if impl != "" {
			g.subs[s].add(&typeDef{kind: "type", name: impl, implements: []string{"Media"}, fields: []*field{
				{name: "title", typ: "String"}, {name: "year", args: "(x: Int = 3)", typ: "Int!"}, {name: strings.ToLower(impl) + "Only", typ: g.wrap("String")},
			}})
		}
		g.query(s).fields = append(g.query(s).fields, &field{name: "media" + strings.ToUpper(g.subs[s].name), typ: g.wrap("Media")})
	}
}

// union adds a union Result whose members differ per subgraph.
func (g *gen) union() {
	for s := range g.subs {
		if !g.chance(2) && s != len(g.subs)-1 {
			continue
		}
		var members []string
		for _, e := range g.entities {
			if g.subs[s].get(e.name) != nil && !e.account && g.chance(2) {
				members = append(members, e.name)
			}
		}
		if len(members) == 0 || g.chance(3) {
			g.ensure(s, "Point")
			members = append(members, "Point")
		}
		g.subs[s].add(&typeDef{kind: "union", name: "Result", values: members})
		g.query(s).fields = append(g.query(s).fields, &field{name: "search" + strings.ToUpper(g.subs[s].name), args: "(term: String = \"a\")", typ: g.wrap("Result")})
	}
}

// mutation adds a Mutation type to one subgraph.
func (g *gen) mutation() {
	s := g.pick(len(g.subs))
	ents := g.usableIn(s)
	e := ents[g.pick(len(ents))]
	g.has(s, e)
	g.ensure(s, "Filter")
	g.subs[s].add(&typeDef{kind: "type", name: "Mutation", fields: []*field{
		{name: "touch" + e.name, args: "(id: ID!, f: Filter, c: Color = BLUE)", typ: e.name},
		{name: "bump", args: "(by: Int! = 1)", typ: "Int!"},
	}})
}

// provides puts @provides on a field returning an entity in a subgraph
// that does not resolve the provided leaf; its owner marks it @shareable.
func (g *gen) provides() {
	type site struct {
		s int
		t *typeDef
		f *field
		e *entity
	}
	var sites []site
	for s, sb := range g.subs {
		for _, t := range sb.types {
			if t.kind != "type" {
				continue
			}
			for _, f := range t.fields {
				if len(f.dirs) > 0 {
					continue
				}
				for _, e := range g.entities {
					if strings.Trim(f.typ, "[]!") == e.name && !g.overridden[t.name+"."+f.name] {
						sites = append(sites, site{s, t, f, e})
					}
				}
			}
		}
	}
	if len(sites) == 0 {
		return
	}
	st := sites[g.pick(len(sites))]
	var cands []*efield
	for _, f := range st.e.fields {
		if f.plain && f.leaf && !f.computed && f.owners[0] != st.s && f.args == "" && g.subs[st.s].get(st.e.name).field(f.name) == nil && !strings.Contains(f.typ, "Mood") {
			cands = append(cands, f)
		}
	}
	if len(cands) == 0 {
		return
	}
	f := cands[g.pick(len(cands))]
	if strings.Contains(f.typ, "Color") {
		g.ensure(st.s, "Color")
	}
	g.subs[st.s].get(st.e.name).fields = append(g.subs[st.s].get(st.e.name).fields, &field{name: f.name, typ: f.typ, dirs: []string{"@external"}})
	st.f.dirs = append(st.f.dirs, fmt.Sprintf("@provides(fields: %q)", f.name))
	def := f.defs[f.owners[0]]
	def.dirs = append(def.dirs, "@shareable")
	f.plain = false
}

// Text is the graph's subgraphs, each after a "# subgraph NAME" line.
func (g Graph) Text() string {
	var b strings.Builder
	for _, s := range g.Subgraphs {
		fmt.Fprintf(&b, "# subgraph %s\n%s\n", s.Name, s.SDL)
	}
	return b.String()
}

// WriteDir writes each subgraph to dir/NAME.graphql, the layout of a
// testdata/compose case.
func (g Graph) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("graph %d: %w", g.Seed, err)
	}
	for _, s := range g.Subgraphs {
		if err := os.WriteFile(filepath.Join(dir, s.Name+".graphql"), []byte(s.SDL), 0o644); err != nil {
			return fmt.Errorf("graph %d: %w", g.Seed, err)
		}
	}
	return nil
}
