package limits

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// TestIntRangeRule: an Int literal beyond 32 bits is refused where the
// position is an Int (at any list depth, in input objects, variable
// defaults, directives, fragments), and accepted where the same digits are
// a Float, an ID or a custom scalar's value.
func TestIntRangeRule(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `
		scalar JSON
		input In { n: Int, f: Float, inner: In }
		directive @d(n: Int) on FIELD
		type Query {
			i(n: Int, l: [[Int]], o: In): Int
			f(x: Float, l: [Float]): Int
			id(x: ID): Int
			j(x: JSON): Int
		}`})
	r := rules.NewDefaultRules()
	r.AddRule(IntRangeRule.Name, IntRangeRule.RuleFunc)
	huge := strings.Repeat("9", 10000)
	for _, tc := range []struct {
		name, query string
		refused     bool
	}{
		{"Int at the bounds", `{ i(n: 2147483647) a: i(n: -2147483648) }`, false},
		{"Int over", `{ i(n: 2147483648) }`, true},
		{"Int under", `{ i(n: -2147483649) }`, true},
		{"Int in a list of lists", `{ i(l: [[1], [2, 9007199254740993]]) }`, true},
		{"one Int for a list of lists", `{ i(l: 2147483648) }`, true},
		{"Int in an input object", `{ i(o: {inner: {n: 99999999999}}) }`, true},
		{"Int in a directive", `{ i @d(n: 99999999999) }`, true},
		{"Int variable default", `query($v: Int = 99999999999) { i(n: $v) }`, true},
		{"Int in a fragment", `{ ...F } fragment F on Query { i(n: 99999999999) }`, true},
		{"huge Int", `{ i(n: ` + huge + `) }`, true},
		{"Float position", `{ f(x: 2147483648) a: f(l: [1, 99999999999]) }`, false},
		{"Float in an input object", `{ i(o: {f: 99999999999}) }`, false},
		{"Float variable default", `query($v: Float = 99999999999) { f(x: $v) }`, false},
		{"ID position", `{ id(x: 99999999999) }`, false},
		{"custom scalar", `{ j(x: 99999999999) a: j(x: [99999999999, {n: 99999999999}]) }`, false},
		{"digits in a string", `{ j(x: "99999999999") }`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := gqlparser.LoadQueryWithRules(schema, tc.query, rules.NewRules())
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			errs := validator.ValidateWithRules(schema, doc, r)
			switch {
			case tc.refused && len(errs) == 0:
				t.Fatal("accepted, want refused")
			case !tc.refused && len(errs) > 0:
				t.Fatalf("refused: %v", errs)
			}
			if !tc.refused {
				return
			}
			// The rule's message, clipped (gqlparser adds its own, whole,
			// for a literal beyond 64 bits; the server clips those).
			clipped := false
			for _, e := range errs {
				clipped = clipped || (strings.Contains(e.Message, "32-bit") && len(e.Message) < 200)
			}
			if !clipped {
				t.Errorf("no clipped 32-bit message in %v", errs)
			}
		})
	}
}
