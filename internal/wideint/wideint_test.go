package wideint

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

const wide = "123456789012345678901234567890"

var wideSchema = gqlparser.MustLoadSchema(&ast.Source{Input: `
	scalar JSON
	enum E { A }
	input In { f: Float, id: ID, n: Int, inner: In }
	input Req { f: Float, must: Int! }
	type Query {
		f(x: Float, l: [Float], ll: [[Float!]]): Int
		id(x: ID, l: [ID]): Int
		i(n: Int, o: In, r: Req): Int
		s(x: String, b: Boolean, e: E): Int
		j(x: JSON): Int
	}`})

// TestRule: an Int literal beyond 64 bits is valid where any
// integer is (Float, ID, custom scalars; in lists, input objects, variable
// defaults), as graphql-js reads it; refused in Int, String, Boolean and
// enum positions, and every other error of ValuesOfCorrectType stands on a
// value that holds one. Without the wrapper the accepted rows are refused.
func TestRule(t *testing.T) {
	for _, tc := range []struct {
		name, query string
		want        string // "" accepted, else a part of the first error
	}{
		{"Float", `{ f(x: ` + wide + `) }`, ""},
		{"negative Float", `{ f(x: -` + wide + `) }`, ""},
		{"ID", `{ id(x: ` + wide + `) }`, ""},
		{"Float list", `{ f(l: [1.5, ` + wide + `]) }`, ""},
		{"Float list of lists", `{ f(ll: [[` + wide + `]]) }`, ""},
		{"one item for a list", `{ id(l: ` + wide + `) }`, ""},
		{"input object", `{ i(o: {f: ` + wide + `, inner: {id: ` + wide + `}}) }`, ""},
		{"variable default", `query($v: Float = ` + wide + `, $w: [ID] = [` + wide + `]) { f(x: $v) id(l: $w) }`, ""},
		{"custom scalar", `{ j(x: {a: [` + wide + `]}) }`, ""},
		{"Int", `{ i(n: ` + wide + `) }`, "Int cannot represent"},
		{"Int in an object", `{ i(o: {n: ` + wide + `}) }`, "Int cannot represent"},
		{"String", `{ s(x: ` + wide + `) }`, "String cannot represent"},
		{"Boolean", `{ s(b: ` + wide + `) }`, "Boolean cannot represent"},
		{"enum", `{ s(e: ` + wide + `) }`, `Enum "E" cannot represent`},
		{"a list for a Float", `{ f(x: [` + wide + `]) }`, "Float cannot represent"},
		{"missing input field", `{ i(r: {f: ` + wide + `}) }`, `"Req.must" of required type "Int!" was not provided`},
		{"unknown input field", `{ i(o: {f: ` + wide + `, g: 1}) }`, `Field "g" is not defined`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, inner := range []struct {
				name string
				r    *rules.Rules
			}{{"loud", wideRules(rules.ValuesOfCorrectTypeRule)}, {"quiet", wideRules(rules.ValuesOfCorrectTypeRuleWithoutSuggestions)}} {
				doc, err := gqlparser.LoadQueryWithRules(wideSchema, tc.query, rules.NewRules())
				if err != nil {
					t.Fatalf("parse: %v", err)
				}
				errs := validator.ValidateWithRules(wideSchema, doc, inner.r)
				switch {
				case tc.want == "" && len(errs) > 0:
					t.Fatalf("%s: refused: %v", inner.name, errs)
				case tc.want != "" && len(errs) == 0:
					t.Fatalf("%s: accepted, want %q", inner.name, tc.want)
				case tc.want != "" && !strings.Contains(errs.Error(), tc.want):
					t.Fatalf("%s: errors %v, want %q", inner.name, errs, tc.want)
				}
			}
		})
	}
}

func wideRules(inner core.Rule) *rules.Rules {
	r := rules.NewDefaultRules()
	r.RemoveRule(rules.ValuesOfCorrectTypeRule.Name)
	r.RemoveRule(rules.ValuesOfCorrectTypeRuleWithoutSuggestions.Name)
	w := Rule(inner)
	r.AddRule(w.Name, w.RuleFunc)
	return r
}

// TestLiteralValue: a literal converts as ast.Value.Value converts it,
// except an Int beyond 64 bits: an ID's digits, a float64 elsewhere.
func TestLiteralValue(t *testing.T) {
	for _, tc := range []struct {
		name, typ, literal string
		want               any
	}{
		{"ID", "ID", wide, wide},
		{"Float", "Float", wide, 1.2345678901234568e29},
		{"custom scalar", "JSON", wide, 1.2345678901234568e29},
		{"ID list", "[ID]", "[" + wide + ", 4]", []any{wide, int64(4)}},
		{"one ID for a list", "[[ID]]", wide, wide},
		{"input object", "In", "{id: " + wide + ", f: 1.5, n: 2}", map[string]any{"id": wide, "f": 1.5, "n": int64(2)}},
		{"narrow", "Int", "7", int64(7)},
		{"string", "ID", `"x"`, "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := gqlparser.LoadQueryWithRules(wideSchema, "query($v: "+tc.typ+" = "+tc.literal+") { __typename }", rules.NewRules())
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			d := doc.Operations[0].VariableDefinitions[0]
			got, lerr := LiteralValue(d.DefaultValue, d.Type, wideSchema, nil)
			if lerr != nil {
				t.Fatal(lerr)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// TestLiteralShape: an Int literal beyond a float64's range fails
// LiteralValue (no JSON holds its value) and reads as ±Inf for
// LiteralShape, in a list too, so a reader of shapes (the cost estimate)
// still sees the list and its other items.
func TestLiteralShape(t *testing.T) {
	huge := strings.Repeat("9", 400)
	doc, err := gqlparser.LoadQueryWithRules(wideSchema, "query($v: [Float] = [1.5, -"+huge+"]) { __typename }", rules.NewRules())
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	d := doc.Operations[0].VariableDefinitions[0]
	if v, err := LiteralValue(d.DefaultValue, d.Type, wideSchema, nil); err == nil {
		t.Fatalf("LiteralValue: %v, want an error", v)
	}
	got, serr := LiteralShape(d.DefaultValue, d.Type, wideSchema, nil)
	if serr != nil {
		t.Fatal(serr)
	}
	if l, ok := got.([]any); !ok || len(l) != 2 || l[0] != 1.5 || !math.IsInf(l[1].(float64), -1) {
		t.Fatalf("LiteralShape: %#v, want [1.5 -Inf]", got)
	}
}
