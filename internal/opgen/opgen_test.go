package opgen_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/internal/opgen"
	"github.com/fedgate/gateway/schema"
)

// supergraphs returns the demo supergraph and the planner fixtures.
func supergraphs(t *testing.T) map[string]*schema.Supergraph {
	t.Helper()
	out := map[string]*schema.Supergraph{}
	sg, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	out["demo"] = sg
	files, _ := filepath.Glob("../../testdata/supergraphs/*.graphql")
	more, _ := filepath.Glob("../../testdata/compose/*/supergraph.graphql")
	for _, f := range append(files, more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sg, err := schema.Load(string(b))
		if err != nil {
			continue // fixtures the gateway does not load are not this package's concern
		}
		out[f] = sg
	}
	if len(out) < 10 {
		t.Fatalf("found %d supergraphs, want the demo and the fixtures", len(out))
	}
	return out
}

// generatedOp is one operation a generator made, parsed and validated.
type generatedOp struct {
	name  string // the supergraph's: "demo" or its file
	sg    *schema.Supergraph
	hints opgen.Hints
	seed  uint64
	op    opgen.Operation
	doc   *ast.QueryDocument
}

// vars are the variables o is sent with: op's for the operation that
// runs, none for the others.
func (g generatedOp) vars(o *ast.OperationDefinition) map[string]any {
	if o.Name == g.op.OperationName || g.op.OperationName == "" {
		return g.op.Variables
	}
	return nil
}

// eachGenerated calls check with the operations a generator with opts
// makes for seeds 0 to n-1 (0 to demoN-1 on the demo) on every supergraph
// of supergraphs. Independently of Generate's own check, each text must
// parse and validate; one that does not, or a seed that does not
// generate, fails the test.
func eachGenerated(t *testing.T, opts opgen.Options, n, demoN uint64, check func(generatedOp)) {
	t.Helper()
	for name, sg := range supergraphs(t) {
		hints := opgen.HintsFrom(sg)
		g := opgen.New(sg.API, hints, opts)
		seeds := n
		if name == "demo" {
			seeds = demoN
		}
		for seed := uint64(0); seed < seeds; seed++ {
			op, err := g.Generate(seed)
			if err != nil {
				t.Fatalf("%s seed %d: %v", name, seed, err)
			}
			doc, errs := opgen.LoadQuery(sg.API, op.Query)
			if len(errs) > 0 {
				t.Fatalf("%s seed %d: %v\n%s", name, seed, errs, op.Query)
			}
			check(generatedOp{name: name, sg: sg, hints: hints, seed: seed, op: op, doc: doc})
		}
	}
}

func TestGeneratedOperationsValidate(t *testing.T) {
	eachGenerated(t, opgen.Options{Mutations: true}, 30, 500, func(g generatedOp) {
		if g.op.OperationName != "" && g.doc.Operations.ForName(g.op.OperationName) == nil {
			t.Fatalf("%s seed %d: operation %q not in the document", g.name, g.seed, g.op.OperationName)
		}
	})
}

func TestDeterministicPerSeed(t *testing.T) {
	sg, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	a := opgen.New(sg.API, opgen.HintsFrom(sg), opgen.Options{})
	b := opgen.New(sg.API, opgen.HintsFrom(sg), opgen.Options{})
	distinct := map[string]bool{}
	for seed := uint64(0); seed < 50; seed++ {
		x, err := a.Generate(seed)
		if err != nil {
			t.Fatal(err)
		}
		y, err := b.Generate(seed)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(x, y) {
			t.Fatalf("seed %d: two generators differ:\n%s\n%s", seed, x.Query, y.Query)
		}
		distinct[x.Query] = true
	}
	if len(distinct) < 45 {
		t.Fatalf("50 seeds gave %d distinct documents", len(distinct))
	}
}

