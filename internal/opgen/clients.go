package opgen

import (
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// This file holds the shapes real clients send that the random walk of
// opgen.go alone rarely makes: selections that name what a gateway fetches
// for itself (@requires inputs, @provides paths), the same field twice
// with one occurrence conditional, __typename-only selections on abstract
// types, nullable variables with defaults in non-null positions, several
// mutations in one operation.

// wanted selects the fields of want that t has, in order, each through
// fieldOf (so sometimes aliased, with arguments and directives), their
// sub-selections first selecting want's. Inline fragments of want become
// inline fragments on the same condition when it is a type of the API
// schema that overlaps t. Fields the API schema lacks (a subgraph's
// @inaccessible field, a federation field) are left out.
func (s *gen) wanted(t *ast.Definition, depth int, sc *scope, want ast.SelectionSet) ast.SelectionSet {
	var out ast.SelectionSet
	for _, sel := range want {
		switch w := sel.(type) {
		case *ast.Field:
			if w.Name == "__typename" {
				out = append(out, s.typename(t, sc, true))
				continue
			}
			fd := t.Fields.ForName(w.Name)
			if fd == nil || s.schema.Types[fd.Type.Name()] == nil {
				continue
			}
			out = append(out, s.fieldOf(t, fd, depth, sc, w.SelectionSet)...)
		case *ast.InlineFragment:
			def := t
			if w.TypeCondition != "" {
				def = s.schema.Types[w.TypeCondition]
			}
			if def == nil || !overlaps(s.schema, t, def) {
				continue
			}
			set := s.wanted(def, depth, sc, w.SelectionSet)
			if len(set) == 0 {
				continue
			}
			out = append(out, &ast.InlineFragment{TypeCondition: def.Name, SelectionSet: set})
		}
	}
	return out
}

// overlaps reports whether an object can be of both types a and b.
func overlaps(schema *ast.Schema, a, b *ast.Definition) bool {
	for _, x := range schema.GetPossibleTypes(a) {
		for _, y := range schema.GetPossibleTypes(b) {
			if x.Name == y.Name {
				return true
			}
		}
	}
	return false
}

// typenameOnly is a selection set on the abstract type t that asks only
// __typename: on t, in inline fragments on some of its object types
// (sometimes aliased there), or both. Objects of a type no fragment
// names then answer {} when t's own __typename is left out.
func (s *gen) typenameOnly(t *ast.Definition, sc *scope, fragDepth int) ast.SelectionSet {
	var set ast.SelectionSet
	own := s.r.IntN(3) > 0
	if own {
		set = append(set, s.typename(t, sc, true))
	}
	possible := s.schema.GetPossibleTypes(t)
	if len(possible) == 0 || fragDepth >= s.fragNesting || (own && s.r.IntN(2) == 0) {
		if !own {
			set = append(set, s.typename(t, sc, true))
		}
		return set
	}
	for i, n := 0, 1+s.r.IntN(2); i < n; i++ {
		p := possible[s.r.IntN(len(possible))]
		in := &ast.InlineFragment{TypeCondition: p.Name, SelectionSet: ast.SelectionSet{s.typename(p, sc, true)}}
		s.directives(&in.Directives)
		set = append(set, in)
	}
	return set
}

// again selects f (a composite field already in the set) once more under
// the same response key and arguments with another sub-selection, and
// makes one of the two conditional on a variable: when both run their
// sub-selections merge (spec 6.3.2), when one is skipped only the other's
// fields are answered.
func (s *gen) again(f *ast.Field, ft *ast.Definition, depth int, child *scope) *ast.Field {
	g := &ast.Field{Name: f.Name, Alias: f.Alias, Arguments: f.Arguments}
	s.fields++
	g.SelectionSet = s.selectionSet(ft, depth+1, child, 0)
	target := g
	if s.r.IntN(2) == 0 {
		target = f
	}
	s.condition(&target.Directives)
	return g
}

// condition adds @skip or @include with a variable condition.
func (s *gen) condition(list *ast.DirectiveList) {
	name := "include"
	if s.r.IntN(2) == 0 {
		name = "skip"
	}
	*list = append(*list, &ast.Directive{Name: name, Arguments: ast.ArgumentList{{Name: "if", Value: s.boolVariable()}}})
}

// boolVariable returns a variable for an if: argument: a Boolean! of the
// operation, or a new one, sometimes declared as a nullable Boolean with
// a default (as code generators for clients write `$withX: Boolean =
// false`), which a non-null position allows (spec 5.8.5).
func (s *gen) boolVariable() *ast.Value {
	if len(s.boolVar) > 0 && s.r.IntN(3) == 0 {
		s.varUses++
		return &ast.Value{Kind: ast.Variable, Raw: s.boolVar[s.r.IntN(len(s.boolVar))]}
	}
	typ := ast.NonNullNamedType("Boolean", nil)
	var v *ast.Value
	if s.r.IntN(4) == 0 {
		v = s.defaultedVariable(typ)
		if s.r.IntN(10) == 0 {
			// An explicit null for it: valid variables (the variable is
			// nullable), but a field error where the condition is
			// evaluated (spec 6.4.1, CoerceArgumentValues): the object
			// holding the selection is null with that error.
			s.values[v.Raw] = nil
		}
	} else {
		v = s.variable(typ)
	}
	s.boolVar = append(s.boolVar, v.Raw)
	return v
}

// defaultedVariable defines a variable for a position of the non-null
// type typ, declared nullable with a default; the request sends a non-null
// value or none (null would be an error: the position is non-null).
func (s *gen) defaultedVariable(typ *ast.Type) *ast.Value {
	s.varUses++
	s.nVar++
	name := "v" + strconv.Itoa(s.nVar)
	nullable := *typ
	nullable.NonNull = false
	constant := s.constant
	s.constant = true
	def := &ast.VariableDefinition{Variable: name, Type: &nullable, DefaultValue: s.literal(typ, 0)}
	s.constant = constant
	s.opVars = append(s.opVars, def)
	if s.r.IntN(2) == 0 {
		s.values[name] = s.jsonValue(typ, 0)
	}
	return &ast.Value{Kind: ast.Variable, Raw: name}
}

// moreMutations appends more root fields to a mutation's selection set:
// clients run several mutations in one operation, in order (spec 6.2.2),
// and read what they changed in their answers.
func (s *gen) moreMutations(set ast.SelectionSet, root *ast.Definition, sc *scope) ast.SelectionSet {
	for i, n := 0, s.r.IntN(3); i < n; i++ {
		set = append(set, s.field(root, 1, sc)...)
	}
	return set
}

// Scalar values clients send beyond the small pools: strings with escapes,
// quotes, non-ASCII and astral characters (printed escaped or as block
// strings), negative and extreme Ints, Floats with exponents, and for
// custom scalars (a JSON scalar, say) values of any kind: objects, lists,
// numbers, booleans (spec 3.5.6: a custom scalar's literal is its
// service's to coerce).
var (
	oddStrings = []string{"é", `a"b`, "line\nbreak", `back\slash`, "tab\there", "😀", "  padded  ", "null"}
	oddInts    = []string{"-1", "-2147483648", "2147483647", "-0"}
	oddFloats  = []string{"-2.5", "1e3", "1.5E-2", "0.0", "-0.0", "2147483648"}
)

// customScalar reports whether def is a custom scalar the generator may
// send any value for (not Upload: its values are files).
func customScalar(def *ast.Definition) bool {
	return def.Kind == ast.Scalar && !def.BuiltIn && def.Name != "Upload"
}

// oddLiteral returns, sometimes, one of the odd values above for a scalar
// of def, or nil.
func (s *gen) oddLiteral(def *ast.Definition) *ast.Value {
	if def.Kind != ast.Scalar {
		return nil
	}
	// A custom scalar's value is odd half the time (or, failing that, one
	// time in six), a built-in's one time in six.
	odd := customScalar(def) && s.r.IntN(2) == 0
	if !odd {
		odd = s.r.IntN(6) == 0
	}
	if !odd {
		return nil
	}
	pick := func(pool []string) string { return pool[s.r.IntN(len(pool))] }
	switch {
	case def.Name == "Int":
		return &ast.Value{Kind: ast.IntValue, Raw: pick(oddInts)}
	case def.Name == "Float":
		return &ast.Value{Kind: ast.FloatValue, Raw: pick(oddFloats)}
	case def.Name == "String":
		if s.r.IntN(2) == 0 {
			return s.blockString("\n      block " + pick(oddStrings) + "\n        indented\n      ")
		}
		return &ast.Value{Kind: ast.StringValue, Raw: pick(oddStrings)}
	case customScalar(def):
		// Objects (the default case) a third of the time.
		switch s.r.IntN(6) {
		case 0:
			return &ast.Value{Kind: ast.IntValue, Raw: pick(oddInts)}
		case 1:
			return &ast.Value{Kind: ast.BooleanValue, Raw: "true"}
		case 2:
			return &ast.Value{Kind: ast.ListValue, Children: ast.ChildValueList{
				{Value: &ast.Value{Kind: ast.IntValue, Raw: "1"}},
				{Value: &ast.Value{Kind: ast.StringValue, Raw: pick(oddStrings)}}}}
		case 3:
			return &ast.Value{Kind: ast.FloatValue, Raw: pick(oddFloats)}
		default:
			return &ast.Value{Kind: ast.ObjectValue, Children: ast.ChildValueList{
				{Name: "b", Value: &ast.Value{Kind: ast.StringValue, Raw: pick(oddStrings)}},
				{Name: "a", Value: &ast.Value{Kind: ast.ListValue, Children: ast.ChildValueList{
					{Value: &ast.Value{Kind: ast.NullValue, Raw: "null"}}}}}}}
		}
	}
	return nil
}

// oddJSON is oddLiteral for variable values.
func (s *gen) oddJSON(def *ast.Definition) (any, bool) {
	if def.Kind != ast.Scalar || s.r.IntN(6) != 0 {
		return nil, false
	}
	switch {
	case def.Name == "Int":
		return []int{-1, -2147483648, 2147483647, 0}[s.r.IntN(4)], true
	case def.Name == "Float":
		return []float64{-2.5, 1e3, 1.5e-2, 2147483648}[s.r.IntN(4)], true
	case def.Name == "String":
		return oddStrings[s.r.IntN(len(oddStrings))], true
	case customScalar(def):
		switch s.r.IntN(4) {
		case 0:
			return -1, true
		case 1:
			return false, true
		case 2:
			return []any{1, oddStrings[s.r.IntN(len(oddStrings))]}, true
		default:
			return map[string]any{"b": oddStrings[s.r.IntN(len(oddStrings))], "a": []any{nil}}, true
		}
	}
	return nil, false
}

// blockString returns a string value to print as the block string
// """text""" (gqlparser's formatter prints every string quoted): a
// placeholder that generate replaces in the printed document.
func (s *gen) blockString(text string) *ast.Value {
	s.blocks = append(s.blocks, text)
	return &ast.Value{Kind: ast.StringValue, Raw: blockMarker + strconv.Itoa(len(s.blocks)-1)}
}

const blockMarker = "opgen-block-string-"

// printBlocks replaces the placeholders of blockString in query.
func (s *gen) printBlocks(query string) string {
	for i := len(s.blocks) - 1; i >= 0; i-- {
		query = strings.ReplaceAll(query, strconv.Quote(blockMarker+strconv.Itoa(i)), `"""`+s.blocks[i]+`"""`)
	}
	return query
}
