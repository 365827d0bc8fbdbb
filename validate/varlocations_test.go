package validate

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

const locationsSDL = `
type Query {
  product(upc: String!): Product
  products(upcs: [String!]!): [Product]
  find(by: Filter!): Product
}
input Filter { upc: String! }
type Product { name: String }
`

// TestVariableDefinitionLocations: an error for a variable used where its
// type does not fit names the definition, then the use, as graphql-js
// does (each "want" is what graphql-js 16 reports for the document).
func TestVariableDefinitionLocations(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "s.graphql", Input: locationsSDL})
	for _, tc := range []struct {
		name, query string
		want        []string // per error: its locations
	}{
		{"argument", `query ($v: String) { product(upc: $v) { name } }`, []string{"1:8 1:35"}},
		{"inside a list", `query ($v: String) { products(upcs: [$v]) { name } }`, []string{"1:8 1:38"}},
		{"inside an input object", "query Q(\n  $v: String\n) { find(by: {upc: $v}) { name } }", []string{"2:3 3:20"}},
		{"directive argument", `query ($b: String) { product(upc: "1") @include(if: $b) { name } }`, []string{"1:8 1:53"}},
		{"through a fragment, once per operation",
			"query A($v: String) { ...F }\nquery B($v: Boolean) { ...F }\nfragment F on Query { product(upc: $v) { name } }",
			[]string{"1:9 3:36", "2:9 3:36"}},
		{"a variable defined twice", `query ($v: String!, $v: String!) { product(upc: $v) { name } }`, []string{"1:9 1:22"}},
		{"a variable defined twice and never used", `query ($v: Int, $v: Int) { product(upc: "1") { name } }`, []string{"1:8", "1:17", "1:9 1:18"}},
		{"a variable that fits is no error", `query ($v: String!) { product(upc: $v) { name } }`, nil},
		{"an undefined variable: the use, then the operation", `query { product(upc: $v) { name } }`, []string{"1:22 1:1"}},
		{"an undefined variable of a named operation", "query A($w: String!) { ...F }\nquery B { ...F }\nfragment F on Query { product(upc: $w) { name } }", []string{"3:36 2:1"}},
		{"an undefined variable of an anonymous operation written without query", `{ product(upc: $v) { name } }`, []string{"1:16 1:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, perr := parser.ParseQuery(&ast.Source{Name: "q.graphql", Input: tc.query})
			if perr != nil {
				t.Fatal(perr)
			}
			errs := validator.Validate(schema, doc)
			collect(doc).variableDefinitionLocations(errs)
			errs = Unique(doc, errs)
			got := errorLocations(errs)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("locations %q, want %q (errors %v)", got, tc.want, errs)
			}
		})
	}
}
