package validate

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// TestArgumentLocations: an unknown argument's error is located at the
// argument (each "want" is graphql-js 16's validate on the same schema).
func TestArgumentLocations(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "s.graphql", Input: locationsSDL})
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"on a field", `{ product(upc: "1", x: 1) { name } }`, []string{"1:21"}},
		{"two on one field", "{ product(x: 1, upc: \"1\",\n  y: 2) { name } }", []string{"1:11", "2:3"}},
		{"on a directive", `{ product(upc: "1") @include(if: true, x: 1) { name } }`, []string{"1:40"}},
		{"in a fragment, reported once", "{ ...F }\nfragment F on Query { a: product(upc: \"1\", x: 1) { name } }", []string{"2:44"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Name: "q.graphql", Input: tc.query})
			if err != nil {
				t.Fatal(err)
			}
			errs := validator.Validate(schema, doc)
			p := collect(doc)
			p.argumentLocations(errs)
			p.directiveLocations(errs)
			errs = Unique(doc, errs)
			got := errorLocations(errs)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("locations %q, want %q (errors %v)", got, tc.want, errs)
			}
		})
	}
}
