package planner

import (
	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// Representations: key and @requires fields planned into the parent
// fetch and recorded as the entity fetch's requirements.

// addRequires adds the fields of a @requires to the representation of the
// entity group g, fetched by g's parent (or by fetches that g then waits
// for).
func (b *builder) addRequires(rc routeCtx, g *group, typ string, fg *schema.FieldInGraph) {
	ps := g.parentSel[typ]
	if ps == nil {
		return
	}
	b.addRepresentation(rc, g, typ, fg.Requires, ps, g.path, nil, false)
}

// addRepresentation makes the fields of set part of g's representation of
// typ; they are planned into the parent's selection ps, and g waits for
// every fetch that planning needs.
func (b *builder) addRepresentation(rc routeCtx, g *group, typ string, set ast.SelectionSet, ps *typeSel, path []string, prov *provided, isKey bool) {
	sel := b.fieldSet(typ, set)
	if sel == nil {
		return
	}
	if _, ok := g.reqs[typ]; !ok {
		g.reqOrder = append(g.reqOrder, typ)
	}
	parent := g.parent
	b.planInput(rc, g, func(inner routeCtx) {
		// A subgraph never supplies its own key; required fields it may.
		if isKey {
			inner.cost.avoid = b.avoiding(rc.cost.avoid, g.graph)
		}
		for _, f := range sel.FieldsFor(typ) {
			b.planField(inner, parent, ps, typ, f, path, prov, parent.entity && samePath(parent.path, path))
		}
	})
	g.reqs[typ] = b.mergeRequired(g.reqs[typ], sel.FieldsFor(typ), ps, "")
}

// planInput runs plan, which plans an input of g (a representation's
// fields, a context's selection) into other fetches, with g as the group
// represented; g then waits for every fetch that planning touched, and
// the fetches count as touched by rc as well.
func (b *builder) planInput(rc routeCtx, g *group, plan func(inner routeCtx)) {
	var touched []*group
	inner := rc
	inner.touched = &touched
	inner.representing = &groupList{g: g, next: rc.representing}
	plan(inner)
	for _, ng := range touched {
		if ng != g {
			g.deps = appendUnique(g.deps, ng)
		}
		if rc.touched != nil {
			*rc.touched = appendUnique(*rc.touched, ng)
		}
	}
}

// mergeRequired records required fields in a representation, with the
// response keys under which the parent selection ps holds them.
func (b *builder) mergeRequired(list []*RequiredField, fields []*Field, ps *typeSel, cond string) []*RequiredField {
	for _, f := range fields {
		key := b.dataKey(f)
		var src *subField
		if ps != nil {
			for _, pf := range ps.fields {
				if pf.key == key && pf.name == f.Name {
					src = pf
					break
				}
			}

		}
		var rf *RequiredField
		for _, x := range list {
			if x.Name == f.Name && x.TypeCondition == cond {
				rf = x
			}
		}
		if rf == nil {
			rf = &RequiredField{Name: f.Name, Key: key, TypeCondition: cond, args: argsString(f.Arguments)}
			list = append(list, rf)
		}
		if f.Selection == nil {
			continue
		}
		if f.Selection.Abstract && len(rf.Fields) == 0 {
			rf.Fields = append(rf.Fields, &RequiredField{Name: "__typename", Key: "__typename"})
		}
		for _, tf := range f.Selection.ByType {
			var psub *typeSel
			if src != nil && src.sub != nil {
				for _, t := range src.sub.types {
					if t.typ == tf.Type {
						psub = t
					}
				}
			}
			subCond := ""
			if f.Selection.Abstract {
				subCond = tf.Type
			}
			rf.Fields = b.mergeRequired(rf.Fields, tf.Fields, psub, subCond)
		}
	}
	return list
}

// requiresConflict reports whether fg's @requires needs a field that g's
// representation of typ already holds with other arguments.
func (b *builder) requiresConflict(g *group, typ string, fg *schema.FieldInGraph) bool {
	sel := b.fieldSet(typ, fg.Requires)
	if sel == nil {
		return false
	}
	for _, f := range sel.FieldsFor(typ) {
		for _, rf := range g.reqs[typ] {
			if rf.Name == f.Name && rf.TypeCondition == "" && rf.args != argsString(f.Arguments) {
				return true
			}
		}
	}
	return false
}

// separateRequires plans f, whose @requires conflicts with g's, in a new
// entity fetch to g's subgraph at the same place.
func (b *builder) separateRequires(rc routeCtx, g *group, typ string, f *Field, path []string) {
	key := b.chooseKey(rc.cost, typ, g.graph, g.parent.graph, nil)
	if key == nil {
		b.fail("cannot plan field %s.%s: no key of %s in subgraph %s", typ, f.Name, typ, b.sg.Graph(g.graph).Name)
		return
	}
	ps := g.parentSel[typ]
	eg := b.newGroup(g.graph, true, path, g.parent, g.part)
	eg.parentSel[typ] = ps
	eg.repType[typ] = g.repType[typ]
	b.addRepresentation(rc, eg, typ, key.Selection, ps, path, nil, true)
	b.planField(rc, eg, eg.sel.forType(typ), typ, f, path, b.keysProvided(g.graph, typ), true)
}