// TestCoverage checks that a few hundred operations on the demo graph
// contain each construct the generator promises.
func TestCoverage(t *testing.T) {
	sg, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	hints := opgen.HintsFrom(sg)
	g := opgen.New(sg.API, hints, opgen.Options{})
	seen := map[string]bool{}
	abstract := map[string]bool{}
	for name, def := range sg.API.Types {
		if def.IsAbstractType() && !def.BuiltIn && !strings.HasPrefix(name, "__") {
			abstract[name] = true
		}
	}
	for seed := uint64(0); seed < 400; seed++ {
		op, err := g.Generate(seed)
		if err != nil {
			t.Fatal(err)
		}
		doc, errs := opgen.LoadQuery(sg.API, op.Query)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		if len(doc.Operations) > 1 {
			seen["several operations"] = true
		}
		if len(doc.Fragments) > 0 {
			seen["named fragment"] = true
		}
		spreadBy := map[string]map[string]bool{}
		for _, o := range doc.Operations {
			walk(o.SelectionSet, 0, nil, func(sel ast.Selection, _ int, _ *ast.Definition, _ int) {
				if sp, ok := sel.(*ast.FragmentSpread); ok {
					if spreadBy[sp.Name] == nil {
						spreadBy[sp.Name] = map[string]bool{}
					}
					spreadBy[sp.Name][o.Name] = true
				}
			})
		}
		for _, ops := range spreadBy {
			if len(ops) > 1 {
				seen["fragment shared by operations"] = true
			}
		}
		for _, o := range doc.Operations {
			spreads := map[string]int{}
			walk(o.SelectionSet, 0, nil, func(sel ast.Selection, _ int, _ *ast.Definition, _ int) {
				if sp, ok := sel.(*ast.FragmentSpread); ok {
					spreads[sp.Name]++
				}
			})
			for _, n := range spreads {
				if n > 1 {
					seen["fragment spread twice in one operation"] = true
				}
			}
			uses := map[string]int{}
			walk(o.SelectionSet, 0, nil, func(sel ast.Selection, _ int, _ *ast.Definition, _ int) {
				f, ok := sel.(*ast.Field)
				if !ok {
					return
				}
				if len(f.Directives.ForNames("skip")) > 0 && len(f.Directives.ForNames("include")) > 0 {
					seen["@skip and @include on one field"] = true
				}
				for _, a := range f.Arguments {
					valueFeatures(a.Value, a.Value.ExpectedType, 0, seen, uses)
				}
			})
			for _, n := range uses {
				if n > 1 {
					seen["variable used twice"] = true
				}
			}
		}
		for _, o := range doc.Operations {
			for _, v := range o.VariableDefinitions {
				if v.DefaultValue != nil {
					seen["variable with default"] = true
				}
			}
			walk(o.SelectionSet, 0, nil, func(sel ast.Selection, depth int, parent *ast.Definition, abstractParents int) {
				if depth >= 5 {
					seen["depth 5"] = true
				}
				switch s := sel.(type) {
				case *ast.Field:
					for _, d := range s.Directives {
						seen["@"+d.Name] = true
						if d.Arguments[0].Value.Kind == ast.Variable {
							seen["@"+d.Name+"($var)"] = true
						}
					}
					if s.Alias == "__typename" && s.Name != "__typename" {
						seen["alias __typename"] = true
					}
					if parent != nil && s.Alias != s.Name {
						for _, h := range hints.AliasNames[parent.Name] {
							if s.Alias == h {
								seen["alias named like a key or @requires field"] = true
							}
						}
					}
				case *ast.InlineFragment:
					if parent != nil && parent.IsAbstractType() {
						delete(abstract, parent.Name)
						if abstractParents > 1 {
							seen["nested abstract fragment"] = true
						}
					}
				}
			})
			// __typename in every selection set of fields, at least
			// three levels of them.
			every, levels := true, 0
			walk(o.SelectionSet, 0, nil, func(sel ast.Selection, depth int, _ *ast.Definition, _ int) {
				f, ok := sel.(*ast.Field)
				if !ok || len(f.SelectionSet) == 0 {
					return
				}
				levels = max(levels, depth+1)
				has := false
				for _, c := range f.SelectionSet {
					if cf, ok := c.(*ast.Field); ok && cf.Name == "__typename" && cf.Alias == "__typename" {
						has = true
					}
				}
				every = every && has
			})
			if every && levels >= 3 {
				seen["__typename in every selection set"] = true
			}
			twice := map[string]int{}
			walk(o.SelectionSet, 0, nil, func(sel ast.Selection, _ int, _ *ast.Definition, _ int) {
				if f, ok := sel.(*ast.Field); ok && len(f.Arguments) > 0 {
					twice[f.Name+"@"+f.ObjectDefinition.Name]++
				}
			})
			for _, n := range twice {
				if n > 1 {
					seen["same field twice with arguments"] = true
				}
			}
		}
	}
	for _, want := range []string{"several operations", "named fragment", "fragment shared by operations", "variable with default", "depth 5",
		"@skip", "@include", "@skip($var)", "@include($var)", "alias __typename",
		"alias named like a key or @requires field", "nested abstract fragment", "same field twice with arguments",
		"fragment spread twice in one operation", "@skip and @include on one field", "variable used twice",
		"__typename in every selection set"} {
		if !seen[want] {
			t.Errorf("400 operations have no %s", want)
		}
	}
	for name := range abstract {
		t.Errorf("no inline fragment under abstract type %s", name)
	}
}

