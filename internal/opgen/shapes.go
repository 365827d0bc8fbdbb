package opgen

import (
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// Shapes (Options.Shapes, session 17) that clients send and the random
// walk did not write:
//
//   - A named fragment that uses variables, spread by several operations
//     of the document: each operation declares the fragment's variables
//     itself (spec 5.8.3: a variable used in a fragment must be defined by
//     every operation that spreads it), with the same type, its own
//     default and its own value. Without Shapes such a fragment is spread
//     only by the operation that made it (reusableFor).
//   - @skip/@include with a variable on the fields a gateway handles
//     apart: key fields and @requires inputs (the names Hints.AliasNames
//     lists, which the gateway also fetches for itself), fields with a
//     @requires, fields that lead to an entity (an entity fetch below
//     them) and __typename.
//   - One field with arguments under three or four response keys, each
//     with its own arguments (the random walk writes two).
//
// Off, none of these draws a random number, so a seed's operations stay
// those generated before Shapes was added.

// fragmentVarDefs returns the definitions, in the operation being
// generated, of the variables the named fragment def uses (directly or
// through the fragments it spreads), and false when one of them is not
// defined there.
func (s *gen) fragmentVarDefs(def *ast.FragmentDefinition) (ast.VariableDefinitionList, bool) {
	var names []string
	seen := map[string]bool{}
	spread := map[string]bool{}
	var value func(v *ast.Value)
	value = func(v *ast.Value) {
		if v == nil {
			return
		}
		if v.Kind == ast.Variable && !seen[v.Raw] {
			seen[v.Raw] = true
			names = append(names, v.Raw)
		}
		for _, c := range v.Children {
			value(c.Value)
		}
	}
	directives := func(list ast.DirectiveList) {
		for _, d := range list {
			for _, a := range d.Arguments {
				value(a.Value)
			}
		}
	}
	var walk func(set ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch x := sel.(type) {
			case *ast.Field:
				for _, a := range x.Arguments {
					value(a.Value)
				}
				directives(x.Directives)
				walk(x.SelectionSet)
			case *ast.InlineFragment:
				directives(x.Directives)
				walk(x.SelectionSet)
			case *ast.FragmentSpread:
				directives(x.Directives)
				if spread[x.Name] {
					continue
				}
				spread[x.Name] = true
				for _, f := range s.frags {
					if f.Name == x.Name {
						walk(f.SelectionSet)
					}
				}
			}
		}
	}
	walk(def.SelectionSet)
	var out ast.VariableDefinitionList
	for _, n := range names {
		d := s.opVars.ForName(n)
		if d == nil {
			return nil, false
		}
		out = append(out, d)
	}
	return out, true
}

// canRedeclare reports whether the operation being generated may spread
// f, a fragment of another operation that uses variables: each of them is
// undeclared here or declared with the same type.
func (s *gen) canRedeclare(f *reusableFragment) bool {
	if !s.opts.Shapes || !f.shareable {
		return false
	}
	for _, d := range f.varDefs {
		if mine := s.opVars.ForName(d.Variable); mine != nil && mine.Type.String() != d.Type.String() {
			return false
		}
	}
	return true
}

// redeclare defines in the operation being generated the variables of f
// (a fragment another operation made) that it does not define yet: the
// same type, a default when the first definition has one (another value
// half the time), and a value of its own, left out where that is allowed.
// Later fresh variables are numbered past them.
func (s *gen) redeclare(f *reusableFragment) {
	for _, d := range f.varDefs {
		if n, err := strconv.Atoi(strings.TrimPrefix(d.Variable, "v")); err == nil && n > s.nVar {
			s.nVar = n
		}
		if s.opVars.ForName(d.Variable) != nil {
			continue
		}
		nd := &ast.VariableDefinition{Variable: d.Variable, Type: d.Type, DefaultValue: d.DefaultValue}
		if d.DefaultValue != nil && s.r.IntN(2) == 0 {
			// Another default, of the non-null type: a nullable variable
			// with a default may stand in a non-null position.
			strict := *d.Type
			strict.NonNull = true
			constant := s.constant
			s.constant = true
			nd.DefaultValue = s.literal(&strict, 0)
			s.constant = constant
		}
		s.opVars = append(s.opVars, nd)
		if (nd.DefaultValue != nil || !nd.Type.NonNull) && s.r.IntN(3) == 0 {
			continue // not sent: the default, or null
		}
		typ := d.Type
		if nd.DefaultValue != nil && s.r.IntN(6) > 0 {
			// Mostly a non-null value where a default stands for one.
			strict := *d.Type
			strict.NonNull = true
			typ = &strict
		}
		s.values[d.Variable] = s.jsonValue(typ, 0)
	}
}

