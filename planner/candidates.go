package planner

// Candidate subgraphs of a path, and the union members that are safe to
// select below a shareable field.
//
// A shareable path could be resolved by any subgraph that resolves each of
// its fields; an entity along the way can be reached in every subgraph
// with a resolvable key. Below such a path an abstract type may have other
// members in each candidate subgraph: only the members all candidates have
// are selected (federation audit, partial-union-complex). A field only one
// subgraph resolves narrows the candidates to it, and its members apply.

// candidates returns the subgraphs that could resolve typ.field where the
// path to typ could be resolved by parent (nil: typ's position is a fetch
// root, and only typ decides).
func (b *builder) candidates(parent []string, typ, field string) []string {
	t := b.sg.Types[typ]
	if t == nil {
		return nil
	}
	base := parent
	if typ == b.op.RootType || b.isEntity(typ) || parent == nil {
		base = nil
		for _, gid := range t.GraphIDs {
			if typ == b.op.RootType || len(b.keysIn(gid, typ)) > 0 || containsString(parent, gid) {
				base = append(base, gid)
			}
		}
	}
	var out []string
	for _, gid := range base {
		if b.resolvable(gid, typ, field, nil) {
			out = append(out, gid)
		}
	}
	return out
}

// isEntity reports whether typ has a resolvable key in some subgraph.
func (b *builder) isEntity(typ string) bool {
	t := b.sg.Types[typ]
	if t == nil {
		return false
	}
	for _, gid := range t.GraphIDs {
		if len(b.keysIn(gid, typ)) > 0 {
			return true
		}
	}
	return false
}

// safeMember reports whether the concrete type is a member of the abstract
// type static in every candidate subgraph. A subgraph that declares static
// with @interfaceObject has none of its implementations in its schema, yet
// answers objects of every one (their concrete type comes from an entity
// fetch): it narrows nothing.
func (b *builder) safeMember(cand []string, static, concrete string) bool {
	if len(cand) < 2 {
		return true
	}
	for _, gid := range cand {
		if !b.possibleIn(gid, static, concrete) && !b.isInterfaceObject(gid, static) {
			return false
		}
	}
	return true
}

// subCand returns the candidate subgraphs of a selection's path.
func (b *builder) subCand(s *subSel) []string {
	if s.candDone {
		return s.cand
	}
	s.candDone = true
	if s.up == nil {
		return nil
	}
	var parent []string
	if s.up.owner != nil {
		parent = b.subCand(s.up.owner)
	}
	s.cand = b.candidates(parent, s.upTyp, s.upField)
	return s.cand
}
