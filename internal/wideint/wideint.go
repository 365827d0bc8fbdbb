// Package wideint reads Int literals beyond 64 bits as graphql-js does:
// valid Float, ID and custom scalar values (spec 3.5.2, 3.5.5), which
// gqlparser refuses because it reads every Int literal as an int64. Rule
// wraps gqlparser's ValuesOfCorrectType validation rule, LiteralValue
// converts such a literal, Defaults fills in the variable defaults that
// hold one before gqlparser's variable coercion.
package wideint

import (
	"errors"
	"strconv"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
)

// Rule wraps gqlparser's ValuesOfCorrectType rule (inner, either
// variant) so that an Int literal beyond 64 bits in a Float, ID or custom
// scalar position, alone or inside lists and input objects, is valid. Any
// integer is a Float input (spec 3.5.2) and an ID input (3.5.5), and
// graphql-js accepts them (GraphQLFloat and GraphQLID parse the digits);
// gqlparser's rule converts every literal it checks with ast.Value.Value,
// which reads an Int literal as an int64, and reports the failure as a
// value of the wrong type ("ID cannot represent a non-string and
// non-integer value: 123456789012345678901234567890").
//
// The wrapper drops only that report, for a value whose conversion fails
// because of such literals alone: every other error of the rule stands,
// also on the same value (a list given for a scalar, a missing input
// field). Int positions keep their error (and limits.IntRangeRule's).
func Rule(inner core.Rule) core.Rule {
	return core.Rule{Name: inner.Name, RuleFunc: func(observers *core.Events, addError core.AddErrFunc) {
		var current *ast.Value
		// Registered before inner's observer, so it sees each value first.
		observers.OnValue(func(_ *core.Walker, v *ast.Value) { current = v })
		inner.RuleFunc(observers, func(options ...core.ErrorOption) {
			if current != nil && onlyWideIntegers(current, options) {
				return
			}
			addError(options...)
		})
	}}
}

// onlyWideIntegers reports whether the error options describe the failed
// conversion of v, and the conversion fails only because of Int literals
// beyond 64 bits in positions that accept any integer.
func onlyWideIntegers(v *ast.Value, options []core.ErrorOption) bool {
	if v.ExpectedType == nil || !hasWideInteger(v) {
		return false
	}
	switch v.Kind {
	case ast.IntValue:
		if name := v.ExpectedType.Name(); name != "Float" && name != "ID" {
			return false
		}
	case ast.ListValue:
		if v.ExpectedType.Elem == nil {
			return false // a list where a scalar is expected: its own error
		}
	case ast.ObjectValue, ast.Variable:
		// A variable's conversion is its default's when the request
		// leaves it out.
	default:
		return false
	}
	if _, err := narrowed(v).Value(nil); err != nil {
		return false
	}
	var e gqlerror.Error
	for _, o := range options {
		o(&e)
	}
	found := v.String()
	switch e.Message {
	case "Float cannot represent non numeric value: " + found,
		"ID cannot represent a non-string and non-integer value: " + found,
		`Expected value of type "` + v.ExpectedType.String() + `", found ` + found + ".":
		return true
	}
	return false
}

// wideInteger reports whether v is an Int literal beyond 64 bits in a
// position that accepts any integer: Float, ID, or a custom scalar (whose
// literal may also sit in a list or object value of no schema type).
func wideInteger(v *ast.Value) bool {
	if v.Kind != ast.IntValue {
		return false
	}
	if _, err := strconv.ParseInt(v.Raw, 10, 64); err == nil {
		return false
	}
	if v.ExpectedType == nil {
		return true // inside a custom scalar's list or object
	}
	switch name := v.ExpectedType.Name(); name {
	case "Float", "ID":
		return true
	case "Int", "String", "Boolean":
		return false
	}
	return v.Definition != nil && v.Definition.Kind == ast.Scalar
}

func hasWideInteger(v *ast.Value) bool {
	if wideInteger(v) {
		return true
	}
	if d := defaultOf(v); d != nil {
		return hasWideInteger(d)
	}
	for _, c := range v.Children {
		if c.Value != nil && hasWideInteger(c.Value) {
			return true
		}
	}
	return false
}

// defaultOf is the default value of the variable v, or nil (v is no
// variable, or one without a default; a default holds no variables).
func defaultOf(v *ast.Value) *ast.Value {
	if v.Kind != ast.Variable || v.VariableDefinition == nil {
		return nil
	}
	return v.VariableDefinition.DefaultValue
}

