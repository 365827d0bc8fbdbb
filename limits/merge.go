package limits

import "github.com/vektah/gqlparser/v2/ast"

// CodeMaxFieldMerges refuses a document whose field merging would cost
// validation more than Static.MaxFieldMerges.
const CodeMaxFieldMerges = "MAX_FIELD_MERGES_EXCEEDED"

// checkMerges bounds the work of GraphQL's "fields can merge" validation
// (gqlparser's OverlappingFieldsCanBeMerged), which compares every pair of
// selections that land on the same response position, and every pair of
// fragment spreads there: its cost grows with the square of what meets at
// one position, so a small document of many spreads of fragments selecting
// the same field, or of one field repeated, takes seconds.
//
// The work is counted on the merged response tree of every operation and
// every fragment definition (each is validated): at each position, the
// square of the field selections merged into it plus the square of the
// fragment spreads expanded into it. Counting stops as soon as it passes
// the limit, so checkMerges itself costs at most about the limit.
func (s Static) checkMerges(doc *ast.QueryDocument) error {
	if s.MaxFieldMerges <= 0 {
		return nil
	}
	if countMerges(doc, int64(s.MaxFieldMerges)) > int64(s.MaxFieldMerges) {
		return badRequest(CodeMaxFieldMerges, "checking that the document's fields can merge would take more than %d steps (fields or fragment spreads repeated at one position)", s.MaxFieldMerges)
	}
	return nil
}

// countMerges is the merge work of doc's operations and fragment
// definitions, counted until it passes limit.
func countMerges(doc *ast.QueryDocument, limit int64) int64 {
	m := newMerger(doc, limit)
	for _, op := range doc.Operations {
		m.add(m.root(), op.SelectionSet, 0)
	}
	for _, f := range doc.Fragments {
		m.active[f.Name] = true
		m.add(m.root(), f.SelectionSet, 0)
		delete(m.active, f.Name)
	}
	return m.work
}

// position is one response position of the merged tree; its children
// are in merger.children.
type position struct {
	fields, spreads int64
	// aliased: a field merged into this position has an alias that counts
	// (see aliased).
	aliased bool
	// typenames counts the children whose key is an alias of __typename.
	typenames int64
}

// childKey names the child of a position under a response key.
type childKey struct {
	parent *position
	key    string
}

// firstChunk and lastChunk bound how many positions are allocated at
// once: a chunk twice the size of the one before, so that a small
// document's merger stays small.
const firstChunk, lastChunk = 16, 1024

type merger struct {
	limit, work int64
	fragments   map[string]*ast.FragmentDefinition
	// active holds the fragments being expanded: a cycle is not followed
	// (validation reports it).
	active map[string]bool
	// aliases counts the positions whose key is an alias that counts;
	// once it passes aliasCap (when positive) the walk stops.
	aliases, aliasCap int64
	// typenames is the most children one position has whose keys are
	// aliases of __typename; once it passes typenameCap (when positive)
	// the walk stops.
	typenames, typenameCap int64
	// runs: leave out selections that never run, those with
	// @skip(if: true) or @include(if: false) written as literals
	// (validation still sees them; execution does not).
	runs bool
	// children are the positions of the tree being merged, by parent and
	// response key, and chunks their memory: one map
	// and a few chunks for every tree, reused from one to the next. A map
	// per position made the count of a thousand operations spreading one
	// fragment allocate 3 MB in 34,000 objects.
	children map[childKey]*position
	chunks   [][]position
	// chunk is the chunk positions are taken from, used how many of it
	// are taken.
	chunk, used int
}

// root starts a new tree (an operation or a fragment definition) and
// returns its top position; the previous tree's positions are reused.
func (m *merger) root() *position {
	clear(m.children)
	m.chunk, m.used = 0, 0
	return m.position()
}

// position returns a zeroed position of the current tree.
func (m *merger) position() *position {
	if m.chunk == len(m.chunks) {
		m.chunks = append(m.chunks, make([]position, min(firstChunk<<min(m.chunk, 6), lastChunk)))
	}
	p := &m.chunks[m.chunk][m.used]
	*p = position{}
	if m.used++; m.used == len(m.chunks[m.chunk]) {
		m.chunk, m.used = m.chunk+1, 0
	}
	return p
}