// conditionSpecial adds, with Shapes, @skip or @include with a variable
// to a field of t that a gateway handles apart (a key field or @requires
// input, a field with a @requires, a field leading to an entity) about one
// time in three when it has no condition yet.
func (s *gen) conditionSpecial(t *ast.Definition, fd *ast.FieldDefinition, f *ast.Field) {
	if !s.opts.Shapes || len(f.Directives) > 0 {
		return
	}
	special := s.hints.Requires[t.Name][fd.Name] != nil || s.hints.Entities[fd.Type.Name()]
	for _, n := range s.hints.AliasNames[t.Name] {
		special = special || n == fd.Name
	}
	if special && s.r.IntN(3) == 0 {
		s.condition(&f.Directives)
	}
}

// conditionTypename adds, with Shapes, a variable condition to a
// __typename selection without one, about one time in four.
func (s *gen) conditionTypename(f *ast.Field) {
	if s.opts.Shapes && len(f.Directives) == 0 && s.r.IntN(4) == 0 {
		s.condition(&f.Directives)
	}
}

// moreKeys is how many times fieldOf selects a field with arguments:
// times as drawn, or with Shapes, one time in four, three or four.
func (s *gen) moreKeys(fd *ast.FieldDefinition, times int) int {
	if s.opts.Shapes && len(fd.Arguments) > 0 && s.r.IntN(4) == 0 {
		return 3 + s.r.IntN(2)
	}
	return times
}

// narrowed returns, with Shapes, about one time in five when fragments
// may nest two deeper, an inline fragment on a type C that an object of
// t may be, holding an inline fragment on a type D that overlaps C but
// not t: the inner condition narrows to nothing, so its fields are never
// answered (spec 6.3.2, DoesFragmentTypeApply), although each spread is
// valid where it stands (spec 5.5.2.3 compares a spread with its
// enclosing type only). Interfaces and unions whose members live in
// different subgraphs make such pairs. Nil when t has no such pair.
func (s *gen) narrowed(t *ast.Definition, depth int, sc *scope, fragDepth int) ast.Selection {
	if !s.opts.Shapes || fragDepth+2 > s.fragNesting || s.r.IntN(5) != 0 {
		return nil
	}
	type pair struct{ c, d *ast.Definition }
	var pairs []pair
	for _, cn := range s.conditions(t) {
		c := s.schema.Types[cn]
		if cn == t.Name {
			continue
		}
		for _, dn := range s.conditions(c) {
			if d := s.schema.Types[dn]; !overlaps(s.schema, t, d) {
				pairs = append(pairs, pair{c, d})
			}
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	p := pairs[s.r.IntN(len(pairs))]
	inner := &ast.InlineFragment{TypeCondition: p.d.Name, SelectionSet: s.selectionSet(p.d, depth, sc, fragDepth+2)}
	s.directives(&inner.Directives)
	outer := &ast.InlineFragment{TypeCondition: p.c.Name, SelectionSet: ast.SelectionSet{inner}}
	if s.r.IntN(2) == 0 {
		// Something that applies beside it.
		outer.SelectionSet = append(outer.SelectionSet, s.typename(p.c, sc, true))
	}
	s.directives(&outer.Directives)
	return outer
}
