package planner

import "strconv"

// Response-key conflicts inside one subgraph operation.

// resolveConflicts aliases fields that share a data key under different
// types of one abstract selection but have different types in the
// subgraph, which GraphQL validation would reject there. Each alias is
// returned as an output rewrite that renames it back in the answer, so
// the merged data keeps one key per field whichever fetch wrote it.
func (b *builder) resolveConflicts(graph string, s *subSel, path []string, out []*OutputRewrite) []*OutputRewrite {
	if s == nil {
		return out
	}
	seen := map[string]string{}
	for _, ts := range s.types {
		for _, f := range ts.fields {
			if f.fragment {
				out = b.resolveConflicts(graph, f.sub, path, out)
				continue
			}
			if f.name == "__typename" || !s.abstract {
				if f.sub != nil {
					out = b.resolveConflicts(graph, f.sub, appendPath(path, f.key), out)
				}
				continue
			}
			t := b.fieldTypeIn(graph, ts.typ, f.name)
			key := f.key
			if prev, ok := seen[key]; !ok {
				seen[key] = t
			} else if prev != t {
				f.key = ReservedPrefix + "t" + strconv.Itoa(len(out)) + "_" + key
				out = append(out, &OutputRewrite{Path: path, From: f.key, To: key})
			}
			if f.sub != nil {
				out = b.resolveConflicts(graph, f.sub, appendPath(path, f.key), out)
			}
		}
	}
	return out
}

func appendPath(path []string, key string) []string {
	out := make([]string, len(path), len(path)+1)
	copy(out, path)
	return append(out, key)
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
