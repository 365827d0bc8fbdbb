package executor

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/fedgate/gateway/planner"
	"github.com/vektah/gqlparser/v2/ast"
)

// Introspector answers __schema and __type from the API schema, as
// graphql-js 16 does: built-in scalars no field or argument uses are left
// out, possibleTypes lists object types only, directives can be
// deprecated, default values print coerced to their type (printDefault).
// @defer is advertised (the gateway delivers it incrementally,
// see ExecuteIncremental); @stream, which it does not implement, is not.
type Introspector struct {
	schema *ast.Schema
	wrap   *introspection.Schema
	// unused holds the built-in scalars nothing in the schema refers to.
	unused map[string]bool
	// types and directives are __Schema's lists, in their order (see
	// introspection_order.go), unused scalars and unadvertised
	// directives left out.
	types      []introspection.Type
	directives []introspection.Directive
	// defaults holds printed default values (printDefault) by their
	// literal and type in the schema: each introspection printed them
	// again, filled-in defaults included. cachedDefaults counts their
	// bytes, at most maxCachedDefaults.
	defaults       sync.Map // defaultKey -> string
	cachedDefaults atomic.Int64
}

// defaultKey is a default value of the schema and the type it is
// printed as.
type defaultKey struct {
	v *ast.Value
	t *ast.Type
}

// maxCachedDefaults bounds the bytes of printed defaults an Introspector
// keeps (a schema of many large ones prints the rest per request).
const maxCachedDefaults = 4 << 20

// printedDefault is printDefault of v, of type t in the schema (nil
// where it is null), printed once per schema while the cache has room.
func (in *Introspector) printedDefault(v *ast.Value, t *ast.Type) *string {
	k := defaultKey{v, t}
	if s, ok := in.defaults.Load(k); ok {
		return s.(*string)
	}
	var p *string
	if s, ok := printDefault(in.schema, v, t); ok {
		p = &s
	}
	size := int64(8)
	if p != nil {
		size += int64(len(*p))
	}
	if in.cachedDefaults.Add(size) > maxCachedDefaults {
		in.cachedDefaults.Add(-size)
	} else if _, loaded := in.defaults.LoadOrStore(k, p); loaded {
		in.cachedDefaults.Add(-size)
	}
	return p
}

// unadvertised directives are in gqlparser's prelude but not implemented.
var unadvertised = map[string]bool{"stream": true}

// NewIntrospector returns an introspector over the client-facing schema.
// It adds graphql-js 16's __Directive.isDeprecated and deprecationReason
// and __Schema.directives(includeDeprecated:) to the schema's
// introspection types (gqlparser's prelude lacks them), so that documents
// asking for them validate; call it before serving the schema.
func NewIntrospector(schema *ast.Schema) *Introspector {
	extendIntrospectionTypes(schema)
	in := &Introspector{schema: schema, wrap: introspection.WrapSchema(schema), unused: unusedScalars(schema)}
	for _, name := range typeOrder(schema) {
		if !in.unused[name] {
			in.types = append(in.types, *introspection.WrapTypeFromDef(schema, schema.Types[name]))
		}
	}
	byName := map[string]introspection.Directive{}
	for _, d := range in.wrap.Directives() {
		byName[d.Name] = d
	}
	for _, name := range directiveOrder(schema) {
		if d, ok := byName[name]; ok {
			in.directives = append(in.directives, d)
		}
	}
	return in
}

// extendIntrospectionTypes adds the directive deprecation fields of
// graphql-js 16 to the schema's __Directive and __Schema. It is idempotent.
func extendIntrospectionTypes(schema *ast.Schema) {
	if d := schema.Types["__Directive"]; d != nil && d.Fields.ForName("isDeprecated") == nil {
		d.Fields = append(d.Fields,
			&ast.FieldDefinition{Name: "isDeprecated", Type: ast.NonNullNamedType("Boolean", nil)},
			&ast.FieldDefinition{Name: "deprecationReason", Type: ast.NamedType("String", nil)})
	}
	if s := schema.Types["__Schema"]; s != nil {
		if f := s.Fields.ForName("directives"); f != nil && f.Arguments.ForName("includeDeprecated") == nil {
			f.Arguments = append(f.Arguments, &ast.ArgumentDefinition{
				Name:         "includeDeprecated",
				Type:         ast.NonNullNamedType("Boolean", nil),
				DefaultValue: &ast.Value{Kind: ast.BooleanValue, Raw: "false"},
			})
		}
	}
}

