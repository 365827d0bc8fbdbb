package opgen_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/fedgate/gateway/internal/opgen"
)

// TestClientConstructs checks that operations on the demo graph contain
// constructs clients send that a planner must keep apart: fragments on an
// interface inside a union inside a list, @skip/@include with variables on
// fragment spreads and inline fragments, aliases named like the enclosing
// entity's key fields below it, one response key merged from two
// fragments with different sub-selections, variables used only inside
// named fragments spread from other fragments, __typename on the root and
// introspection fields next to data fields; and, on the demo and the
// fixtures together, the shapes of clients.go (see clientConstructs).
func TestClientConstructs(t *testing.T) {
	seen := map[string]bool{}
	eachGenerated(t, opgen.Options{Mutations: true}, 40, 600, func(g generatedOp) {
		for _, o := range g.doc.Operations {
			if g.name == "demo" {
				constructs(g.sg.API, o, g.hints, seen)
			}
			clientConstructs(g.sg.API, o, g.vars(o), g.hints, seen)
			moreConstructs(g.sg.API, o, g.vars(o), g.hints, seen)
		}
	})
	for _, want := range []string{
		"interface fragment in a union in a list",
		"@skip($var) on a fragment spread", "@include($var) on a fragment spread",
		"@skip($var) on an inline fragment", "@include($var) on an inline fragment",
		"alias named like the enclosing entity's key",
		"one key from two fragments with different selections",
		"variable used only in nested named fragments",
		"__typename on the root", "__schema next to data fields", "__type next to data fields",
		"__typename-only selection on an abstract type",
		"__typename only in fragments on an abstract type",
		"one field twice, one occurrence conditional",
		"nullable Boolean variable with a default in @skip/@include",
		"nullable variable with a default for a non-null argument",
		"explicit null variable over its default",
		"explicit null argument over its default",
		"@requires field next to its aliased input",
		"@provides field with provided and other fields",
		"entity chain longer than 6",
		"inline fragment without a type condition",
		"... on Query inside ... on Query",
		"@skip/@include($var) on a fragment nested 3 deep",
		"string with escapes", "block string", "negative Int", "Float with exponent",
		"custom scalar as an object", "custom scalar as a list",
		"enum variable", "input object variable", "list variable",
		"mutation with several root fields",
		"deprecated field", "deprecated argument",
		"arguments on a field of an entity below another field",
		"__type(name: $variable)", "isDeprecated in introspection", "args(includeDeprecated:) in introspection",
		"explicit null Boolean variable in @skip/@include",
		"an alias at every level of an entity chain longer than 6",
		"named fragments spread 5 deep",
		"one named fragment spread at an object and an abstract position",
		"fragment on an abstract type some object belongs to in some subgraphs only",
		"@skip/@include on an inline fragment without a type condition",
		"__typename on the mutation root",
	} {
		if !seen[want] {
			t.Errorf("the operations have no %s", want)
		}
	}
}

