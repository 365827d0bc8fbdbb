package planner

import "github.com/vektah/gqlparser/v2/ast"

// provided is the tree of fields a @provides makes resolvable below the
// field that carries it. Type conditions inside the field set are folded.
type provided struct {
	fields map[string]*provided
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
	return out.merge(fg.Provides)
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
