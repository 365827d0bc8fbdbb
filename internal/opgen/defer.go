package opgen

import (
	"strconv"

	"github.com/vektah/gqlparser/v2/ast"
)

// deferDirective adds, sometimes, @defer to the directives of a fragment
// spread or inline fragment of a query operation (Options.Defer): without
// arguments, with a label (unique in the document, as graphql-js 17's
// validation requires), with if: as a literal or a variable. The variable
// is a Boolean!, or a Boolean with a default (valid where graphql-js 17
// declares if: Boolean! = true and where gqlparser declares if: Boolean =
// true), and is sent true, false, null or not at all. A named fragment
// whose selection holds a @defer is reused like any other, so one @defer
// is spread at several places.
func (s *gen) deferDirective(list *ast.DirectiveList) {
	if !s.opts.Defer || s.kind != ast.Query || s.constant || s.r.IntN(4) != 0 {
		return
	}
	d := &ast.Directive{Name: "defer"}
	s.defers++
	if s.r.IntN(2) == 0 {
		s.labels++
		d.Arguments = append(d.Arguments, &ast.Argument{Name: "label",
			Value: &ast.Value{Kind: ast.StringValue, Raw: "d" + strconv.Itoa(s.labels)}})
	}
	switch s.r.IntN(6) {
	case 0:
		d.Arguments = append(d.Arguments, &ast.Argument{Name: "if",
			Value: &ast.Value{Kind: ast.BooleanValue, Raw: strconv.FormatBool(s.r.IntN(2) == 0)}})
	case 1, 2:
		d.Arguments = append(d.Arguments, &ast.Argument{Name: "if", Value: s.deferVariable()})
	}
	*list = append(*list, d)
}

// deferVariable defines a variable for @defer(if:): Boolean! sent true or
// false, or Boolean with a default sent true, false, null or nothing.
func (s *gen) deferVariable() *ast.Value {
	s.varUses++
	s.nVar++
	name := "v" + strconv.Itoa(s.nVar)
	def := &ast.VariableDefinition{Variable: name, Type: ast.NonNullNamedType("Boolean", nil)}
	if s.r.IntN(2) == 0 {
		def.Type = ast.NamedType("Boolean", nil)
		def.DefaultValue = &ast.Value{Kind: ast.BooleanValue, Raw: strconv.FormatBool(s.r.IntN(2) == 0)}
		switch s.r.IntN(4) {
		case 0:
			s.values[name] = nil
		case 1:
			// Not sent: the default.
		default:
			s.values[name] = s.r.IntN(2) == 0
		}
	} else {
		s.values[name] = s.r.IntN(2) == 0
	}
	s.opVars = append(s.opVars, def)
	return &ast.Value{Kind: ast.Variable, Raw: name}
}