// clientConstructs notes in seen the shapes of clients.go (and the value
// forms of TestClientConstructs) that o contains; vars are the variable
// values sent when o is the operation run, else nil.
func clientConstructs(api *ast.Schema, o *ast.OperationDefinition, vars map[string]any, hints opgen.Hints, seen map[string]bool) {
	if o.Operation == ast.Mutation && len(o.SelectionSet) >= 2 {
		seen["mutation with several root fields"] = true
	}
	for _, d := range o.VariableDefinitions {
		if d.DefaultValue != nil && !d.Type.NonNull {
			if v, ok := vars[d.Variable]; ok && v == nil {
				seen["explicit null variable over its default"] = true
			}
		}
		if def := api.Types[d.Type.Name()]; def != nil {
			if def.Kind == ast.Scalar && !def.BuiltIn && d.Type.Elem == nil {
				switch vars[d.Variable].(type) {
				case map[string]any:
					seen["custom scalar as an object"] = true
				case []any:
					seen["custom scalar as a list"] = true
				}
			}
			switch {
			case d.Type.Elem != nil:
				seen["list variable"] = true
			case def.Kind == ast.Enum:
				seen["enum variable"] = true
			case def.Kind == ast.InputObject:
				seen["input object variable"] = true
			}
		}
	}
	defaulted := func(v *ast.Value) bool {
		if v == nil || v.Kind != ast.Variable {
			return false
		}
		d := o.VariableDefinitions.ForName(v.Raw)
		return d != nil && !d.Type.NonNull && d.DefaultValue != nil
	}
	var values func(v *ast.Value, typ *ast.Type)
	values = func(v *ast.Value, typ *ast.Type) {
		if v == nil || typ == nil {
			return
		}
		def := api.Types[typ.Name()]
		switch {
		case v.Kind == ast.BlockValue:
			seen["block string"] = true
		case v.Kind == ast.StringValue && strings.ContainsAny(v.Raw, "\"\\\n\t"):
			seen["string with escapes"] = true
		case v.Kind == ast.IntValue && strings.HasPrefix(v.Raw, "-"):
			seen["negative Int"] = true
		case v.Kind == ast.FloatValue && strings.ContainsAny(v.Raw, "eE"):
			seen["Float with exponent"] = true
		}
		if def != nil && def.Kind == ast.Scalar && !def.BuiltIn && typ.Elem == nil {
			switch v.Kind {
			case ast.ObjectValue:
				seen["custom scalar as an object"] = true
			case ast.ListValue:
				seen["custom scalar as a list"] = true
			}
			return
		}
		for _, c := range v.Children {
			switch {
			case v.Kind == ast.ListValue && typ.Elem != nil:
				values(c.Value, typ.Elem)
			case v.Kind == ast.ListValue:
				values(c.Value, typ)
			case def != nil && def.Kind == ast.InputObject:
				if f := def.Fields.ForName(c.Name); f != nil {
					values(c.Value, f.Type)
				}
			}
		}
	}
	var visit func(set ast.SelectionSet, parent *ast.Definition, entities, fragDepth int, fragTypes []string)
	visit = func(set ast.SelectionSet, parent *ast.Definition, entities, fragDepth int, fragTypes []string) {
		names := map[string][]*ast.Field{}
		for _, sel := range set {
			f, ok := sel.(*ast.Field)
			if !ok {
				continue
			}
			names[f.Alias] = append(names[f.Alias], f)
		}
		for _, fs := range names {
			if len(fs) > 1 && len(fs[0].SelectionSet) > 0 && (variableCondition(fs[0].Directives) || variableCondition(fs[1].Directives)) {
				seen["one field twice, one occurrence conditional"] = true
			}
		}
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				switch {
				case s.Name == "__type" && len(s.Arguments) == 1 && s.Arguments[0].Value.Kind == ast.Variable:
					seen["__type(name: $variable)"] = true
				case s.Name == "isDeprecated":
					seen["isDeprecated in introspection"] = true
				case s.Name == "args" && s.Arguments.ForName("includeDeprecated") != nil:
					seen["args(includeDeprecated:) in introspection"] = true
				}
				if s.Definition == nil {
					continue
				}
				for _, a := range s.Arguments {
					ad := s.Definition.Arguments.ForName(a.Name)
					if ad == nil {
						continue
					}
					if ad.Type.NonNull && defaulted(a.Value) {
						seen["nullable variable with a default for a non-null argument"] = true
					}
					if a.Value.Kind == ast.NullValue && ad.DefaultValue != nil {
						seen["explicit null argument over its default"] = true
					}
					if ad.Directives.ForName("deprecated") != nil {
						seen["deprecated argument"] = true
					}
					if entities > 0 && parent != nil && hints.Entities[parent.Name] {
						seen["arguments on a field of an entity below another field"] = true
					}
					values(a.Value, ad.Type)
				}
				for _, d := range s.Directives {
					if (d.Name == "skip" || d.Name == "include") && defaulted(d.Arguments[0].Value) {
						seen["nullable Boolean variable with a default in @skip/@include"] = true
					}
				}
				if s.Definition.Directives.ForName("deprecated") != nil {
					seen["deprecated field"] = true
				}
				if parent != nil && hints.Requires[parent.Name][s.Name] != nil {
					for _, r := range hints.Requires[parent.Name][s.Name] {
						in, ok := r.(*ast.Field)
						for _, other := range set {
							if o, isField := other.(*ast.Field); ok && isField && o.Name == in.Name && o.Alias != o.Name {
								seen["@requires field next to its aliased input"] = true
							}
						}
					}
				}
				if parent != nil && hints.Provides[parent.Name][s.Name] != nil {
					provided := map[string]bool{}
					for _, p := range hints.Provides[parent.Name][s.Name] {
						if pf, ok := p.(*ast.Field); ok {
							provided[pf.Name] = true
						}
					}
					in, out := false, false
					for _, c := range flatFields(s.SelectionSet) {
						if provided[c.Name] {
							in = true
						} else if c.Name != "__typename" {
							out = true
						}
					}
					if in && out {
						seen["@provides field with provided and other fields"] = true
					}
				}
				def := api.Types[s.Definition.Type.Name()]
				if def != nil && def.IsAbstractType() && len(s.SelectionSet) > 0 {
					only, inFragments := true, true
					for _, c := range flatFields(s.SelectionSet) {
						only = only && c.Name == "__typename"
					}
					for _, c := range s.SelectionSet {
						if f, ok := c.(*ast.Field); ok && f.Name == "__typename" {
							inFragments = false
						}
					}
					if only {
						seen["__typename-only selection on an abstract type"] = true
						if inFragments {
							seen["__typename only in fragments on an abstract type"] = true
						}
					}
				}
				e := entities
				if hints.Entities[s.Definition.Type.Name()] {
					e++
				}
				if e > 6 {
					seen["entity chain longer than 6"] = true
				}
				visit(s.SelectionSet, def, e, 0, nil)
			case *ast.InlineFragment:
				if s.TypeCondition == "" {
					seen["inline fragment without a type condition"] = true
				}
				if fragDepth == 2 && variableCondition(s.Directives) {
					seen["@skip/@include($var) on a fragment nested 3 deep"] = true
				}
				if s.TypeCondition == "Query" && len(fragTypes) > 0 && fragTypes[len(fragTypes)-1] == "Query" {
					seen["... on Query inside ... on Query"] = true
				}
				cond := s.TypeCondition
				if cond == "" && parent != nil {
					cond = parent.Name
				}
				visit(s.SelectionSet, api.Types[cond], entities, fragDepth+1, append(fragTypes, cond))
			case *ast.FragmentSpread:
				if fragDepth == 2 && variableCondition(s.Directives) {
					seen["@skip/@include($var) on a fragment nested 3 deep"] = true
				}
				cond := s.Definition.TypeCondition
				if cond == "Query" && len(fragTypes) > 0 && fragTypes[len(fragTypes)-1] == "Query" {
					seen["... on Query inside ... on Query"] = true
				}
				visit(s.Definition.SelectionSet, api.Types[cond], entities, fragDepth+1, append(fragTypes, cond))
			}
		}
	}
	visit(o.SelectionSet, nil, 0, 0, nil)
}

