package planner

import "github.com/vektah/gqlparser/v2/ast"

// provided is the tree of fields a @provides makes resolvable below the
// field that carries it. Type conditions inside the field set are folded.
type provided struct {
	fields map[string]*provided
	// iface names the fields the field set selects on an interface only
	// (not also in a fragment on an object type): they are provided where
	// the client selects them on the interface, not where it selects the
	// implementation's own field in a fragment on it (see provFor).
	iface map[string]bool
}

func (p *provided) has(name string) bool {
	if p == nil {
		return false
	}
	_, ok := p.fields[name]
	return ok
}

func (p *provided) child(name string) *provided {
	if p == nil {
		return nil
	}
	return p.fields[name]
}

func (p *provided) merge(set ast.SelectionSet) *provided {
	if len(set) == 0 {
		return p
	}
	if p == nil {
		p = &provided{fields: map[string]*provided{}}
	}
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			c := p.fields[s.Name]
			if len(s.SelectionSet) > 0 || c == nil {
				c = c.merge(s.SelectionSet)
				if c == nil {
					c = &provided{fields: map[string]*provided{}}
				}
			}
			p.fields[s.Name] = c
		case *ast.InlineFragment:
			p = p.merge(s.SelectionSet)
		}
	}
	return p
}

// providedBy returns what is provided below typ.field when graph resolves
// it: what an enclosing @provides already gave plus the field's own.
func (b *builder) providedBy(graph, typ, field string, prov *provided) *provided {
	inner := prov.child(field)
	fg := b.fieldIn(graph, typ, field)
	if fg == nil || len(fg.Provides) == 0 {
		return inner
	}
	var out *provided
	out = out.mergeTree(inner)
	out = out.merge(fg.Provides)
	if t := b.sg.Types[typ]; t != nil && t.Fields[field] != nil {
		b.markInterfaceOnly(out, fg.Provides, t.Fields[field].Def.Type.Name())
	}
	return out
}

// markInterfaceOnly sets p.iface (and below) for the fields set selects
// on typ when typ is an interface, unless set also selects them in a
// fragment on an object type. p holds set merged.
func (b *builder) markInterfaceOnly(p *provided, set ast.SelectionSet, typ string) {
	onObject := map[string]bool{}
	var walk func(set ast.SelectionSet, typ string)
	walk = func(set ast.SelectionSet, typ string) {
		t := b.sg.Types[typ]
		for _, s := range set {
			switch s := s.(type) {
			case *ast.Field:
				if t != nil && t.Kind == ast.Interface {
					if !onObject[s.Name] {
						if p.iface == nil {
							p.iface = map[string]bool{}
						}
						p.iface[s.Name] = true
					}
				} else {
					onObject[s.Name] = true
					delete(p.iface, s.Name)
				}
				if len(s.SelectionSet) > 0 && t != nil && t.Fields[s.Name] != nil {
					b.markInterfaceOnly(p.fields[s.Name], s.SelectionSet, t.Fields[s.Name].Def.Type.Name())
				}
			case *ast.InlineFragment:
				cond := typ
				if s.TypeCondition != "" {
					cond = s.TypeCondition
				}
				walk(s.SelectionSet, cond)
			}
		}
	}
	walk(set, typ)
}

// provFor narrows prov, what is provided at an abstract selection, for
// the fields tf selects on one of its object types: a field provided on
// the interface only is not provided where the client selects it only
// as the object type's own field (in fragments on it), as Apollo's query
// planner and Hive Gateway read a @provides on an interface's field
// (federation audit provides-on-interface: `media { ... on Book { animals
// { name } } }` is not answered by the subgraph whose Book.animals is
// @external, though it provides Media.animals). A field selected on the
// interface too stays provided (Hive Gateway's plan; Apollo's depends on
// the sizes of the subgraph queries). The narrowed set is made once per
// plan.
func (b *builder) provFor(prov *provided, sel *SelectionSet, tf *TypeFields) *provided {
	if prov == nil || len(prov.iface) == 0 || !sel.Abstract {
		return prov
	}
	// A field counts as selected on the interface when any of its
	// selections (any response key) is: an alias does not change what
	// a subgraph provides.
	var onIface map[string]bool
	drop := false
	for _, f := range tf.Fields {
		if prov.iface[f.Name] && f.onInterface {
			if onIface == nil {
				onIface = map[string]bool{}
			}
			onIface[f.Name] = true
		}
	}
	for _, f := range tf.Fields {
		if prov.iface[f.Name] && !onIface[f.Name] && !f.internal {
			drop = true
			break
		}
	}
	if !drop {
		return prov
	}
	k := provNarrowing{prov, tf}
	if n, ok := b.provNarrowed[k]; ok {
		return n
	}
	n := &provided{fields: map[string]*provided{}, iface: prov.iface}
	for name, c := range prov.fields {
		n.fields[name] = c
	}
	for _, f := range tf.Fields {
		if prov.iface[f.Name] && !onIface[f.Name] && !f.internal {
			delete(n.fields, f.Name)
		}
	}
	if b.provNarrowed == nil {
		b.provNarrowed = map[provNarrowing]*provided{}
	}
	b.provNarrowed[k] = n
	return n
}

// provNarrowing names one narrowing of provFor.
type provNarrowing struct {
	prov *provided
	tf   *TypeFields
}

func (p *provided) mergeTree(o *provided) *provided {
	if o == nil {
		return p
	}
	if p == nil {
		p = &provided{fields: map[string]*provided{}}
	}
	for k, v := range o.fields {
		p.fields[k] = p.fields[k].mergeTree(v)
		if p.fields[k] == nil {
			p.fields[k] = &provided{fields: map[string]*provided{}}
		}
		if o.iface[k] {
			if p.iface == nil {
				p.iface = map[string]bool{}
			}
			p.iface[k] = true
		}
	}
	return p
}

// keysProvided is what the representation of an entity fetch for typ in
// graph puts in reach at the entity's root: the fields of its keys there,
// external or not.
func (b *builder) keysProvided(graph, typ string) *provided {
	if p, ok := b.keyProv[[2]string{graph, typ}]; ok {
		return p
	}
	var p *provided
	if t := b.sg.Types[typ]; t != nil && t.Graphs[graph] != nil {
		for _, k := range t.Graphs[graph].Keys {
			p = p.merge(k.Selection)
		}
	}
	b.keyProv[[2]string{graph, typ}] = p
	return p
}