// narrowed is a copy of v with each wide integer replaced by 0 and each
// variable with a default by its narrowed default, for a conversion that
// then fails only for other reasons.
func narrowed(v *ast.Value) *ast.Value {
	if d := defaultOf(v); d != nil {
		return narrowed(d)
	}
	cp := *v
	if wideInteger(v) {
		cp.Raw = "0"
		return &cp
	}
	if len(v.Children) > 0 {
		cp.Children = make(ast.ChildValueList, len(v.Children))
		for i, c := range v.Children {
			cc := *c
			if c.Value != nil {
				cc.Value = narrowed(c.Value)
			}
			cp.Children[i] = &cc
		}
	}
	return &cp
}

// LiteralValue converts a literal of type typ (a variable's default, an
// argument) as ast.Value.Value does, except that an Int literal beyond 64
// bits is an ID's digits in an ID position and a float64 elsewhere (Float,
// custom scalars), as graphql-js reads it; Int positions never hold one in
// a validated document. vars gives the variables' values.
func LiteralValue(v *ast.Value, typ *ast.Type, schema *ast.Schema, vars map[string]any) (any, error) {
	return literalValue(v, typ, schema, vars, false)
}

// LiteralShape is LiteralValue for a reader of a value's shape (list
// lengths, input object fields, numbers of Int positions), such as the
// cost estimate: an Int literal beyond a float64's range reads as ±Inf
// instead of failing the whole value (graphql-js reads it as Infinity).
// Infinities are no JSON: never send what it returns.
func LiteralShape(v *ast.Value, typ *ast.Type, schema *ast.Schema, vars map[string]any) (any, error) {
	return literalValue(v, typ, schema, vars, true)
}

func literalValue(v *ast.Value, typ *ast.Type, schema *ast.Schema, vars map[string]any, inf bool) (any, error) {
	if v == nil {
		return nil, nil
	}
	if v.Kind == ast.IntValue {
		if _, err := strconv.ParseInt(v.Raw, 10, 64); err != nil {
			if typ != nil && typ.Elem == nil && typ.NamedType == "ID" {
				return v.Raw, nil
			}
			if typ != nil && typ.Elem != nil {
				// One item where a list is expected: coerced as the item.
				return literalValue(v, typ.Elem, schema, vars, inf)
			}
			f, err := strconv.ParseFloat(v.Raw, 64)
			if inf && errors.Is(err, strconv.ErrRange) {
				return f, nil // ±Inf
			}
			return f, err
		}
	}
	switch v.Kind {
	case ast.ListValue:
		var elem *ast.Type
		if typ != nil {
			elem = typ.Elem
		}
		out := make([]any, 0, len(v.Children))
		for _, c := range v.Children {
			x, err := literalValue(c.Value, elem, schema, vars, inf)
			if err != nil {
				return nil, err
			}
			out = append(out, x)
		}
		return out, nil
	case ast.ObjectValue:
		var def *ast.Definition
		if typ != nil && typ.Elem == nil && schema != nil {
			def = schema.Types[typ.NamedType]
		}
		out := make(map[string]any, len(v.Children))
		for _, c := range v.Children {
			var ft *ast.Type
			if def != nil && def.Kind == ast.InputObject {
				if fd := def.Fields.ForName(c.Name); fd != nil {
					ft = fd.Type
				}
			}
			x, err := literalValue(c.Value, ft, schema, vars, inf)
			if err != nil {
				return nil, err
			}
			out[c.Name] = x
		}
		return out, nil
	}
	return v.Value(vars)
}

// Defaults puts into vars the default of each variable of op the
// request left out whose default holds an Int literal beyond 64 bits (a
// Float, ID or custom scalar value, Rule): gqlparser's variable
// coercion (validator.VariableValues) reads a default with
// ast.Value.Value, which fails on such a literal, so the default is
// converted here as graphql-js converts it and then coerced as a value the
// request sent. Call it before VariableValues.
func Defaults(schema *ast.Schema, op *ast.OperationDefinition, vars map[string]any) {
	for _, d := range op.VariableDefinitions {
		if d.DefaultValue == nil {
			continue
		}
		if _, sent := vars[d.Variable]; sent {
			continue
		}
		if _, err := d.DefaultValue.Value(nil); err == nil {
			continue
		}
		if v, err := LiteralValue(d.DefaultValue, d.Type, schema, nil); err == nil {
			vars[d.Variable] = v
		}
	}
}
