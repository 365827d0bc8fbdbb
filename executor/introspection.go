package executor

import (
	"strconv"

	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/fedgate/gateway/planner"
	"github.com/vektah/gqlparser/v2/ast"
)

// Introspector answers __schema and __type from the API schema.
type Introspector struct {
	schema *ast.Schema
	wrap   *introspection.Schema
}

// NewIntrospector returns an introspector over the client-facing schema.
func NewIntrospector(schema *ast.Schema) *Introspector {
	return &Introspector{schema: schema, wrap: introspection.WrapSchema(schema)}
}

// Field renders a root __schema or __type field; vars resolve arguments
// given as variables.
func (in *Introspector) Field(buf []byte, f *planner.Field, vars map[string]any) []byte {
	w := introWriter{in: in, vars: vars}
	switch f.Name {
	case "__schema":
		return w.schema(buf, f.Selection)
	case "__type":
		name, _ := w.arg(f.Arguments, "name").(string)
		def := in.schema.Types[name]
		if def == nil {
			return append(buf, "null"...)
		}
		return w.typ(buf, introspection.WrapTypeFromDef(in.schema, def), f.Selection)
	}
	return append(buf, "null"...)
}

type introWriter struct {
	in   *Introspector
	vars map[string]any
}

func (w introWriter) arg(args ast.ArgumentList, name string) any {
	a := args.ForName(name)
	if a == nil || a.Value == nil {
		return nil
	}
	v, err := a.Value.Value(w.vars)
	if err != nil {
		return nil
	}
	return v
}

func (w introWriter) includeDeprecated(f *planner.Field) bool {
	v, _ := w.arg(f.Arguments, "includeDeprecated").(bool)
	return v
}

func appendStr(buf []byte, s *string) []byte {
	if s == nil {
		return append(buf, "null"...)
	}
	return strconv.AppendQuote(buf, *s)
}

func (w introWriter) each(buf []byte, sel *planner.SelectionSet, typename string, fn func([]byte, *planner.Field) []byte) []byte {
	buf = append(buf, '{')
	for i, f := range sel.FieldsFor(typename) {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = strconv.AppendQuote(buf, f.ResponseKey)
		buf = append(buf, ':')
		if f.Name == "__typename" {
			buf = strconv.AppendQuote(buf, typename)
			continue
		}
		buf = fn(buf, f)
	}
	return append(buf, '}')
}

func (w introWriter) schema(buf []byte, sel *planner.SelectionSet) []byte {
	s := w.in.wrap
	return w.each(buf, sel, "__Schema", func(buf []byte, f *planner.Field) []byte {
		switch f.Name {
		case "description":
			return appendStr(buf, s.Description())
		case "types":
			types := s.Types()
			return appendEach(buf, len(types), func(buf []byte, i int) []byte {
				buf = w.typ(buf, &types[i], f.Selection)
				return buf
			})
		case "queryType":
			return w.typ(buf, s.QueryType(), f.Selection)
		case "mutationType":
			return w.typ(buf, s.MutationType(), f.Selection)
		case "subscriptionType":
			return w.typ(buf, s.SubscriptionType(), f.Selection)
		case "directives":
			dirs := s.Directives()
			return appendEach(buf, len(dirs), func(buf []byte, i int) []byte {
				buf = w.directive(buf, &dirs[i], f.Selection)
				return buf
			})
		}
		return append(buf, "null"...)
	})
}

func (w introWriter) types(buf []byte, types []introspection.Type, sel *planner.SelectionSet) []byte {
	if types == nil {
		return append(buf, "null"...)
	}
	return appendEach(buf, len(types), func(buf []byte, i int) []byte {
		buf = w.typ(buf, &types[i], sel)
		return buf
	})
}