// builtinScalars are the scalars of the prelude; graphql-js lists one only
// when the schema refers to it.
var builtinScalars = []string{"Int", "Float", "String", "Boolean", "ID"}

// unusedScalars returns the built-in scalars that no field, argument,
// input field or advertised directive argument of the schema refers to
// (the introspection types refer to String and Boolean).
func unusedScalars(schema *ast.Schema) map[string]bool {
	used := map[string]bool{"String": true, "Boolean": true}
	for _, def := range schema.Types {
		if strings.HasPrefix(def.Name, "__") {
			continue
		}
		for _, f := range def.Fields {
			used[f.Type.Name()] = true
			for _, a := range f.Arguments {
				used[a.Type.Name()] = true
			}
		}
	}
	for name, d := range schema.Directives {
		if unadvertised[name] {
			continue
		}
		for _, a := range d.Arguments {
			used[a.Type.Name()] = true
		}
	}
	out := map[string]bool{}
	for _, name := range builtinScalars {
		if !used[name] {
			out[name] = true
		}
	}
	return out
}

// scalarDescriptions are graphql-js 16's descriptions of the built-in
// scalars (gqlparser's prelude words two of them differently).
var scalarDescriptions = map[string]string{
	"Int":     "The `Int` scalar type represents non-fractional signed whole numeric values. Int can represent values between -(2^31) and 2^31 - 1.",
	"Float":   "The `Float` scalar type represents signed double-precision fractional values as specified by [IEEE 754](https://en.wikipedia.org/wiki/IEEE_floating_point).",
	"String":  "The `String` scalar type represents textual data, represented as UTF-8 character sequences. The String type is most often used by GraphQL to represent free-form human-readable text.",
	"Boolean": "The `Boolean` scalar type represents `true` or `false`.",
	"ID":      "The `ID` scalar type represents a unique identifier, often used to refetch an object or as key for a cache. The ID type appears in a JSON response as a String; however, it is not intended to be human-readable. When expected as an input type, any string (such as `\"4\"`) or integer (such as `4`) input value will be accepted as an ID.",
}

// printValue spaces a value's literal text as graphql-js prints values:
// ", " between list items and object fields, ": " after a field name.
// printDefault uses it for the literals it does not coerce (custom
// scalars).
func printValue(s *string) *string {
	if s == nil {
		return nil
	}
	var b strings.Builder
	inString, escaped := false, false
	for _, r := range *s {
		b.WriteRune(r)
		switch {
		case inString && escaped:
			escaped = false
		case inString && r == '\\':
			escaped = true
		case r == '"':
			inString = !inString
		case !inString && (r == ',' || r == ':'):
			b.WriteByte(' ')
		}
	}
	out := b.String()
	return &out
}

// defaultDeprecationReason is @deprecated's default reason argument.
const defaultDeprecationReason = "No longer supported"

// deprecationReason is the reason gqlparser read from a @deprecated
// application, or the directive's default when the application has no
// reason argument (gqlparser leaves it out; graphql-js fills it in).
func deprecationReason(deprecated bool, reason *string) *string {
	if !deprecated || reason != nil {
		return reason
	}
	r := defaultDeprecationReason
	return &r
}

// directiveDeprecation returns the reason a directive definition is
// deprecated for, or nil.
func directiveDeprecation(d *ast.DirectiveDefinition) *string {
	dep := d.Directives.ForName("deprecated")
	if dep == nil {
		return nil
	}
	reason := defaultDeprecationReason
	if a := dep.Arguments.ForName("reason"); a != nil && a.Value != nil {
		reason = a.Value.Raw
	}
	return &reason
}