// TestValueCoverage checks that argument values over the fixtures (the
// demo has no list or input object arguments) take the forms the
// generator promises.
func TestValueCoverage(t *testing.T) {
	seen := map[string]bool{}
	eachGenerated(t, opgen.Options{}, 40, 40, func(g generatedOp) {
		for _, o := range g.doc.Operations {
			walk(o.SelectionSet, 0, nil, func(sel ast.Selection, _ int, _ *ast.Definition, _ int) {
				if f, ok := sel.(*ast.Field); ok {
					for _, a := range f.Arguments {
						valueFeatures(a.Value, a.Value.ExpectedType, 0, seen, map[string]int{})
						inputDefaults(g.sg.API, o, a.Value, seen)
						if a.Value.Kind == ast.EnumValue {
							seen["enum literal argument"] = true
						}
					}
				}
			})
		}
		for _, v := range g.op.Variables {
			if _, ok := v.([]any); !ok {
				continue
			}
			seen["list variable"] = true
		}
	})
	for _, want := range []string{"variable inside a list or object value", "one value for a list", "Int literal for a Float or ID", "list variable",
		"variable with a default inside an input object", "input object field left to its schema default", "enum literal argument"} {
		if !seen[want] {
			t.Errorf("the fixtures' operations have no %s", want)
		}
	}
}

// inputDefaults notes input object values of o that hold a variable with
// a default, or leave out a field that has a default in the schema.
func inputDefaults(api *ast.Schema, o *ast.OperationDefinition, v *ast.Value, seen map[string]bool) {
	if v == nil {
		return
	}
	if v.Kind == ast.ObjectValue && v.Definition != nil {
		for _, fd := range v.Definition.Fields {
			if fd.DefaultValue != nil && v.Children.ForName(fd.Name) == nil {
				seen["input object field left to its schema default"] = true
			}
		}
		for _, c := range v.Children {
			if c.Value.Kind == ast.Variable {
				if d := o.VariableDefinitions.ForName(c.Value.Raw); d != nil && d.DefaultValue != nil {
					seen["variable with a default inside an input object"] = true
				}
			}
		}
	}
	for _, c := range v.Children {
		inputDefaults(api, o, c.Value, seen)
	}
}

// valueFeatures notes what an argument value shows: variables inside
// list and object values (and counts every variable use), one value where
// a list is expected, Int literals for Float and ID.
func valueFeatures(v *ast.Value, typ *ast.Type, depth int, seen map[string]bool, uses map[string]int) {
	if v == nil || typ == nil {
		return
	}
	switch v.Kind {
	case ast.Variable:
		uses[v.Raw]++
		if depth > 0 {
			seen["variable inside a list or object value"] = true
		}
		return
	case ast.NullValue:
		return
	}
	if typ.Elem != nil && v.Kind != ast.ListValue {
		seen["one value for a list"] = true
		valueFeatures(v, typ.Elem, depth+1, seen, uses)
		return
	}
	if v.Kind == ast.IntValue && (typ.NamedType == "Float" || typ.NamedType == "ID") {
		seen["Int literal for a Float or ID"] = true
	}
	for _, c := range v.Children {
		var ct *ast.Type
		if v.Kind == ast.ListValue {
			ct = typ.Elem
		} else if c.Value.ExpectedType != nil {
			ct = c.Value.ExpectedType
		}
		valueFeatures(c.Value, ct, depth+1, seen, uses)
	}
}

