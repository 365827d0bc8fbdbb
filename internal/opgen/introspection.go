package opgen

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// introspection returns a selection of __schema or __type on the query
// root, next to the operation's data fields (as tools and clients that
// check a type before asking send it), or nil when the response key is
// taken. __type names a type of the schema, a built-in scalar or, rarely,
// a name the schema lacks (the answer is null); its sub-selection is a
// random part of what introspection clients ask.
func (s *gen) introspection(sc *scope) ast.Selection {
	if s.r.IntN(3) == 0 {
		f := &ast.Field{Name: "__schema", Alias: "__schema"}
		if s.r.IntN(4) == 0 && s.aliases < s.opts.MaxAliases {
			// Aliased: __schema may be selected twice, under two keys.
			f.Alias = s.freshAlias()
		}
		if sc.claim(f.Alias, "__schema", objectName(s.schema.Query), "") == nil {
			return nil
		}
		f.SelectionSet = s.decorate(s.schemaSelection(), "__Schema", 0)
		s.fields++
		return f
	}
	name := s.typeName()
	arg := &ast.Value{Kind: ast.StringValue, Raw: name}
	if !s.constant && s.r.IntN(4) == 0 {
		// The name in a variable, as tools that look a type up send it.
		arg = s.namedVariable("String", name)
	}
	f := &ast.Field{Name: "__type", Alias: "__type", Arguments: ast.ArgumentList{{Name: "name", Value: arg}}}
	if s.r.IntN(3) == 0 && s.aliases < s.opts.MaxAliases {
		f.Alias = s.freshAlias()
	}
	if sc.claim(f.Alias, "__type(name:"+arg.String()+")", objectName(s.schema.Query), "") == nil {
		return nil
	}
	s.directives(&f.Directives)
	f.SelectionSet = s.decorate(s.typeSelection(s.schema.Types[name], 0), "__Type", 0)
	s.fields++
	return f
}

