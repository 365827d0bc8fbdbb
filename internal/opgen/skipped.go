package opgen

import (
	"strconv"

	"github.com/vektah/gqlparser/v2/ast"
)

// This file holds two more shapes clients send: selection sets whose
// every selection is left out by @skip/@include (a screen whose parts are
// all switched off by flags), and fragments on an interface that an
// object type implements while some subgraph defines the interface with
// @interfaceObject (the subgraph knows no implementation, so a gateway
// reaches the object's fields there through the interface).

// allSkipped makes every selection of set conditional so that none runs
// with the operation's variables: a literal @skip(if: true) or
// @include(if: false), or a variable that evaluates so (sent, or left to
// its default). A set that is left so answers {} (the root: data {}),
// spec 6.3.2 (CollectFields). A selection that has both directives gets
// its @include condition replaced by a literal false; one that has one of
// them gets the other.
func (s *gen) allSkipped(set ast.SelectionSet) {
	for _, sel := range set {
		var dirs *ast.DirectiveList
		switch x := sel.(type) {
		case *ast.Field:
			dirs = &x.Directives
		case *ast.InlineFragment:
			dirs = &x.Directives
		case *ast.FragmentSpread:
			dirs = &x.Directives
		}
		skip, include := dirs.ForName("skip"), dirs.ForName("include")
		switch {
		case skip != nil && include != nil:
			// The replaced condition's variable may now be unused: the
			// document then fails validation and Generate tries again.
			include.Arguments = ast.ArgumentList{{Name: "if", Value: &ast.Value{Kind: ast.BooleanValue, Raw: "false"}}}
		case skip != nil:
			*dirs = append(*dirs, s.leaveOut("include"))
		case include != nil:
			*dirs = append(*dirs, s.leaveOut("skip"))
		case s.r.IntN(2) == 0:
			*dirs = append(*dirs, s.leaveOut("skip"))
		default:
			*dirs = append(*dirs, s.leaveOut("include"))
		}
	}
}

// leaveOut returns @skip (name "skip") or @include whose condition leaves
// the selection out: a literal, a Boolean! variable sent that value, or a
// Boolean variable with that value as its default, not sent (or, for a
// nullable one, sent it).
func (s *gen) leaveOut(name string) *ast.Directive {
	want := name == "skip"
	lit := &ast.Value{Kind: ast.BooleanValue, Raw: strconv.FormatBool(want)}
	v := lit
	switch s.r.IntN(3) {
	case 0:
	case 1:
		s.varUses++
		s.nVar++
		v = &ast.Value{Kind: ast.Variable, Raw: "v" + strconv.Itoa(s.nVar)}
		s.opVars = append(s.opVars, &ast.VariableDefinition{Variable: v.Raw, Type: ast.NonNullNamedType("Boolean", nil)})
		s.values[v.Raw] = want
	default:
		s.varUses++
		s.nVar++
		v = &ast.Value{Kind: ast.Variable, Raw: "v" + strconv.Itoa(s.nVar)}
		s.opVars = append(s.opVars, &ast.VariableDefinition{Variable: v.Raw, Type: ast.NamedType("Boolean", nil), DefaultValue: lit})
		if s.r.IntN(3) == 0 {
			s.values[v.Raw] = want
		}
	}
	return &ast.Directive{Name: name, Arguments: ast.ArgumentList{{Name: "if", Value: v}}}
}

// interfaceObjectsFor lists the conditions of conds (types an object of
// the position may be) that are interfaces some subgraph defines with
// @interfaceObject (no random draw: a graph without one keeps the
// operations it had).
func (s *gen) interfaceObjectsFor(conds []string) []string {
	if len(s.hints.InterfaceObjects) == 0 {
		return nil
	}
	var out []string
	for _, c := range conds {
		if s.hints.InterfaceObjects[c] {
			out = append(out, c)
		}
	}
	return out
}