// walk calls fn for every selection under set with the field depth, the
// type of the enclosing selection set, and how many abstract selection
// sets enclose it within the nearest field.
func walk(set ast.SelectionSet, depth int, parent *ast.Definition, fn func(ast.Selection, int, *ast.Definition, int)) {
	var rec func(set ast.SelectionSet, depth int, abstractParents int)
	rec = func(set ast.SelectionSet, depth int, abstractParents int) {
		for _, sel := range set {
			var p *ast.Definition
			switch s := sel.(type) {
			case *ast.Field:
				p = s.ObjectDefinition
				fn(sel, depth, p, abstractParents)
				rec(s.SelectionSet, depth+1, 0)
			case *ast.InlineFragment:
				p = s.ObjectDefinition
				fn(sel, depth, p, abstractParents)
				n := abstractParents
				if p != nil && p.IsAbstractType() {
					n++
				}
				rec(s.SelectionSet, depth, n)
			case *ast.FragmentSpread:
				fn(sel, depth, s.ObjectDefinition, abstractParents)
				if s.Definition != nil {
					rec(s.Definition.SelectionSet, depth, abstractParents)
				}
			}
		}
	}
	rec(set, depth, 0)
}

func TestHintsFrom(t *testing.T) {
	sg, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	h := opgen.HintsFrom(sg)
	// Product: keys upc, "upc sku"; shippingEstimate @requires(fields: "price weight").
	if got, want := h.AliasNames["Product"], []string{"price", "sku", "upc", "weight"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Product alias names %v, want %v", got, want)
	}
	if !h.Entities["Product"] || !h.Entities["User"] || h.Entities["Query"] {
		t.Errorf("entities %v", h.Entities)
	}
	b, err := os.ReadFile("../../testdata/supergraphs/requires_nested.graphql")
	if err != nil {
		t.Fatal(err)
	}
	sg, err = schema.Load(string(b))
	if err != nil {
		t.Fatal(err)
	}
	// postage @requires(fields: "dims { weight }"): weight is a name on Dimensions.
	if got := strings.Join(opgen.HintsFrom(sg).AliasNames["Dimensions"], " "); !strings.Contains(got, "weight") {
		t.Errorf("Dimensions alias names %q lack the nested @requires field weight", got)
	}
}

// TestAliasesStayUnderGatewayLimits: after fragment expansion, the
// operation that runs has at most 30 aliases (fedgate's default limit).
func TestAliasesStayUnderGatewayLimits(t *testing.T) {
	most := 0
	for name, sg := range supergraphs(t) {
		g := opgen.New(sg.API, opgen.HintsFrom(sg), opgen.Options{Mutations: true})
		seeds := uint64(100)
		if name == "demo" {
			seeds = 1000
		}
		for i := uint64(0); i < seeds; i++ {
			// The seeds of difftest run 31: its operation 75 on
			// partial_union had 38 aliases in an operation that did not
			// run (__typename taken by an alias, then aliased afresh).
			seed := uint64(31)<<24 | i
			op, err := g.Generate(seed)
			if err != nil {
				t.Fatal(err)
			}
			doc, errs := opgen.LoadQuery(sg.API, op.Query)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			// Gateways hold every operation of the document to the limit,
			// not only the one that runs.
			n := 0
			for _, run := range doc.Operations {
				m := 0
				walk(run.SelectionSet, 0, nil, func(sel ast.Selection, _ int, _ *ast.Definition, _ int) {
					if f, ok := sel.(*ast.Field); ok && f.Alias != f.Name {
						m++
					}
				})
				n = max(n, m)
			}
			if n > 30 {
				t.Fatalf("%s seed %d: %d aliases with fragments expanded\n%s", name, seed, n, op.Query)
			}
			most = max(most, n)
		}
	}
	t.Logf("at most %d aliases", most)
}