// variableCondition reports whether dirs have @skip or @include with a
// variable.
func variableCondition(dirs ast.DirectiveList) bool {
	for _, d := range dirs {
		if (d.Name == "skip" || d.Name == "include") && d.Arguments[0].Value.Kind == ast.Variable {
			return true
		}
	}
	return false
}

// flatFields lists the fields of set, fragments expanded (not their
// sub-selections).
func flatFields(set ast.SelectionSet) []*ast.Field {
	var out []*ast.Field
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			out = append(out, s)
		case *ast.InlineFragment:
			out = append(out, flatFields(s.SelectionSet)...)
		case *ast.FragmentSpread:
			out = append(out, flatFields(s.Definition.SelectionSet)...)
		}
	}
	return out
}

// constructs notes in seen the constructs of TestClientConstructs that o
// contains.
func constructs(api *ast.Schema, o *ast.OperationDefinition, hints opgen.Hints, seen map[string]bool) {
	data := false
	for _, sel := range o.SelectionSet {
		if f, ok := sel.(*ast.Field); ok && !strings.HasPrefix(f.Name, "__") {
			data = true
		}
	}
	for _, sel := range o.SelectionSet {
		if f, ok := sel.(*ast.Field); ok {
			switch {
			case f.Name == "__typename":
				seen["__typename on the root"] = true
			case f.Name == "__schema" && data:
				seen["__schema next to data fields"] = true
			case f.Name == "__type" && data:
				seen["__type next to data fields"] = true
			}
		}
	}
	// Variables: where each is used, in the operation's own selections or
	// only in named fragments spread from another fragment.
	outside, nested := map[string]bool{}, map[string]bool{}
	var vars func(set ast.SelectionSet, inFragment, inNested bool)
	noteDirs := func(dirs ast.DirectiveList, inNested bool) {
		for _, d := range dirs {
			for _, a := range d.Arguments {
				noteVars(a.Value, inNested, outside, nested)
			}
		}
	}
	vars = func(set ast.SelectionSet, inFragment, inNested bool) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				noteDirs(s.Directives, inNested)
				for _, a := range s.Arguments {
					noteVars(a.Value, inNested, outside, nested)
				}
				vars(s.SelectionSet, inFragment, inNested)
			case *ast.InlineFragment:
				noteDirs(s.Directives, inNested)
				vars(s.SelectionSet, true, inNested)
			case *ast.FragmentSpread:
				noteDirs(s.Directives, inNested)
				vars(s.Definition.SelectionSet, true, inNested || inFragment)
			}
		}
	}
	vars(o.SelectionSet, false, false)
	for v := range nested {
		if !outside[v] {
			seen["variable used only in nested named fragments"] = true
		}
	}
	var visit func(set ast.SelectionSet, field *ast.Field, enclosing *ast.Definition, depth int)
	visit = func(set ast.SelectionSet, field *ast.Field, enclosing *ast.Definition, depth int) {
		level := map[string][]keyedSelection{}
		collectKeys(set, "", level)
		for _, subs := range level {
			for _, a := range subs {
				for _, b := range subs {
					if a.from != b.from && a.text != b.text && overlap(api, a.parent, b.parent) {
						seen["one key from two fragments with different selections"] = true
					}
				}
			}
		}
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if depth >= 2 && enclosing != nil && s.Alias != s.Name {
					for _, h := range hints.AliasNames[enclosing.Name] {
						if h == s.Alias {
							seen["alias named like the enclosing entity's key"] = true
						}
					}
				}
				visit(s.SelectionSet, s, s.ObjectDefinition, depth+1)
			case *ast.InlineFragment:
				conditional(s.Directives, "an inline fragment", seen)
				if interfaceInUnionList(api, field, s.ObjectDefinition, s.TypeCondition) {
					seen["interface fragment in a union in a list"] = true
				}
				visit(s.SelectionSet, field, enclosing, depth)
			case *ast.FragmentSpread:
				conditional(s.Directives, "a fragment spread", seen)
				if interfaceInUnionList(api, field, s.ObjectDefinition, s.Definition.TypeCondition) {
					seen["interface fragment in a union in a list"] = true
				}
				visit(s.Definition.SelectionSet, field, enclosing, depth)
			}
		}
	}
	visit(o.SelectionSet, nil, nil, 0)
}

