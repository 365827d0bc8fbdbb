package mutate

import (
	"strconv"

	"github.com/vektah/gqlparser/v2/ast"
)

// maxValueDepth bounds nested input values built for a type.
const maxValueDepth = 3

// Value is a plain JSON value of typ, for a variable an operation needs:
// 1 for Int and Float, "1" for ID and String (the fixtures' entity 1),
// true, an enum's first value, a one-item list, an input object with its
// required fields.
func Value(schema *ast.Schema, typ *ast.Type, depth int) any {
	if typ.Elem != nil {
		if depth >= maxValueDepth {
			return []any{}
		}
		return []any{Value(schema, typ.Elem, depth+1)}
	}
	def := schema.Types[typ.NamedType]
	switch {
	case def == nil:
		return nil
	case def.Kind == ast.Enum:
		if len(def.EnumValues) == 0 {
			return nil
		}
		return def.EnumValues[0].Name
	case def.Kind == ast.InputObject:
		out := map[string]any{}
		for _, f := range def.Fields {
			if f.Type.NonNull && f.DefaultValue == nil {
				out[f.Name] = Value(schema, f.Type, depth+1)
			}
		}
		return out
	}
	switch typ.NamedType {
	case "Int", "Float":
		return 1
	case "Boolean":
		return true
	default:
		return "1"
	}
}

// Literal is Value written as a GraphQL literal.
func Literal(schema *ast.Schema, typ *ast.Type) *ast.Value {
	return toLiteral(schema, typ, Value(schema, typ, 0))
}

func toLiteral(schema *ast.Schema, typ *ast.Type, v any) *ast.Value {
	switch x := v.(type) {
	case nil:
		return &ast.Value{Kind: ast.NullValue, Raw: "null"}
	case []any:
		out := &ast.Value{Kind: ast.ListValue}
		for _, item := range x {
			out.Children = append(out.Children, &ast.ChildValue{Value: toLiteral(schema, typ.Elem, item)})
		}
		return out
	case map[string]any:
		out := &ast.Value{Kind: ast.ObjectValue}
		def := schema.Types[typ.NamedType]
		for _, f := range def.Fields {
			if item, ok := x[f.Name]; ok {
				out.Children = append(out.Children, &ast.ChildValue{Name: f.Name, Value: toLiteral(schema, f.Type, item)})
			}
		}
		return out
	case bool:
		return &ast.Value{Kind: ast.BooleanValue, Raw: strconv.FormatBool(x)}
	case int:
		return &ast.Value{Kind: ast.IntValue, Raw: strconv.Itoa(x)}
	case string:
		if def := schema.Types[typ.NamedType]; def != nil && def.Kind == ast.Enum {
			return &ast.Value{Kind: ast.EnumValue, Raw: x}
		}
		return &ast.Value{Kind: ast.StringValue, Raw: x}
	}
	return &ast.Value{Kind: ast.NullValue, Raw: "null"}
}

// toJSON converts a literal without variables to the JSON value a client
// sends for it; ok is false for a literal holding a variable or a number
// JSON would not carry exactly.
func toJSON(v *ast.Value) (any, bool) {
	switch v.Kind {
	case ast.Variable:
		return nil, false
	case ast.NullValue:
		return nil, true
	case ast.IntValue:
		n, err := strconv.ParseInt(v.Raw, 10, 64)
		if err != nil || n > 1<<53 || n < -(1<<53) {
			return nil, false
		}
		return n, true
	case ast.FloatValue:
		f, err := strconv.ParseFloat(v.Raw, 64)
		if err != nil {
			return nil, false
		}
		return f, true
	case ast.BooleanValue:
		return v.Raw == "true", true
	case ast.StringValue, ast.BlockValue, ast.EnumValue:
		return v.Raw, true
	case ast.ListValue:
		out := []any{}
		for _, c := range v.Children {
			item, ok := toJSON(c.Value)
			if !ok {
				return nil, false
			}
			out = append(out, item)
		}
		return out, true
	case ast.ObjectValue:
		out := map[string]any{}
		for _, c := range v.Children {
			item, ok := toJSON(c.Value)
			if !ok {
				return nil, false
			}
			out[c.Name] = item
		}
		return out, true
	}
	return nil, false
}

// copyValue is a deep copy of a literal.
func copyValue(v *ast.Value) *ast.Value {
	if v == nil {
		return nil
	}
	out := &ast.Value{Kind: v.Kind, Raw: v.Raw, Position: v.Position}
	for _, c := range v.Children {
		out.Children = append(out.Children, &ast.ChildValue{Name: c.Name, Value: copyValue(c.Value), Position: c.Position})
	}
	return out
}

func copyArgs(args ast.ArgumentList) ast.ArgumentList {
	var out ast.ArgumentList
	for _, a := range args {
		out = append(out, &ast.Argument{Name: a.Name, Value: copyValue(a.Value), Position: a.Position})
	}
	return out
}

func copyDirectives(list ast.DirectiveList) ast.DirectiveList {
	var out ast.DirectiveList
	for _, d := range list {
		out = append(out, &ast.Directive{Name: d.Name, Arguments: copyArgs(d.Arguments), Position: d.Position, Location: d.Location})
	}
	return out
}

// copySet is a deep copy of a selection set (spreads keep their names).
func copySet(set ast.SelectionSet) ast.SelectionSet {
	var out ast.SelectionSet
	for _, sel := range set {
		out = append(out, copySelection(sel))
	}
	return out
}

func copySelection(sel ast.Selection) ast.Selection {
	switch s := sel.(type) {
	case *ast.Field:
		return &ast.Field{Alias: s.Alias, Name: s.Name, Arguments: copyArgs(s.Arguments), Directives: copyDirectives(s.Directives),
			SelectionSet: copySet(s.SelectionSet), Position: s.Position}
	case *ast.InlineFragment:
		return &ast.InlineFragment{TypeCondition: s.TypeCondition, Directives: copyDirectives(s.Directives),
			SelectionSet: copySet(s.SelectionSet), Position: s.Position}
	case *ast.FragmentSpread:
		return &ast.FragmentSpread{Name: s.Name, Directives: copyDirectives(s.Directives), Position: s.Position}
	}
	return sel
}