// newMerger returns a merger over doc's fragments (the first definition
// of a duplicated name) that stops after limit steps of work.
func newMerger(doc *ast.QueryDocument, limit int64) *merger {
	m := &merger{limit: limit, fragments: make(map[string]*ast.FragmentDefinition, len(doc.Fragments)), active: map[string]bool{},
		children: map[childKey]*position{}}
	for _, f := range doc.Fragments {
		if _, dup := m.fragments[f.Name]; !dup {
			m.fragments[f.Name] = f
		}
	}
	return m
}

// aliased reports whether f's alias counts against MaxAliases: it differs
// from the field's name, and the field is not __typename (an alias of
// __typename repeats a name the gateway already has: no resolver, no
// subgraph work).
func aliased(f *ast.Field) bool {
	return f.Alias != "" && f.Alias != f.Name && f.Name != "__typename"
}

// typenameAlias reports whether f is __typename under another key. Such
// aliases cost no resolver, so they do not count as aliases; but each is
// one more key in every object of its position, rendered by the gateway:
// one position is held to MaxAliases distinct ones (mergedTypenames).
func typenameAlias(f *ast.Field) bool {
	return f.Name == "__typename" && f.Alias != "" && f.Alias != f.Name
}

// add merges ss into p. Recursion follows the document's nesting and
// fragment chains, both bounded before this runs (MaxNesting,
// MaxFragmentDepth).
func (m *merger) add(p *position, ss ast.SelectionSet, depth int) {
	for _, sel := range ss {
		if m.work > m.limit || depth > 256 {
			m.work = m.limit + 1
			return
		}
		if m.aliasCap > 0 && m.aliases > m.aliasCap || m.typenameCap > 0 && m.typenames > m.typenameCap {
			return
		}
		if m.runs && neverRuns(sel) {
			continue
		}
		switch sel := sel.(type) {
		case *ast.Field:
			key := sel.Alias
			if key == "" {
				key = sel.Name
			}
			ck := childKey{p, key}
			child := m.children[ck]
			if child == nil {
				child = m.position()
				m.children[ck] = child
				if typenameAlias(sel) {
					p.typenames++
					m.typenames = max(m.typenames, p.typenames)
				}
			}
			child.fields++
			m.work += 2*child.fields - 1 // fields² at this position
			if !child.aliased && aliased(sel) {
				child.aliased = true
				m.aliases++
			}
			if len(sel.SelectionSet) > 0 {
				m.add(child, sel.SelectionSet, depth+1)
			}
		case *ast.InlineFragment:
			m.add(p, sel.SelectionSet, depth+1)
		case *ast.FragmentSpread:
			p.spreads++
			m.work += 2*p.spreads - 1 // spreads² at this position
			f := m.fragments[sel.Name]
			if f == nil || m.active[sel.Name] {
				continue
			}
			m.active[sel.Name] = true
			m.add(p, f.SelectionSet, depth+1)
			delete(m.active, sel.Name)
		}
	}
}

// neverRuns reports whether sel carries @skip(if: true) or
// @include(if: false) with a literal condition: it is left out of every
// execution whatever the variables (spec 3.13).
func neverRuns(sel ast.Selection) bool {
	var ds ast.DirectiveList
	switch sel := sel.(type) {
	case *ast.Field:
		ds = sel.Directives
	case *ast.InlineFragment:
		ds = sel.Directives
	case *ast.FragmentSpread:
		ds = sel.Directives
	}
	for _, d := range ds {
		if d.Name != "skip" && d.Name != "include" {
			continue
		}
		a := d.Arguments.ForName("if")
		if a == nil || a.Value == nil || a.Value.Kind != ast.BooleanValue {
			continue
		}
		if (d.Name == "skip") == (a.Value.Raw == "true") {
			return true
		}
	}
	return false
}