// typeName picks the name for __type(name:): a type of the API schema,
// or rarely a built-in scalar, a missing name or a type of the supergraph
// the API schema hides (@inaccessible, federation machinery).
func (s *gen) typeName() string {
	switch roll := s.r.IntN(20); {
	case roll == 0:
		return "NoSuchType"
	case roll == 1:
		return "String"
	case roll == 2 && len(s.hints.Hidden) > 0:
		// A type of the supergraph the API schema hides: null.
		return s.hints.Hidden[s.r.IntN(len(s.hints.Hidden))]
	}
	var names []string
	for name, def := range s.schema.Types {
		if !def.BuiltIn && !strings.HasPrefix(name, "__") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names[s.r.IntN(len(names))]
}

// schemaSelection selects the root types of __schema, sometimes the
// names of every type. Not the directives: fedgate advertises @defer,
// which it serves and the references as the differential starts them do
// not (docs/differential.md).
func (s *gen) schemaSelection() ast.SelectionSet {
	named := func(field string) *ast.Field {
		return &ast.Field{Name: field, Alias: field, SelectionSet: ast.SelectionSet{&ast.Field{Name: "name", Alias: "name"}}}
	}
	set := ast.SelectionSet{named("queryType")}
	for _, f := range []string{"mutationType", "subscriptionType", "types"} {
		if s.r.IntN(4) == 0 {
			set = append(set, named(f))
		}
	}
	return set
}

// typeSelection selects fields of __Type for def (nil: a type the schema
// lacks); depth bounds ofType chains.
func (s *gen) typeSelection(def *ast.Definition, depth int) ast.SelectionSet {
	leaf := func(name string) *ast.Field { return &ast.Field{Name: name, Alias: name} }
	set := ast.SelectionSet{leaf("name")}
	if s.r.IntN(2) == 0 {
		set = append(set, leaf("kind"))
	}
	if depth > 0 {
		if depth < 3 && s.r.IntN(2) == 0 {
			set = append(set, &ast.Field{Name: "ofType", Alias: "ofType", SelectionSet: s.typeSelection(nil, depth+1)})
		}
		return set
	}
	kind := ast.DefinitionKind("")
	if def != nil {
		kind = def.Kind
	}
	typeRef := func() ast.SelectionSet { return s.typeSelection(nil, depth+1) }
	switch {
	case (kind == ast.Object || kind == ast.Interface || def == nil) && s.r.IntN(3) > 0:
		fields := &ast.Field{Name: "fields", Alias: "fields", SelectionSet: s.deprecation(ast.SelectionSet{leaf("name")})}
		if s.r.IntN(3) == 0 {
			fields.Arguments = s.includeDeprecated()
		}
		if s.r.IntN(2) == 0 {
			fields.SelectionSet = append(fields.SelectionSet, &ast.Field{Name: "type", Alias: "type", SelectionSet: typeRef()})
		}
		if s.r.IntN(4) == 0 {
			args := &ast.Field{Name: "args", Alias: "args",
				SelectionSet: s.deprecation(ast.SelectionSet{leaf("name"), &ast.Field{Name: "type", Alias: "type", SelectionSet: typeRef()}})}
			if s.r.IntN(2) == 0 {
				args.Arguments = s.includeDeprecated()
				args.SelectionSet = append(args.SelectionSet, leaf("defaultValue"))
			}
			fields.SelectionSet = append(fields.SelectionSet, args)
		}
		set = append(set, fields)
		if kind != ast.Interface && s.r.IntN(2) == 0 {
			set = append(set, &ast.Field{Name: "interfaces", Alias: "interfaces", SelectionSet: ast.SelectionSet{leaf("name")}})
		}
	case kind == ast.Interface || kind == ast.Union:
		set = append(set, &ast.Field{Name: "possibleTypes", Alias: "possibleTypes", SelectionSet: ast.SelectionSet{leaf("name")}})
	case kind == ast.Enum:
		values := &ast.Field{Name: "enumValues", Alias: "enumValues", SelectionSet: s.deprecation(ast.SelectionSet{leaf("name")})}
		if s.r.IntN(2) == 0 {
			values.Arguments = s.includeDeprecated()
		}
		set = append(set, values)
	case kind == ast.InputObject:
		set = append(set, &ast.Field{Name: "inputFields", Alias: "inputFields",
			SelectionSet: ast.SelectionSet{leaf("name"), leaf("defaultValue"), &ast.Field{Name: "type", Alias: "type", SelectionSet: typeRef()}}})
	}
	return set
}

// deprecation adds, sometimes, isDeprecated and deprecationReason to the
// selection on a field, argument or enum value, as GraphiQL asks them.
func (s *gen) deprecation(set ast.SelectionSet) ast.SelectionSet {
	if s.r.IntN(3) == 0 {
		set = append(set, &ast.Field{Name: "isDeprecated", Alias: "isDeprecated"},
			&ast.Field{Name: "deprecationReason", Alias: "deprecationReason"})
	}
	return set
}

// includeDeprecated is the argument includeDeprecated: true, sometimes
// given in a variable.
func (s *gen) includeDeprecated() ast.ArgumentList {
	v := &ast.Value{Kind: ast.BooleanValue, Raw: "true"}
	if !s.constant && s.r.IntN(3) == 0 {
		v = s.namedVariable("Boolean", true)
	}
	return ast.ArgumentList{{Name: "includeDeprecated", Value: v}}
}

// namedVariable defines a variable of the non-null type typ whose value is
// value: sent, or (half the time) its default.
func (s *gen) namedVariable(typ string, value any) *ast.Value {
	s.varUses++
	s.nVar++
	name := "v" + strconv.Itoa(s.nVar)
	def := &ast.VariableDefinition{Variable: name, Type: ast.NonNullNamedType(typ, nil)}
	if s.r.IntN(2) == 0 {
		s.values[name] = value
	} else {
		switch v := value.(type) {
		case string:
			def.DefaultValue = &ast.Value{Kind: ast.StringValue, Raw: v}
		case bool:
			def.DefaultValue = &ast.Value{Kind: ast.BooleanValue, Raw: strconv.FormatBool(v)}
		}
	}
	s.opVars = append(s.opVars, def)
	return &ast.Value{Kind: ast.Variable, Raw: name}
}

// decorate writes into an introspection selection set on the type typ
// (and, below, on its fields' types) what clients write around the fields
// of a generated one, sometimes: aliases, a field again under another
// alias, __typename (also aliased), @skip/@include, and part of the set
// moved into an inline fragment (with or without a type condition) or a
// named fragment on typ. Introspection is answered by the gateway itself,
// so these exercise its own executor, not the planner's.
func (s *gen) decorate(set ast.SelectionSet, typ string, depth int) ast.SelectionSet {
	def := s.schema.Types[typ]
	if def == nil || depth > 8 {
		return set
	}
	if depth == 0 && s.r.IntN(2) == 0 {
		// Half the introspection selections stay plain.
		return set
	}
	var out ast.SelectionSet
	for _, sel := range set {
		f, ok := sel.(*ast.Field)
		if !ok {
			out = append(out, sel)
			continue
		}
		if fd := def.Fields.ForName(f.Name); fd != nil && len(f.SelectionSet) > 0 {
			f.SelectionSet = s.decorate(f.SelectionSet, fd.Type.Name(), depth+1)
		}
		if s.r.IntN(6) == 0 && s.aliases < s.opts.MaxAliases {
			f.Alias = s.freshAlias()
		}
		if s.r.IntN(3) == 0 {
			s.directives(&f.Directives)
		}
		out = append(out, f)
		if len(f.SelectionSet) == 0 && s.r.IntN(8) == 0 && s.aliases < s.opts.MaxAliases {
			// The same field again under another key.
			out = append(out, &ast.Field{Name: f.Name, Alias: s.freshAlias()})
		}
	}
	if s.r.IntN(5) == 0 {
		tn := &ast.Field{Name: "__typename", Alias: "__typename"}
		if s.r.IntN(3) == 0 && s.aliases < s.opts.MaxAliases {
			tn.Alias = s.freshAlias()
		}
		out = append(out, tn)
	}
	if len(out) > 1 && s.r.IntN(5) == 0 {
		// The second half in a fragment on typ.
		cut := len(out) / 2
		inner := append(ast.SelectionSet{}, out[cut:]...)
		out = out[:cut]
		switch s.r.IntN(3) {
		case 0:
			name := fmt.Sprintf("F%d", len(s.frags)+1)
			s.frags = append(s.frags, &ast.FragmentDefinition{Name: name, TypeCondition: typ, SelectionSet: inner})
			spread := &ast.FragmentSpread{Name: name}
			s.directives(&spread.Directives)
			out = append(out, spread)
		case 1:
			out = append(out, &ast.InlineFragment{SelectionSet: inner})
		default:
			in := &ast.InlineFragment{TypeCondition: typ, SelectionSet: inner}
			s.directives(&in.Directives)
			out = append(out, in)
		}
	}
	return out
}