// interfaceInUnionList reports whether a fragment on cond in a selection
// set on parent, below field, is one on an interface inside a union
// inside a list.
func interfaceInUnionList(api *ast.Schema, field *ast.Field, parent *ast.Definition, cond string) bool {
	if field == nil || field.Definition == nil || field.Definition.Type.Elem == nil || parent == nil || parent.Kind != ast.Union {
		return false
	}
	def := api.Types[cond]
	return def != nil && def.Kind == ast.Interface
}

// conditional notes @skip/@include with a variable on a selection of kind.
func conditional(dirs ast.DirectiveList, kind string, seen map[string]bool) {
	for _, d := range dirs {
		if (d.Name == "skip" || d.Name == "include") && d.Arguments[0].Value.Kind == ast.Variable {
			seen["@"+d.Name+"($var) on "+kind] = true
		}
	}
}

// keyedSelection is a composite field's printed sub-selection, the
// fragment path it was selected in and the type it was selected on.
type keyedSelection struct {
	from, text string
	parent     *ast.Definition
}

// overlap reports whether an object can be of both types a and b (the
// fields selected on them are then merged).
func overlap(api *ast.Schema, a, b *ast.Definition) bool {
	for _, x := range api.GetPossibleTypes(a) {
		for _, y := range api.GetPossibleTypes(b) {
			if x.Name == y.Name {
				return true
			}
		}
	}
	return false
}

// collectKeys gathers, through fragments, the sub-selections of the
// composite fields of one response level by response key.
func collectKeys(set ast.SelectionSet, from string, into map[string][]keyedSelection) {
	for i, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if len(s.SelectionSet) == 0 {
				continue
			}
			into[s.Alias] = append(into[s.Alias], keyedSelection{from, printSet(s.SelectionSet), s.ObjectDefinition})
		case *ast.InlineFragment:
			collectKeys(s.SelectionSet, fmt.Sprintf("%s/%d", from, i), into)
		case *ast.FragmentSpread:
			collectKeys(s.Definition.SelectionSet, from+"/"+s.Name, into)
		}
	}
}

// noteVars records the variables in v as used outside or inside nested
// named fragments.
func noteVars(v *ast.Value, inNested bool, outside, nested map[string]bool) {
	if v == nil {
		return
	}
	if v.Kind == ast.Variable {
		if inNested {
			nested[v.Raw] = true
		} else {
			outside[v.Raw] = true
		}
		return
	}
	for _, c := range v.Children {
		noteVars(c.Value, inNested, outside, nested)
	}
}

