package planner

import (
	"strings"

	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// Group pass: fetch groups (one subgraph fetch each, with the response
// paths it serves, its selection and its representations) and the
// selections they are built from.

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
	// present and collects are set by the merge pass: the object types
	// that can occur at the group's paths (nil: unknown) and those it
	// builds representations of.
	present, collects map[string]bool
	// contexts are the fetch's variables filled from contexts
	// (context.go).
	contexts []*ContextInput
	// step orders root groups of a mutation.
	step int
	// part is the @defer fragment the fetch is planned for (nil: the
	// primary part) when the builder plans parts apart (deferAware).
	part *Defer
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

func (b *builder) newGroup(graph string, entity bool, path []string, parent *group, part *Defer) *group {
	g := &group{id: len(b.groups), graph: graph, entity: entity, path: path, paths: [][]string{path}, parent: parent,
		sel: &subSel{abstract: entity}, part: part}
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

// openEntityFetch returns the entity fetch to target for the objects of
// runtime type typ that ts selects in g at path (an existing one when it
// fits), with the key's fields in its representation, which names
// repType (the interface, for an @interfaceObject target).
func (b *builder) openEntityFetch(rc routeCtx, g *group, ts *typeSel, target, typ, repType string, key *schema.Key, path []string, prov *provided, part *Defer) *group {
	eg := b.entityGroup(rc, target, path, g, typ, ts, part)
	if rc.touched != nil {
		*rc.touched = appendUnique(*rc.touched, eg)
	}
	if eg.parentSel[typ] == nil {
		eg.parentSel[typ] = ts
		eg.repType[typ] = repType
	}
	ts.add("__typename", "__typename", nil, nil)
	b.addRepresentation(rc, eg, typ, key.Selection, ts, path, prov, true)
	return eg
}

// rootGroup returns the root fetch of a query for graph and part.
func (b *builder) rootGroup(graph string, part *Defer) *group {
	for _, g := range b.groups {
		if !g.entity && g.graph == graph && g.part == part {
			return g
		}
	}
	g := b.newGroup(graph, false, nil, nil, part)
	g.sel.typ = b.op.RootType
	return g
}

// entityGroup finds or creates the entity fetch to graph at path fed by
// parent, planned for part.
func (b *builder) entityGroup(rc routeCtx, graph string, path []string, parent *group, typ string, ps *typeSel, part *Defer) *group {
	for _, g := range b.groups {
		if g.entity && g.graph == graph && g.parent == parent && g.part == part && !rc.representing.has(g) && samePath(g.path, path) &&
			(g.parentSel[typ] == nil || g.parentSel[typ] == ps) && !rc.representing.awaitedBy(g) {
			return g
		}
	}
	return b.newGroup(graph, true, path, parent, part)
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

func appendUnique(list []*group, g *group) []*group {
	for _, x := range list {
		if x == g {
			return list
		}
	}
	return append(list, g)
}