func (w introWriter) typ(buf []byte, t *introspection.Type, sel *planner.SelectionSet) []byte {
	if t == nil {
		return append(buf, "null"...)
	}
	return w.each(buf, sel, "__Type", func(buf []byte, f *planner.Field) []byte {
		switch f.Name {
		case "kind":
			return strconv.AppendQuote(buf, t.Kind())
		case "name":
			return appendStr(buf, t.Name())
		case "description":
			return appendStr(buf, t.Description())
		case "specifiedByURL":
			return appendStr(buf, t.SpecifiedByURL())
		case "isOneOf":
			return strconv.AppendBool(buf, t.IsOneOf())
		case "ofType":
			return w.typ(buf, t.OfType(), f.Selection)
		case "interfaces":
			return w.types(buf, t.Interfaces(), f.Selection)
		case "possibleTypes":
			return w.types(buf, t.PossibleTypes(), f.Selection)
		case "fields":
			fields := t.Fields(w.includeDeprecated(f))
			if fields == nil {
				return append(buf, "null"...)
			}
			return appendEach(buf, len(fields), func(buf []byte, i int) []byte {
				buf = w.field(buf, &fields[i], f.Selection)
				return buf
			})
		case "inputFields":
			if t.Kind() != "INPUT_OBJECT" {
				return append(buf, "null"...)
			}
			return w.inputValues(buf, t.VisibleInputFields(w.includeDeprecated(f)), f.Selection)
		case "enumValues":
			values := t.EnumValues(w.includeDeprecated(f))
			if values == nil {
				return append(buf, "null"...)
			}
			return appendEach(buf, len(values), func(buf []byte, i int) []byte {
				v := &values[i]
				buf = w.each(buf, f.Selection, "__EnumValue", func(buf []byte, f *planner.Field) []byte {
					switch f.Name {
					case "name":
						return strconv.AppendQuote(buf, v.Name)
					case "description":
						return appendStr(buf, v.Description())
					case "isDeprecated":
						return strconv.AppendBool(buf, v.IsDeprecated())
					case "deprecationReason":
						return appendStr(buf, v.DeprecationReason())
					}
					return append(buf, "null"...)
				})
				return buf
			})
		}
		return append(buf, "null"...)
	})
}

func (w introWriter) field(buf []byte, fd *introspection.Field, sel *planner.SelectionSet) []byte {
	return w.each(buf, sel, "__Field", func(buf []byte, f *planner.Field) []byte {
		switch f.Name {
		case "name":
			return strconv.AppendQuote(buf, fd.Name)
		case "description":
			return appendStr(buf, fd.Description())
		case "args":
			return w.inputValues(buf, fd.VisibleArgs(w.includeDeprecated(f)), f.Selection)
		case "type":
			return w.typ(buf, fd.Type, f.Selection)
		case "isDeprecated":
			return strconv.AppendBool(buf, fd.IsDeprecated())
		case "deprecationReason":
			return appendStr(buf, fd.DeprecationReason())
		}
		return append(buf, "null"...)
	})
}

func (w introWriter) inputValues(buf []byte, values []introspection.InputValue, sel *planner.SelectionSet) []byte {
	return appendEach(buf, len(values), func(buf []byte, i int) []byte {
		v := &values[i]
		buf = w.each(buf, sel, "__InputValue", func(buf []byte, f *planner.Field) []byte {
			switch f.Name {
			case "name":
				return strconv.AppendQuote(buf, v.Name)
			case "description":
				return appendStr(buf, v.Description())
			case "type":
				return w.typ(buf, v.Type, f.Selection)
			case "defaultValue":
				return appendStr(buf, v.DefaultValue)
			case "isDeprecated":
				return strconv.AppendBool(buf, v.IsDeprecated())
			case "deprecationReason":
				return appendStr(buf, v.DeprecationReason())
			}
			return append(buf, "null"...)
		})
		return buf
	})
}

func (w introWriter) directive(buf []byte, d *introspection.Directive, sel *planner.SelectionSet) []byte {
	return w.each(buf, sel, "__Directive", func(buf []byte, f *planner.Field) []byte {
		switch f.Name {
		case "name":
			return strconv.AppendQuote(buf, d.Name)
		case "description":
			return appendStr(buf, d.Description())
		case "isRepeatable":
			return strconv.AppendBool(buf, d.IsRepeatable)
		case "locations":
			return appendEach(buf, len(d.Locations), func(buf []byte, i int) []byte {
				l := d.Locations[i]
				buf = strconv.AppendQuote(buf, l)
				return buf
			})
		case "args":
			return w.inputValues(buf, d.VisibleArgs(w.includeDeprecated(f)), f.Selection)
		}
		return append(buf, "null"...)
	})
}

// appendEach writes a JSON array of n elements, each written by fn.
func appendEach(buf []byte, n int, fn func(buf []byte, i int) []byte) []byte {
	buf = append(buf, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = fn(buf, i)
	}
	return append(buf, ']')
}
