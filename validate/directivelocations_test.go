package validate

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// TestDirectiveLocations: errors about directives are located at the
// "@", a repeated directive's error at the first one too (each "want" is
// what both reference gateways, graphql-js 16, answered for the document
// on the demo schema, or graphql-js's rule for the case).
func TestDirectiveLocations(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "s.graphql", Input: locationsSDL})
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"unknown directive", `{ product(upc: "1") @foo { name } }`, []string{"1:21"}},
		{"repeated directive", `{ product(upc: "1") @include(if: true) @include(if: false) { name } }`, []string{"1:21 1:40"}},
		{"required argument missing", `{ product(upc: "1") @include { name } }`, []string{"1:21"}},
		{"directive at a wrong location", `query @skip(if: true) { product(upc: "1") { name } }`, []string{"1:7"}},
		{"on a fragment spread", "query { ...F @foo }\nfragment F on Query { product(upc: \"1\") { name } }", []string{"1:14"}},
		{"space after the @", `{ product(upc: "1") @ foo { name } }`, []string{"1:21"}},
		{"a line break after the @", "{ product(upc: \"1\") @\nfoo { name } }", []string{"1:21"}},
		{"a line break after the @, a wide character before it", "{ product(upc: \"1\") { name }\n  a: product(upc: \"é\") @\r\n\n foo { name } }", []string{"2:24"}},
		{"an argument's error stays at the argument", `{ product(upc: "1") @include(if: 3) { name } }`, []string{"1:34"}},
		{"repeated after a wide character on the line", `{ product(upc: "ü") @include(if: true) @include(if: true) { name } }`, []string{"1:21 1:40"}},
		{"after wide characters on earlier lines", "# ééé\n{ product(upc: \"日本\") @foo { name } }", []string{"2:22"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Name: "q.graphql", Input: tc.query})
			if err != nil {
				t.Fatal(err)
			}
			errs := validator.Validate(schema, doc)
			collect(doc).directiveLocations(errs)
			got := errorLocations(errs)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("locations %q, want %q (errors %v)", got, tc.want, errs)
			}
		})
	}
}
