package opgen

import (
	"strconv"

	"github.com/vektah/gqlparser/v2/ast"
)

// Optional variables (Options.Optional): a position of a non-null type
// that has a default of its own (an argument `n: Int! = 5`, an input
// object field `depth: Int! = 1`) may take a nullable variable without a
// default (spec 5.8.5, "Allowing Optional Variables When Default Values
// Exist"; graphql-js's VariablesInAllowedPosition). Left out of the
// request, the position's default applies (spec 6.4.1,
// CoerceArgumentValues; 3.10, input object coercion); sent null, the
// field raises a field error (its value is null where a non-null one is
// due) and its null propagates; sent a value, that value is used.

// optionalVariable returns, about one time in three when
// Options.Optional is set and typ is non-null with a default, a new
// nullable variable without a default for that position: left out of the
// request, sent null or sent a value, each about a third of the time.
// Otherwise it returns nil and draws nothing when the option is off or
// the position is not such a one.
func (s *gen) optionalVariable(typ *ast.Type, def *ast.Value) *ast.Value {
	if !s.opts.Optional || s.constant || !typ.NonNull || def == nil {
		return nil
	}
	if s.r.IntN(3) != 0 {
		return nil
	}
	s.varUses++
	s.nVar++
	name := "v" + strconv.Itoa(s.nVar)
	nullable := *typ
	nullable.NonNull = false
	s.opVars = append(s.opVars, &ast.VariableDefinition{Variable: name, Type: &nullable})
	switch s.r.IntN(3) {
	case 0: // not sent: the position's default
	case 1:
		s.values[name] = nil
	default:
		s.values[name] = s.jsonValue(typ, 0)
	}
	return &ast.Value{Kind: ast.Variable, Raw: name}
}
