package planner

// Response-key conflicts inside one subgraph operation.

// resolveConflicts aliases fields that share a response key under
// different types of one abstract selection but have different types in
// the subgraph, which GraphQL validation would reject there.
func (b *builder) resolveConflicts(graph string, s *subSel) {
	if s == nil {
		return
	}
	seen := map[string]string{}
	for _, ts := range s.types {
		for _, f := range ts.fields {
			if f.fragment {
				b.resolveConflicts(graph, f.sub)
				continue
			}
			if f.sub != nil {
				b.resolveConflicts(graph, f.sub)
			}
			if f.name == "__typename" || !s.abstract {
				continue
			}
			t := b.fieldTypeIn(graph, ts.typ, f.name)
			prev, ok := seen[f.key]
			if !ok {
				seen[f.key] = t
				continue
			}
			if prev != t {
				f.key = "_fed_" + ts.typ + "_" + f.key
				if f.field != nil && f.field.dataKey != nil {
					*f.field.dataKey = f.key
				}
			}
		}
	}
}

// fieldTypeIn is the type of typ.field as graph declares it.
func (b *builder) fieldTypeIn(graph, typ, field string) string {
	if fg := b.fieldIn(graph, typ, field); fg != nil && fg.Type != "" {
		return fg.Type
	}
	if t := b.sg.Types[typ]; t != nil && t.Fields[field] != nil {
		return t.Fields[field].Def.Type.String()
	}
	return ""
}
