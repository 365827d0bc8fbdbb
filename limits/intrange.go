package limits

import (
	"strconv"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/core"
)

// IntRangeRule is a validation rule (gqlparser's ValuesOfCorrectType
// leaves it out): an Int literal in a position of type Int is a signed
// 32-bit integer (spec 3.5.1). Only validation knows a literal's position:
// the same digits are a valid Float (any size, spec 3.5.2), ID or custom
// scalar literal, so the rule looks at the expected type, never at the
// literal alone. The message echoes at most a few dozen bytes.
var IntRangeRule = core.Rule{Name: "IntRange", RuleFunc: func(observers *core.Events, addError core.AddErrFunc) {
	observers.OnValue(func(_ *core.Walker, v *ast.Value) {
		if v.Kind != ast.IntValue || v.ExpectedType == nil || v.ExpectedType.Name() != "Int" {
			return
		}
		if _, err := strconv.ParseInt(v.Raw, 10, 32); err != nil {
			addError(core.Message("Int cannot represent non 32-bit signed integer value: %s", Clip(v.Raw, maxEcho)), core.At(v.Position))
		}
	})
}}