// TestOneKeyForFieldsOfDifferentTypes: the generator uses one response key
// for different fields in fragments on different object types (valid by
// spec 5.3.2 when the types match), which gateways must keep apart.
func TestOneKeyForFieldsOfDifferentTypes(t *testing.T) {
	sg, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	g := opgen.New(sg.API, opgen.HintsFrom(sg), opgen.Options{})
	found := 0
	for seed := uint64(0); seed < 1000 && found < 3; seed++ {
		op, err := g.Generate(seed)
		if err != nil {
			t.Fatal(err)
		}
		doc, errs := opgen.LoadQuery(sg.API, op.Query)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		var visit func(set ast.SelectionSet)
		// collect gathers the fields of one response level, through
		// fragments, by response key.
		var collect func(set ast.SelectionSet, into map[string]map[string]bool)
		collect = func(set ast.SelectionSet, into map[string]map[string]bool) {
			for _, sel := range set {
				switch s := sel.(type) {
				case *ast.Field:
					if into[s.Alias] == nil {
						into[s.Alias] = map[string]bool{}
					}
					into[s.Alias][s.ObjectDefinition.Name+"."+s.Name] = true
				case *ast.InlineFragment:
					collect(s.SelectionSet, into)
				case *ast.FragmentSpread:
					collect(s.Definition.SelectionSet, into)
				}
			}
		}
		visit = func(set ast.SelectionSet) {
			level := map[string]map[string]bool{}
			collect(set, level)
			for _, fields := range level {
				names := map[string]bool{}
				for f := range fields {
					names[f[strings.Index(f, ".")+1:]] = true
				}
				if len(names) > 1 {
					found++
				}
			}
			for _, sel := range set {
				switch s := sel.(type) {
				case *ast.Field:
					visit(s.SelectionSet)
				case *ast.InlineFragment:
					visit(s.SelectionSet)
				case *ast.FragmentSpread:
					visit(s.Definition.SelectionSet)
				}
			}
		}
		for _, o := range doc.Operations {
			visit(o.SelectionSet)
		}
	}
	if found == 0 {
		t.Fatal("1000 operations never use one response key for two different fields")
	}
}

// TestValidateUndefinedVariableThroughFragments: a fragment spread by two
// operations that uses a variable only one defines makes the document
// invalid (spec 5.8.3), however deep the fragment sits and whichever
// operation comes first.
func TestValidateUndefinedVariableThroughFragments(t *testing.T) {
	sg, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []string{
		`query Op2($v: Boolean!) { me { ...F2 } } query Op1 { me { ...F2 } }
fragment F2 on User { ...F1 } fragment F1 on User { name @include(if: $v) }`,
		`query Op1 { me { ...F2 } } query Op2($v: Boolean!) { me { ...F2 } }
fragment F2 on User { ...F1 } fragment F1 on User { name @include(if: $v) }`,
		`query Op2($v: Boolean!) { me { ...F2 } } query Op1 { me { ...F2 } }
fragment F2 on User { ...F1 @include(if: $v) } fragment F1 on User { name }`,
	} {
		for _, name := range []string{"Op1", "Op2"} {
			err := opgen.Validate(sg.API, opgen.Operation{Query: doc, OperationName: name, Variables: map[string]any{"v": true}})
			if err == nil || !strings.Contains(err.Error(), `Variable "$v" is not defined by operation "Op1"`) {
				t.Errorf("%s of\n%s\nValidate = %v, want $v not defined by Op1", name, doc, err)
			}
		}
	}
	ok := `query Op2($v: Boolean!) { me { ...F2 } } fragment F2 on User { name @include(if: $v) }`
	if err := opgen.Validate(sg.API, opgen.Operation{Query: ok, OperationName: "Op2", Variables: map[string]any{"v": true}}); err != nil {
		t.Errorf("valid document: %v", err)
	}
}
