package opgen_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/internal/opgen"
	"github.com/fedgate/gateway/schema"
)

// TestClientConstructs checks that operations on the demo graph contain
// constructs clients send that a planner must keep apart: fragments on an
// interface inside a union inside a list, @skip/@include with variables on
// fragment spreads and inline fragments, aliases named like the enclosing
// entity's key fields below it, one response key merged from two
// fragments with different sub-selections, variables used only inside
// named fragments spread from other fragments, __typename on the root and
// introspection fields next to data fields.
func TestClientConstructs(t *testing.T) {
	sg, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	hints := opgen.HintsFrom(sg)
	g := opgen.New(sg.API, hints, opgen.Options{})
	seen := map[string]bool{}
	for seed := uint64(0); seed < 600; seed++ {
		op, err := g.Generate(seed)
		if err != nil {
			t.Fatal(err)
		}
		doc, errs := gqlparser.LoadQuery(sg.API, op.Query)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		for _, o := range doc.Operations {
			constructs(sg.API, o, hints, seen)
		}
	}
	for _, want := range []string{
		"interface fragment in a union in a list",
		"@skip($var) on a fragment spread", "@include($var) on a fragment spread",
		"@skip($var) on an inline fragment", "@include($var) on an inline fragment",
		"alias named like the enclosing entity's key",
		"one key from two fragments with different selections",
		"variable used only in nested named fragments",
		"__typename on the root", "__schema next to data fields", "__type next to data fields",
	} {
		if !seen[want] {
			t.Errorf("600 operations have no %s", want)
		}
	}
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
