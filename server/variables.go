package server

import (
	"fmt"
	"math"

	"github.com/vektah/gqlparser/v2/ast"
)

// checkVariables applies the rules gqlparser's coercion leaves out: an Int
// is a whole number within 32 bits, given as a JSON number.
func checkVariables(schema *ast.Schema, op *ast.OperationDefinition, vars map[string]any) error {
	for _, def := range op.VariableDefinitions {
		v, ok := vars[def.Variable]
		if !ok {
			continue
		}
		if err := checkValue(schema, def.Type, v, 0); err != nil {
			return fmt.Errorf("variable $%s: %w", def.Variable, err)
		}
	}
	return nil
}

func checkValue(schema *ast.Schema, t *ast.Type, v any, depth int) error {
	if v == nil || depth > 64 {
		return nil
	}
	if t.Elem != nil {
		list, ok := v.([]any)
		if !ok {
			return checkValue(schema, t.Elem, v, depth+1)
		}
		for _, item := range list {
			if err := checkValue(schema, t.Elem, item, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	switch t.NamedType {
	case "Int":
		var f float64
		switch n := v.(type) {
		case float64:
			f = n
		case int64:
			f = float64(n)
		case int:
			f = float64(n)
		default:
			return fmt.Errorf("Int cannot represent a non-number value")
		}
		if f != math.Trunc(f) || f > math.MaxInt32 || f < math.MinInt32 {
			return fmt.Errorf("Int cannot represent %v: not a 32-bit integer", f)
		}
		return nil
	}
	def := schema.Types[t.NamedType]
	obj, ok := v.(map[string]any)
	if def == nil || def.Kind != ast.InputObject || !ok {
		return nil
	}
	for _, fd := range def.Fields {
		if err := checkValue(schema, fd.Type, obj[fd.Name], depth+1); err != nil {
			return fmt.Errorf("%s: %w", fd.Name, err)
		}
	}
	return nil
}