// Field renders a root __schema or __type field; vars resolve arguments
// given as variables.
//
// nullPaths are the paths, below the field, of the objects a null
// @skip/@include condition in their selection made null (spec 6.4.1: a
// field error there, NullConditionMessage); the null goes up through
// non-null positions as for any field error, so the field's own value may
// be null.
func (in *Introspector) Field(buf []byte, f *planner.ShapeField, vars map[string]any) (out []byte, nullPaths [][]any) {
	w := introWriter{in: in, vars: vars, st: &introState{}}
	switch f.Name {
	case "__schema":
		buf = w.schema(buf, f.Selection)
	case "__type":
		name, _ := w.arg(f.Arguments, "name").(string)
		def := in.schema.Types[name]
		if def == nil || in.unused[name] {
			return append(buf, "null"...), nil
		}
		buf = w.typ(buf, introspection.WrapTypeFromDef(in.schema, def), f.Selection)
	default:
		buf = append(buf, "null"...)
	}
	return buf, w.st.nullPaths
}

type introWriter struct {
	in   *Introspector
	vars map[string]any
	st   *introState
}

// introState is what a render keeps for null @skip/@include conditions:
// the path being written, the paths of the objects they nulled, and
// whether one did (only then are values checked against non-null
// positions).
type introState struct {
	path      []any
	nullPaths [][]any
	nulled    bool
}

// isNull reports whether a value written is null.
func isNull(v []byte) bool { return string(v) == "null" }

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

func (w introWriter) includeDeprecated(f *planner.ShapeField) bool {
	v, _ := w.arg(f.Arguments, "includeDeprecated").(bool)
	return v
}

func appendStr(buf []byte, s *string) []byte {
	if s == nil {
		return append(buf, "null"...)
	}
	return appendStringText(buf, *s)
}

// each writes an object of type typename with the fields of sel, each
// value written by fn; null when the selection met a null condition for
// it, or when a non-null field of it is null because of one.
func (w introWriter) each(buf []byte, sel *planner.ShapeSet, typename string, fn func([]byte, *planner.ShapeField) []byte) []byte {
	if null, report := sel.NullCondition(typename); null {
		if report {
			w.st.nullPaths = append(w.st.nullPaths, append([]any(nil), w.st.path...))
		}
		w.st.nulled = true
		return append(buf, "null"...)
	}
	start := len(buf)
	buf = append(buf, '{')
	fields := sel.FieldsFor(typename)
	for i := range fields {
		f := &fields[i]
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendStringText(buf, f.ResponseKey)
		buf = append(buf, ':')
		if f.Name == "__typename" {
			buf = appendStringText(buf, typename)
			continue
		}
		w.st.path = append(w.st.path, f.ResponseKey)
		at := len(buf)
		buf = fn(buf, f)
		w.st.path = w.st.path[:len(w.st.path)-1]
		if w.st.nulled && f.NonNull(0) && isNull(buf[at:]) {
			return append(buf[:start], "null"...)
		}
	}
	return append(buf, '}')
}

// list writes the list value of field f, n items each written by fn; null
// when a non-null item is null because of a null condition (one error: a
// list stops at its first failing item, as graphql-js's completeListValue
// does).
func (w introWriter) list(buf []byte, f *planner.ShapeField, n int, fn func(buf []byte, i int) []byte) []byte {
	start := len(buf)
	buf = append(buf, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			buf = append(buf, ',')
		}
		w.st.path = append(w.st.path, i)
		at := len(buf)
		buf = fn(buf, i)
		w.st.path = w.st.path[:len(w.st.path)-1]
		if w.st.nulled && f.NonNull(1) && isNull(buf[at:]) {
			return append(buf[:start], "null"...)
		}
	}
	return append(buf, ']')
}

