package planner

import "strconv"

// Response-key conflicts inside one subgraph operation.

// resolveConflicts aliases fields that share a data key under different
// types of one abstract selection but would not merge in the subgraph:
// different types there, or sub-selections of different shapes (spec
// 5.3.2, SameResponseShape; a fetch merged for several paths puts their
// selections of different types side by side). GraphQL validation would
// reject either. Each alias is returned as an output rewrite that renames
// it back in the answer, so the merged data keeps one key per field
// whichever fetch wrote it. Rewrites apply in order: a parent's rename
// comes before those below it, whose paths therefore name the data key.
func (b *builder) resolveConflicts(graph string, s *subSel, path []string, out []*OutputRewrite) []*OutputRewrite {
	return b.resolveLevel(graph, s, path, map[string]firstField{}, out)
}

// firstField is the first field seen under a response key of one
// selection level, with its type in the subgraph.
type firstField struct {
	typ string
	f   *subField
}

// resolveLevel resolves the conflicts of s, whose inline fragments share
// its response keys (seen).
func (b *builder) resolveLevel(graph string, s *subSel, path []string, seen map[string]firstField, out []*OutputRewrite) []*OutputRewrite {
	if s == nil {
		return out
	}
	for _, ts := range s.types {
		for _, f := range ts.fields {
			if f.fragment {
				out = b.resolveLevel(graph, f.sub, path, seen, out)
				continue
			}
			if !s.abstract {
				if f.sub != nil {
					out = b.resolveConflicts(graph, f.sub, appendPath(path, f.key), out)
				}
				continue
			}
			t := b.shapeType(graph, ts.typ, f.name)
			key := f.key
			if prev, ok := seen[key]; !ok {
				seen[key] = firstField{t, f}
			} else if prev.f != f && (prev.typ != t || b.shapesConflict(graph, prev.f.sub, f.sub)) {
				f.key = ReservedPrefix + "t" + strconv.Itoa(len(out)) + "_" + key
				out = append(out, &OutputRewrite{Path: path, From: f.key, To: key})
			}
			if f.sub != nil {
				out = b.resolveConflicts(graph, f.sub, appendPath(path, key), out)
			}
		}
	}
	return out
}

// shapedField is a field of a selection as response shape sees it: its
// type in the subgraph and its sub-selection.
type shapedField struct {
	typ string
	sub *subSel
}

// shapes collects the fields of s by response key, across its types and
// inline fragments.
func (b *builder) shapes(graph string, s *subSel, out map[string][]shapedField) {
	for _, ts := range s.types {
		for _, f := range ts.fields {
			if f.fragment {
				if f.sub != nil {
					b.shapes(graph, f.sub, out)
				}
				continue
			}
			t := b.shapeType(graph, ts.typ, f.name)
			out[f.key] = append(out[f.key], shapedField{t, f.sub})
		}
	}
}

// shapeType is the type of typ.field in graph for the conflict checks.
// __typename has a type of its own: validators disagree on it (String!
// in graphql-js, String in gqlparser, which rejects it next to a String!
// field under one response key), so it never shares a key with another
// field.
func (b *builder) shapeType(graph, typ, field string) string {
	if field == "__typename" {
		return "__typename"
	}
	return b.fieldTypeIn(graph, typ, field)
}

// shapesConflict reports whether two sub-selections of fields sharing a
// response key under mutually exclusive parents have a response key of
// different types (recursively): such fields cannot be merged.
func (b *builder) shapesConflict(graph string, x, y *subSel) bool {
	if x == nil || y == nil || x == y {
		return false
	}
	fx, fy := map[string][]shapedField{}, map[string][]shapedField{}
	b.shapes(graph, x, fx)
	b.shapes(graph, y, fy)
	for key, as := range fx {
		for _, a := range as {
			for _, c := range fy[key] {
				if a.typ != c.typ || b.shapesConflict(graph, a.sub, c.sub) {
					return true
				}
			}
		}
	}
	return false
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
