package validate

import (
	"slices"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

const conflictSDL = `
type Query { me: User product(upc: String!): Product n(i: Int): Int a: Int }
type User { id: ID! name: String friends: [User] }
type Product { upc: String! name: String }
`

// TestConflictLocations: an error of fields that cannot merge names both
// fields of the pair, each followed by its conflicting subfields (each
// want is graphql-js 16's validate of the document on the same schema:
// messages and locations).
func TestConflictLocations(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "s.graphql", Input: conflictSDL})
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"{ me { id: name } me { id } }", []string{"Fields \"me\" conflict because subfields \"id\" conflict because \"name\" and \"id\" are different fields. Use different aliases on the fields to fetch both if this was intentional. 1:3 1:8 1:19 1:24"}},
		{"{ me { id name } me { id: name } }", []string{"Fields \"me\" conflict because subfields \"id\" conflict because \"id\" and \"name\" are different fields. Use different aliases on the fields to fetch both if this was intentional. 1:3 1:8 1:18 1:23"}},
		{"{ me { friends { id: name } } me { friends { id } } }", []string{"Fields \"me\" conflict because subfields \"friends\" conflict because subfields \"id\" conflict because \"name\" and \"id\" are different fields. Use different aliases on the fields to fetch both if this was intentional. 1:3 1:8 1:18 1:31 1:36 1:46"}},
		{"{ me { a: id b: id } me { a: name b: name } }", []string{"Fields \"me\" conflict because subfields \"a\" conflict because \"id\" and \"name\" are different fields and subfields \"b\" conflict because \"id\" and \"name\" are different fields. Use different aliases on the fields to fetch both if this was intentional. 1:3 1:8 1:14 1:22 1:27 1:35"}},
		{"{ product(upc: \"1\") { name } product(upc: \"2\") { name } }", []string{"Fields \"product\" conflict because they have differing arguments. Use different aliases on the fields to fetch both if this was intentional. 1:3 1:30"}},
		{"{ x: me { id } x: product(upc: \"1\") { name } }", []string{"Fields \"x\" conflict because \"me\" and \"product\" are different fields. Use different aliases on the fields to fetch both if this was intentional. 1:3 1:16"}},
		{"{ me { ...F } me { ...G } } fragment F on User { id: name } fragment G on User { id }", []string{"Fields \"me\" conflict because subfields \"id\" conflict because \"name\" and \"id\" are different fields. Use different aliases on the fields to fetch both if this was intentional. 1:3 1:50 1:15 1:82"}},
		{"{ me { id: name friends { x: id } } me { id friends { x: name } } }", []string{"Fields \"me\" conflict because subfields \"id\" conflict because \"name\" and \"id\" are different fields and subfields \"friends\" conflict because subfields \"x\" conflict because \"id\" and \"name\" are different fields. Use different aliases on the fields to fetch both if this was intentional. 1:3 1:8 1:17 1:27 1:37 1:42 1:45 1:55"}},
		{"{ me { id: name } me { id } me { id: friends { id } } }", []string{"Fields \"me\" conflict because subfields \"id\" conflict because \"name\" and \"id\" are different fields. Use different aliases on the fields to fetch both if this was intentional. 1:3 1:8 1:19 1:24", "Fields \"me\" conflict because subfields \"id\" conflict because \"name\" and \"friends\" are different fields. Use different aliases on the fields to fetch both if this was intentional. 1:3 1:8 1:29 1:34", "Fields \"me\" conflict because subfields \"id\" conflict because \"id\" and \"friends\" are different fields. Use different aliases on the fields to fetch both if this was intentional. 1:19 1:24 1:29 1:34"}},
		{"{ ...A ...B } fragment A on Query { x: me { id } } fragment B on Query { x: product(upc: \"1\") { name } }", []string{"Fields \"x\" conflict because \"me\" and \"product\" are different fields. Use different aliases on the fields to fetch both if this was intentional. 1:37 1:74"}},
		{"query Q { me { x: id } }\nquery R { me { x: name } me { x: id } }", []string{"Fields \"me\" conflict because subfields \"x\" conflict because \"name\" and \"id\" are different fields. Use different aliases on the fields to fetch both if this was intentional. 2:11 2:16 2:26 2:31"}},
		{"{ me { id } ... on Query { me { id: name } } }", []string{"Fields \"me\" conflict because subfields \"id\" conflict because \"id\" and \"name\" are different fields. Use different aliases on the fields to fetch both if this was intentional. 1:3 1:8 1:28 1:33"}},
		{"{ n(i: 1) n(i: 2) n: a }", []string{"Fields \"n\" conflict because they have differing arguments. Use different aliases on the fields to fetch both if this was intentional. 1:3 1:11", "Fields \"n\" conflict because \"n\" and \"a\" are different fields. Use different aliases on the fields to fetch both if this was intentional. 1:3 1:19", "Fields \"n\" conflict because \"n\" and \"a\" are different fields. Use different aliases on the fields to fetch both if this was intentional. 1:11 1:19"}},
		{"{ me { name } me { name: friends { id } } }", []string{"Fields \"me\" conflict because subfields \"name\" conflict because \"name\" and \"friends\" are different fields. Use different aliases on the fields to fetch both if this was intentional. 1:3 1:8 1:15 1:20"}},
		{"{ me { friends { id } } me { friends: id } }", []string{"Fields \"me\" conflict because subfields \"friends\" conflict because \"friends\" and \"id\" are different fields. Use different aliases on the fields to fetch both if this was intentional. 1:3 1:8 1:25 1:30"}},
		{"query A { ...F } query B { ...F } fragment F on Query { me { id: name } me { id } }", []string{"Fields \"me\" conflict because subfields \"id\" conflict because \"name\" and \"id\" are different fields. Use different aliases on the fields to fetch both if this was intentional. 1:57 1:62 1:73 1:78"}},
		{"{ a: me { ...F } b: me { ...F } } fragment F on User { friends { id: name } friends { id } }", []string{"Fields \"friends\" conflict because subfields \"id\" conflict because \"name\" and \"id\" are different fields. Use different aliases on the fields to fetch both if this was intentional. 1:56 1:66 1:77 1:87"}},
		{"{ me { id: name } me { id } me { id: name } }", []string{"Fields \"me\" conflict because subfields \"id\" conflict because \"name\" and \"id\" are different fields. Use different aliases on the fields to fetch both if this was intentional. 1:3 1:8 1:19 1:24", "Fields \"me\" conflict because subfields \"id\" conflict because \"id\" and \"name\" are different fields. Use different aliases on the fields to fetch both if this was intentional. 1:19 1:24 1:29 1:34"}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Name: "q.graphql", Input: tc.query})
			if err != nil {
				t.Fatal(err)
			}
			errs := Locations(schema, doc, validator.Validate(schema, doc))
			got := errorMessages(errs)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("errors\n  %q\nwant\n  %q", got, tc.want)
			}
		})
	}
}
