package validate

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/fedgate/gateway/limits"
)

const tokenSDL = `
type Query { product(upc: String!, n: Int): Product items: [Item] }
interface Item { name: String }
type Product implements Item { name: String }
type Tool { name: String }
`

// TestTokenLocations: errors at a string literal are located at its
// opening quote, PossibleFragmentSpreads errors at the spread's "..."
// (each "want" is graphql-js 16's validate on the same schema).
func TestTokenLocations(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "s.graphql", Input: tokenSDL})
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"string literal", `{ product(upc: "1", n: "x") { name } }`, []string{"1:24"}},
		{"block string", `{ product(upc: "1", n: """x""") { name } }`, []string{"1:24"}},
		{"string in a directive argument", `{ product(upc: "1") @include(if: "no") { name } }`, []string{"1:34"}},
		{"inline fragment that can never apply", `{ items { ... on Tool { name } } }`, []string{"1:11"}},
		{"named fragment that can never apply", "{ items { ...  T } }\nfragment T on Tool { name }", []string{"1:11"}},
		{"fragment cycle", "{ ...F } fragment F on Query { ...G } fragment G on Query { ...F }", []string{"1:32 1:61"}},
		{"fragment spread within itself", "{ ...F } fragment F on Query { ... on Query { ...F } }", []string{"1:47"}},
		{"an unknown fragment stays at its name", `{ items { ...G } }`, []string{"1:14"}},
		{"a number stays", `{ product(upc: "1", n: 1.5) { name } }`, []string{"1:24"}},
		{"a string after a wide character", `{ product(upc: "é", n: "x") { name } }`, []string{"1:24"}},
		{"a block string of two lines", "{ product(upc: \"1\", n: \"\"\"a\nb\"\"\") { name } }", []string{"1:24"}},
		{"a block string of four lines", "{ product(upc: \"1\", n: \"\"\"\n  a\n  b\n\"\"\") { name } }", []string{"1:24"}},
		{"an inline fragment after a comment of wide characters", "# ééé\n{ items { ... on Tool { name } } }", []string{"2:11"}},
		{"a spread after wide characters", "{ product(upc: \"日本\") { name } items { ...  T } }\nfragment T on Tool { name }", []string{"1:39"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Name: "q.graphql", Input: tc.query})
			if err != nil {
				t.Fatal(err)
			}
			errs := validator.ValidateWithRules(schema, doc, withGatewayCycles())
			collect(doc).tokenLocations(errs)
			got := errorLocations(errs)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("locations %q, want %q (errors %v)", got, tc.want, errs)
			}
		})
	}
}

// withGatewayCycles is gqlparser's rules with the gateway's fragment
// cycle rule, as the server runs them.
func withGatewayCycles() *rules.Rules {
	r := rules.NewDefaultRules()
	r.ReplaceRule(limits.FragmentCyclesRule.Name, limits.FragmentCyclesRule.RuleFunc)
	return r
}
