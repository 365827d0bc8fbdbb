package server

import (
	"bytes"
	"encoding/json"
	"math"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/fedgate/gateway/server/request"
)

// maxExactFloat is 2^53-1: every integer up to it has its own float64.
const maxExactFloat = 1<<53 - 1

// exactIDs reads again, keeping the digits the client sent, each variable
// of op whose value holds an integer beyond 2^53 in an ID position. The
// spec accepts any integer as an ID input (3.5.5), JSON has no limit on
// a number's digits (RFC 8259 6), and the variables are decoded into
// float64s, so {"id": 12345678901234567} arrived as 12345678901234568,
// which gqlparser's coercion then refused ("integers beyond 2^53-1 may
// have been rounded") where the reference gateways answered. Such a
// number is the ID of its digits now; a number JavaScript wrote (the
// shortest digits of its float64) reads as the references read it.
// Other numbers keep their float64; the common case costs one look at the
// decoded values.
func exactIDs(api *ast.Schema, op *ast.OperationDefinition, vars map[string]any, raw []byte) {
	types := map[string]*ast.Type{}
	for _, d := range op.VariableDefinitions {
		if v, ok := vars[d.Variable]; ok && wideID(api, v, d.Type, 0) {
			types[d.Variable] = d.Type
		}
	}
	if len(types) == 0 {
		return
	}
	_ = request.Members(raw, func(key, value []byte) error {
		typ := types[string(key)]
		if typ == nil {
			return nil
		}
		dec := json.NewDecoder(bytes.NewReader(value))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) == nil {
			vars[string(key)] = exactNumbers(api, v, typ, 0)
		}
		return nil
	})
}

// maxTypeDepth bounds the walks of a value along its type (input objects
// may nest without end; the request's JSON nesting is bounded earlier).
const maxTypeDepth = 64

// wideID reports whether v, of type typ, holds a whole float64 beyond
// 2^53-1 in an ID position.
func wideID(api *ast.Schema, v any, typ *ast.Type, depth int) bool {
	if typ == nil || depth > maxTypeDepth {
		return false
	}
	if typ.Elem != nil {
		list, ok := v.([]any)
		if !ok {
			return wideID(api, v, typ.Elem, depth+1) // one item for a list
		}
		for _, x := range list {
			if wideID(api, x, typ.Elem, depth+1) {
				return true
			}
		}
		return false
	}
	if typ.NamedType == "ID" {
		f, ok := v.(float64)
		return ok && math.Abs(f) > maxExactFloat && f == math.Trunc(f) && !math.IsInf(f, 0)
	}
	obj, ok := v.(map[string]any)
	def := api.Types[typ.NamedType]
	if !ok || def == nil || def.Kind != ast.InputObject {
		return false
	}
	for _, fd := range def.Fields {
		if x, ok := obj[fd.Name]; ok && wideID(api, x, fd.Type, depth+1) {
			return true
		}
	}
	return false
}

// exactNumbers turns the json.Numbers of v (decoded with UseNumber) into
// what decoding without it gives, float64s, except an integer in an ID
// position, which stays its digits.
func exactNumbers(api *ast.Schema, v any, typ *ast.Type, depth int) any {
	switch x := v.(type) {
	case json.Number:
		if typ != nil && typ.Elem == nil && typ.NamedType == "ID" && integerText(string(x)) {
			return string(x)
		}
		if typ != nil && typ.Elem != nil {
			return exactNumbers(api, v, typ.Elem, depth+1)
		}
		f, _ := x.Float64()
		return f
	case []any:
		var elem *ast.Type
		if typ != nil {
			elem = typ.Elem
		}
		for i := range x {
			x[i] = exactNumbers(api, x[i], elem, depth+1)
		}
		return x
	case map[string]any:
		var def *ast.Definition
		if typ != nil && typ.Elem == nil && depth <= maxTypeDepth {
			def = api.Types[typ.NamedType]
		}
		for k, fv := range x {
			var ft *ast.Type
			if def != nil && def.Kind == ast.InputObject {
				if fd := def.Fields.ForName(k); fd != nil {
					ft = fd.Type
				}
			}
			x[k] = exactNumbers(api, fv, ft, depth+1)
		}
		return x
	}
	return v
}

// integerText reports whether a JSON number's text is an integer: digits,
// perhaps after a minus sign.
func integerText(s string) bool {
	s = trimMinus(s)
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func trimMinus(s string) string {
	if len(s) > 0 && s[0] == '-' {
		return s[1:]
	}
	return s
}
