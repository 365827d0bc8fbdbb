package validate

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

const valuesSDL = `
type Query { n(i: Int, l: [Int], f: Filter): Int find(by: Filter!): Product }
input Filter { upc: String! n: Int }
type Product { name: String }
`

// TestValueMessages: a value in a message of ValuesOfCorrectType is
// printed as graphql-js prints it, and located at its start (each want is
// graphql-js 16's validate of the document on the same schema).
func TestValueMessages(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "s.graphql", Input: valuesSDL})
	for _, tc := range []struct{ name, query, want string }{
		{"block string", `{ n(i: """x""") }`, `Int cannot represent non-integer value: """x""" 1:8`},
		{"block string of two lines", "{ n(i: \"\"\"a\nb\"\"\") }", "Int cannot represent non-integer value: \"\"\"\na\nb\n\"\"\" 1:8"},
		{"indented block string", "{ n(i: \"\"\"\n   a\n   b\n\"\"\") }", "Int cannot represent non-integer value: \"\"\"\na\nb\n\"\"\" 1:8"},
		{"block string with a leading blank", `{ n(i: """ lead""") }`, `Int cannot represent non-integer value: """ lead""" 1:8`},
		{"block string holding three quotes", `{ n(i: """has \""" inside""") }`, `Int cannot represent non-integer value: """has \""" inside""" 1:8`},
		{"block string over 70 characters", `{ n(i: """` + strings.Repeat("abcdefghij", 7) + `x""") }`,
			"Int cannot represent non-integer value: \"\"\"\n" + strings.Repeat("abcdefghij", 7) + "x\n\"\"\" 1:8"},
		{"list", `{ n(i: [1, 2]) }`, `Int cannot represent non-integer value: [1, 2] 1:8`},
		{"nested list", `{ n(i: ["a", [true, null]]) }`, `Int cannot represent non-integer value: ["a", [true, null]] 1:8`},
		{"list of one", `{ n(i: [1]) }`, `Int cannot represent non-integer value: [1] 1:8`},
		{"list in a list", `{ n(l: [[1, 2]]) }`, `Int cannot represent non-integer value: [1, 2] 1:9`},
		{"list in an object", `{ n(f: {upc: "1", n: [1, 2]}) }`, `Int cannot represent non-integer value: [1, 2] 1:22`},
		{"objects in a list", `{ n(f: [{upc: "1"}, {upc: "2"}]) }`, `Expected value of type "Filter", found [{upc: "1"}, {upc: "2"}]. 1:8`},
		{"block string for an input object", `{ n(f: """x""") }`, `Expected value of type "Filter", found """x""". 1:8`},
		{"block string after one of two lines", "{ find(by: {upc: \"\"\"x\ny\"\"\", n: \"\"\"z\"\"\"}) { name } }", `Int cannot represent non-integer value: """z""" 2:10`},
		{"an enum value is printed alike", `{ n(i: ENUMV) }`, `Int cannot represent non-integer value: ENUMV 1:8`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Name: "q.graphql", Input: tc.query})
			if err != nil {
				t.Fatal(err)
			}
			errs := Locations(schema, doc, validator.Validate(schema, doc))
			got := errorMessages(errs)
			if len(got) != 1 || got[0] != tc.want {
				t.Fatalf("errors %q, want %q", got, tc.want)
			}
		})
	}
}
