package planner

import (
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
)

// fieldSets holds the normalized federation field sets (@key, @requires
// and context selections; @provides is read unnormalized, provides.go) of
// one supergraph. They are parsed
// once with the supergraph, so a field set is known by its type and the
// identity of its parsed selection; normalizing it again for every plan
// was a fifth of a cold plan's allocations. The cached sets are shared by
// every plan and, like a normalized Operation, never changed.
type fieldSets struct {
	sets sync.Map // fieldSetKey → *SelectionSet (nil: not a type of the schema)
}

type fieldSetKey struct {
	typ   string
	first *ast.Selection
	n     int
}

// get returns NormalizeFieldSet(schema, typ, set), normalized at most once
// per supergraph for each field set.
func (c *fieldSets) get(schema *ast.Schema, typ string, set ast.SelectionSet) *SelectionSet {
	if c == nil || len(set) == 0 {
		return NormalizeFieldSet(schema, typ, set)
	}
	k := fieldSetKey{typ: typ, first: &set[0], n: len(set)}
	if v, ok := c.sets.Load(k); ok {
		return v.(*SelectionSet)
	}
	sel := NormalizeFieldSet(schema, typ, set)
	v, _ := c.sets.LoadOrStore(k, sel)
	return v.(*SelectionSet)
}

// fieldSet is the normalized field set set on typ of the builder's
// supergraph.
func (b *builder) fieldSet(typ string, set ast.SelectionSet) *SelectionSet {
	return b.fieldSetCache.get(b.sg.Full, typ, set)
}