func (w introWriter) schema(buf []byte, sel *planner.ShapeSet) []byte {
	s := w.in.wrap
	return w.each(buf, sel, "__Schema", func(buf []byte, f *planner.ShapeField) []byte {
		switch f.Name {
		case "description":
			return appendStr(buf, s.Description())
		case "types":
			types := w.in.types
			return w.list(buf, f, len(types), func(buf []byte, i int) []byte {
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
			all := w.in.directives
			dirs := all[:0:0]
			for _, d := range all {
				def := w.in.schema.Directives[d.Name]
				if def == nil || (directiveDeprecation(def) != nil && !w.includeDeprecated(f)) {
					continue
				}
				dirs = append(dirs, d)
			}
			return w.list(buf, f, len(dirs), func(buf []byte, i int) []byte {
				buf = w.directive(buf, &dirs[i], f.Selection)
				return buf
			})
		}
		return append(buf, "null"...)
	})
}

// types writes the list of types of field f.
func (w introWriter) types(buf []byte, types []introspection.Type, f *planner.ShapeField) []byte {
	if types == nil {
		return append(buf, "null"...)
	}
	return w.list(buf, f, len(types), func(buf []byte, i int) []byte {
		buf = w.typ(buf, &types[i], f.Selection)
		return buf
	})
}

func (w introWriter) typ(buf []byte, t *introspection.Type, sel *planner.ShapeSet) []byte {
	if t == nil {
		return append(buf, "null"...)
	}
	return w.each(buf, sel, "__Type", func(buf []byte, f *planner.ShapeField) []byte {
		switch f.Name {
		case "kind":
			return appendStringText(buf, t.Kind())
		case "name":
			return appendStr(buf, t.Name())
		case "description":
			if n := t.Name(); n != nil && t.Kind() == "SCALAR" {
				if d, ok := scalarDescriptions[*n]; ok {
					return appendStringText(buf, d)
				}
			}
			return appendStr(buf, t.Description())
		case "specifiedByURL":
			return appendStr(buf, t.SpecifiedByURL())
		case "isOneOf":
			if t.Kind() != "INPUT_OBJECT" {
				return append(buf, "null"...)
			}
			return strconv.AppendBool(buf, t.IsOneOf())
		case "ofType":
			return w.typ(buf, t.OfType(), f.Selection)
		case "interfaces":
			if k := t.Kind(); k != "OBJECT" && k != "INTERFACE" {
				return append(buf, "null"...)
			}
			return w.types(buf, t.Interfaces(), f)
		case "possibleTypes":
			if k := t.Kind(); k != "INTERFACE" && k != "UNION" {
				return append(buf, "null"...)
			}
			// gqlparser counts an interface implementing another among its
			// possible types; only object types are.
			all := t.PossibleTypes()
			objects := all[:0:0]
			for _, p := range all {
				if p.Kind() == "OBJECT" {
					objects = append(objects, p)
				}
			}
			return w.types(buf, objects, f)
		case "fields":
			if k := t.Kind(); k != "OBJECT" && k != "INTERFACE" {
				return append(buf, "null"...)
			}
			fields := t.Fields(w.includeDeprecated(f))
			if fields == nil {
				return append(buf, "null"...)
			}
			defs := w.fieldDefs(t)
			return w.list(buf, f, len(fields), func(buf []byte, i int) []byte {
				buf = w.field(buf, &fields[i], defs.ForName(fields[i].Name), f.Selection)
				return buf
			})
		case "inputFields":
			if t.Kind() != "INPUT_OBJECT" {
				return append(buf, "null"...)
			}
			return w.inputValues(buf, t.VisibleInputFields(w.includeDeprecated(f)), f, w.fieldDefs(t).ForName)
		case "enumValues":
			if t.Kind() != "ENUM" {
				return append(buf, "null"...)
			}
			values := t.EnumValues(w.includeDeprecated(f))
			if values == nil {
				return append(buf, "null"...)
			}
			return w.list(buf, f, len(values), func(buf []byte, i int) []byte {
				v := &values[i]
				buf = w.each(buf, f.Selection, "__EnumValue", func(buf []byte, f *planner.ShapeField) []byte {
					switch f.Name {
					case "name":
						return appendStringText(buf, v.Name)
					case "description":
						return appendStr(buf, v.Description())
					case "isDeprecated":
						return strconv.AppendBool(buf, v.IsDeprecated())
					case "deprecationReason":
						return appendStr(buf, deprecationReason(v.IsDeprecated(), v.DeprecationReason()))
					}
					return append(buf, "null"...)
				})
				return buf
			})
		}
		return append(buf, "null"...)
	})
}

// fieldDefs returns the schema's definitions of the fields or input
// fields of named type t.
func (w introWriter) fieldDefs(t *introspection.Type) ast.FieldList {
	if n := t.Name(); n != nil {
		if def := w.in.schema.Types[*n]; def != nil {
			return def.Fields
		}
	}
	return nil
}

// field writes a __Field; def is its definition in the schema.
func (w introWriter) field(buf []byte, fd *introspection.Field, def *ast.FieldDefinition, sel *planner.ShapeSet) []byte {
	return w.each(buf, sel, "__Field", func(buf []byte, f *planner.ShapeField) []byte {
		switch f.Name {
		case "name":
			return appendStringText(buf, fd.Name)
		case "description":
			return appendStr(buf, fd.Description())
		case "args":
			var args ast.ArgumentDefinitionList
			if def != nil {
				args = def.Arguments
			}
			return w.inputValues(buf, fd.VisibleArgs(w.includeDeprecated(f)), f, argDefs(args))
		case "type":
			return w.typ(buf, fd.Type, f.Selection)
		case "isDeprecated":
			return strconv.AppendBool(buf, fd.IsDeprecated())
		case "deprecationReason":
			return appendStr(buf, deprecationReason(fd.IsDeprecated(), fd.DeprecationReason()))
		}
		return append(buf, "null"...)
	})
}

// argDefs looks up an argument in args as an input value definition.
func argDefs(args ast.ArgumentDefinitionList) func(string) *ast.FieldDefinition {
	return func(name string) *ast.FieldDefinition {
		a := args.ForName(name)
		if a == nil {
			return nil
		}
		return &ast.FieldDefinition{Name: a.Name, Type: a.Type, DefaultValue: a.DefaultValue}
	}
}

// inputValues writes a list of __InputValue; lookup finds each value's
// definition in the schema, for its default value.
// inputValues writes the list of input values of field lf.
func (w introWriter) inputValues(buf []byte, values []introspection.InputValue, lf *planner.ShapeField, lookup func(name string) *ast.FieldDefinition) []byte {
	return w.list(buf, lf, len(values), func(buf []byte, i int) []byte {
		v := &values[i]
		buf = w.each(buf, lf.Selection, "__InputValue", func(buf []byte, f *planner.ShapeField) []byte {
			switch f.Name {
			case "name":
				return appendStringText(buf, v.Name)
			case "description":
				return appendStr(buf, v.Description())
			case "type":
				return w.typ(buf, v.Type, f.Selection)
			case "defaultValue":
				if d := lookup(v.Name); d != nil && d.DefaultValue != nil {
					return appendStr(buf, w.in.printedDefault(d.DefaultValue, d.Type))
				}
				return appendStr(buf, printValue(v.DefaultValue))
			case "isDeprecated":
				return strconv.AppendBool(buf, v.IsDeprecated())
			case "deprecationReason":
				return appendStr(buf, deprecationReason(v.IsDeprecated(), v.DeprecationReason()))
			}
			return append(buf, "null"...)
		})
		return buf
	})
}

func (w introWriter) directive(buf []byte, d *introspection.Directive, sel *planner.ShapeSet) []byte {
	return w.each(buf, sel, "__Directive", func(buf []byte, f *planner.ShapeField) []byte {
		switch f.Name {
		case "name":
			return appendStringText(buf, d.Name)
		case "description":
			return appendStr(buf, d.Description())
		case "isRepeatable":
			return strconv.AppendBool(buf, d.IsRepeatable)
		case "isDeprecated":
			def := w.in.schema.Directives[d.Name]
			return strconv.AppendBool(buf, def != nil && directiveDeprecation(def) != nil)
		case "deprecationReason":
			if def := w.in.schema.Directives[d.Name]; def != nil {
				return appendStr(buf, directiveDeprecation(def))
			}
			return append(buf, "null"...)
		case "locations":
			return appendEach(buf, len(d.Locations), func(buf []byte, i int) []byte {
				l := d.Locations[i]
				buf = appendStringText(buf, l)
				return buf
			})
		case "args":
			var args ast.ArgumentDefinitionList
			if def := w.in.schema.Directives[d.Name]; def != nil {
				args = def.Arguments
			}
			return w.inputValues(buf, d.VisibleArgs(w.includeDeprecated(f)), f, argDefs(args))
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