// printSet prints a selection set compactly (fragments expanded).
func printSet(set ast.SelectionSet) string {
	var b strings.Builder
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			b.WriteString(" " + s.Alias + ":" + s.Name)
			for _, a := range s.Arguments {
				b.WriteString("(" + a.Name + ":" + a.Value.String() + ")")
			}
			if len(s.SelectionSet) > 0 {
				b.WriteString("{" + printSet(s.SelectionSet) + "}")
			}
		case *ast.InlineFragment:
			b.WriteString(" ...on " + s.TypeCondition + "{" + printSet(s.SelectionSet) + "}")
		case *ast.FragmentSpread:
			b.WriteString(" ..." + s.Name + "{" + printSet(s.Definition.SelectionSet) + "}")
		}
	}
	return b.String()
}

// moreConstructs notes in seen what third-party generators send that the
// walk of clientConstructs does not look at: an explicit null for a
// nullable Boolean variable with a default used by @skip/@include (a field
// error where it is evaluated), long entity chains aliased at every level,
// named fragments spreading named fragments 5 deep, and one named fragment
// spread at positions of an object type and of an abstract type.
func moreConstructs(api *ast.Schema, o *ast.OperationDefinition, vars map[string]any, hints opgen.Hints, seen map[string]bool) {
	spreadAt := map[string]map[bool]bool{} // fragment name -> abstract position?
	var visit func(set ast.SelectionSet, parent *ast.Definition, entities, named int, aliased bool)
	visit = func(set ast.SelectionSet, parent *ast.Definition, entities, named int, aliased bool) {
		for _, sel := range set {
			var dirs ast.DirectiveList
			switch s := sel.(type) {
			case *ast.Field:
				dirs = s.Directives
				if s.Definition == nil {
					continue
				}
				e := entities
				if hints.Entities[s.Definition.Type.Name()] {
					e++
				}
				al := aliased && s.Alias != s.Name
				if e > 6 && al {
					seen["an alias at every level of an entity chain longer than 6"] = true
				}
				visit(s.SelectionSet, api.Types[s.Definition.Type.Name()], e, named, al)
			case *ast.InlineFragment:
				dirs = s.Directives
				cond := parent
				if s.TypeCondition != "" {
					cond = api.Types[s.TypeCondition]
				} else if len(dirs) > 0 {
					seen["@skip/@include on an inline fragment without a type condition"] = true
				}
				if len(hints.Partial[s.TypeCondition]) > 0 {
					seen["fragment on an abstract type some object belongs to in some subgraphs only"] = true
				}
				visit(s.SelectionSet, cond, entities, named, aliased)
			case *ast.FragmentSpread:
				dirs = s.Directives
				if len(hints.Partial[s.Definition.TypeCondition]) > 0 {
					seen["fragment on an abstract type some object belongs to in some subgraphs only"] = true
				}
				if named >= 4 {
					seen["named fragments spread 5 deep"] = true
				}
				if parent != nil {
					if spreadAt[s.Name] == nil {
						spreadAt[s.Name] = map[bool]bool{}
					}
					spreadAt[s.Name][parent.IsAbstractType()] = true
				}
				if named < 8 {
					visit(s.Definition.SelectionSet, api.Types[s.Definition.TypeCondition], entities, named+1, aliased)
				}
			}
			for _, d := range dirs {
				if d.Name != "skip" && d.Name != "include" {
					continue
				}
				if v := d.Arguments.ForName("if").Value; v.Kind == ast.Variable {
					if x, ok := vars[v.Raw]; ok && x == nil {
						seen["explicit null Boolean variable in @skip/@include"] = true
					}
				}
			}
		}
	}
	visit(o.SelectionSet, api.Types[rootName(api, o)], 0, 0, true)
	if o.Operation == ast.Mutation {
		for _, sel := range o.SelectionSet {
			if f, ok := sel.(*ast.Field); ok && f.Name == "__typename" {
				seen["__typename on the mutation root"] = true
			}
		}
	}
	for _, at := range spreadAt {
		if at[true] && at[false] {
			seen["one named fragment spread at an object and an abstract position"] = true
		}
	}
}

// rootName is the name of o's root type.
func rootName(api *ast.Schema, o *ast.OperationDefinition) string {
	switch o.Operation {
	case ast.Mutation:
		return api.Mutation.Name
	case ast.Subscription:
		return api.Subscription.Name
	}
	return api.Query.Name
}
