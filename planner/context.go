package planner

import (
	"slices"

	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// Contexts (Federation 2.8 @context / @fromContext): a field with
// contextual arguments stays in an entity fetch below its root when the
// entity the fetch is for is the nearest ancestor that sets each of its
// contexts (the values are then read per entity); otherwise it is fetched
// by an entity fetch of its own type (its subgraph has a resolvable key
// for it: composition checks that). For
// each contextual argument, the context's selection is planned at the
// nearest ancestor selection whose type sets the context, like a
// @requires input, with that ancestor's __typename (the object itself
// does not count, as in @apollo/composition); the fetch records,
// per ancestor type, where the value is in the response (ContextInput),
// and passes it as a variable. The executor walks up from each object to
// its nearest ancestor of a context type, reads the value and sends
// objects whose values differ in aliased _entities fields of one request
// (ContextTemplate).

// frame is one object selection above the field being routed: its
// concrete type, the fetch group and selection that hold it, its
// response path and what is provided there.
type frame struct {
	typ  string
	ts   *typeSel
	g    *group
	path []string
	prov *provided
	next *frame
}

// addContexts plans the context values of f's contextual arguments in
// subgraph g (an entity fetch at f's parent), records them in g and
// returns f with the arguments added as variables.
func (b *builder) addContexts(rc routeCtx, g *group, typ string, f *Field, fg *schema.FieldInGraph, path []string) *Field {
	args := slices.Clone(f.Arguments)
	for _, ca := range fg.ContextArguments {
		variable := b.contextVariable(g.graph, typ, f.Name, ca.Name)
		types := b.sg.Contexts[ca.Context]
		fr := b.nearestContext(rc, typ, path, types)
		var in *ContextInput
		if g.readsFrom(fr) && !samePath(path, g.path) {
			// Below the entity g is fetched for, which sets the context.
			in = g.contextInput(variable, ca.Type, fr.typ, types, true)
		} else {
			in = g.contextInput(variable, ca.Type, typ, types, false)
		}
		if fr != nil {
			b.planContext(rc, g, in, fr, ca)
		}
		args = append(args, &ast.Argument{Name: ca.Name, Value: &ast.Value{Kind: ast.Variable, Raw: in.Variable}})
	}
	c := *f
	c.Arguments = args
	return &c
}

// nearestContext returns the nearest frame above the object of type typ
// at path (not that object itself) whose type is one of types, or nil.
func (b *builder) nearestContext(rc routeCtx, typ string, path []string, types []string) *frame {
	for fr := rc.ancestors; fr != nil; fr = fr.next {
		if fr == rc.ancestors && fr.typ == typ && samePath(fr.path, path) {
			// The object itself: a context is set by an ancestor.
			continue
		}
		if slices.Contains(types, fr.typ) {
			return fr
		}
	}
	return nil
}

// contextsAtRoot reports whether field fg of typ, planned inside entity
// fetch g below its root, can stay there: the nearest ancestor that sets
// each of its contexts is the entity g is fetched for, whose objects the
// executor reads the values from.
func (b *builder) contextsAtRoot(rc routeCtx, g *group, typ string, fg *schema.FieldInGraph, path []string) bool {
	if !g.entity || samePath(path, g.path) {
		return false
	}
	for _, ca := range fg.ContextArguments {
		fr := b.nearestContext(rc, typ, path, b.sg.Contexts[ca.Context])
		if !g.readsFrom(fr) {
			return false
		}
	}
	return true
}

// readsFrom reports whether fr is the object entity fetch g is fetched
// for, as its parent fetch holds it: the executor reads context values
// of fr's type from g's representations.
func (g *group) readsFrom(fr *frame) bool {
	return fr != nil && fr.g != g && samePath(fr.path, g.path) && g.parentSel[fr.typ] == fr.ts
}

// planContext plans the selection of ca at the ancestor fr, into fr's
// fetch (or fetches after it, which g then waits for).
func (b *builder) planContext(rc routeCtx, g *group, in *ContextInput, fr *frame, ca *schema.ContextArgument) {
	sel := b.fieldSet(fr.typ, ca.Selection)
	if sel == nil {
		return
	}
	fields := sel.FieldsFor(fr.typ)
	if len(fields) == 0 {
		return
	}
	fr.ts.add("__typename", "__typename", nil, nil)
	if fr.g != g {
		g.deps = appendUnique(g.deps, fr.g)
	}
	b.planInput(rc, g, func(inner routeCtx) {
		inner.ancestors = fr
		for _, cf := range fields {
			b.planField(inner, fr.g, fr.ts, fr.typ, cf, fr.path, fr.prov, false)
		}
	})
	for _, s := range in.Sources {
		if s.TypeName == fr.typ {
			s.Fields = b.mergeRequired(s.Fields, fields, fr.ts, "")
			return
		}
	}
	in.Sources = append(in.Sources, &ContextSource{TypeName: fr.typ, Fields: b.mergeRequired(nil, fields, fr.ts, "")})
}

// contextVariable names the variable of a contextual argument: Apollo's
// name, unless the client's operation declares a variable of that name.
func (b *builder) contextVariable(graph, typ, field, arg string) string {
	name := b.sg.ContextVariable(graph, typ, field, arg)
	if name == "" {
		name = "contextualArgument_" + typ + "_" + field + "_" + arg
	}
	for b.op.Variables.ForName(name) != nil {
		name = "_fed_" + name
	}
	return name
}

// contextInput returns g's input for variable, added on first use.
// The variable read another way in g (for objects of another type, or from
// another level) gets a name of its own.
func (g *group) contextInput(variable, typ, typeName string, types []string, self bool) *ContextInput {
	name := variable
	for n := 1; ; n++ {
		var taken *ContextInput
		for _, in := range g.contexts {
			if in.Variable == name {
				taken = in
			}
		}
		if taken == nil {
			break
		}
		if taken.TypeName == typeName && taken.Self == self {
			return taken
		}
		name = variable + "_" + itoa(n)
	}
	in := &ContextInput{Variable: name, Type: typ, TypeName: typeName, Types: types, Self: self}
	g.contexts = append(g.contexts, in)
	return in
}
