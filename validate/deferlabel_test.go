package validate

import (
	"strconv"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

const testSchema = `
type Query { product(id: ID): Product products: [Product] }
type Product { id: ID name: String price: Int reviews: [String] }
`

func TestDeferStreamLabelRule(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "schema.graphql", Input: testSchema})
	r := rules.NewDefaultRules()
	r.AddRule(DeferStreamLabelRule.Name, DeferStreamLabelRule.RuleFunc)
	for _, tc := range []struct {
		name, query string
		want        []string // the errors' messages with their locations (a directive's is its name's, as in gqlparser's own rules)
	}{
		{"no label", `{ product { id ... @defer { name } ... @defer { price } } }`, nil},
		{"distinct labels", `{ product { id ... @defer(label: "a") { name } ... @defer(label: "b") { price } } }`, nil},
		{"null label", `{ product { id ... @defer(label: null) { name } } }`,
			[]string{`Directive "defer"'s label argument must be a static string. 1:34`}},
		{"two null labels", `{ product { id ... @defer(label: null) { name } ... @defer(label: null) { price } } }`,
			[]string{`Directive "defer"'s label argument must be a static string. 1:34`, `Directive "defer"'s label argument must be a static string. 1:67`}},
		{"duplicate labels", `{ product { id ... @defer(label: "a") { name } ... @defer(label: "a") { price } } }`,
			[]string{"Defer/Stream directive label argument must be unique. 1:21 1:53"}},
		{"three alike", `{ product { ... @defer(label: "a") { id } ... @defer(label: "a") { name } ... @defer(label: "a") { price } } }`,
			[]string{"Defer/Stream directive label argument must be unique. 1:18 1:48", "Defer/Stream directive label argument must be unique. 1:18 1:80"}},
		{"block string alike", `{ product { ... @defer(label: "a") { id } ... @defer(label: """a""") { name } } }`,
			[]string{"Defer/Stream directive label argument must be unique. 1:18 1:48"}},
		{"across operations", "query A { product { ... @defer(label: \"a\") { id } } }\nquery B { products { ... @defer(label: \"a\") { id } } }",
			[]string{"Defer/Stream directive label argument must be unique. 1:26 2:27"}},
		{"fragment and inline fragment", "{ product { ...F ... @defer(label: \"a\") { id } } }\nfragment F on Product { ... @defer(label: \"a\") { name } }",
			[]string{"Defer/Stream directive label argument must be unique."}},
		{"one fragment spread twice", "{ product { ...F } products { ...F } }\nfragment F on Product { ... @defer(label: \"a\") { name } }", nil},
		{"fragment spread deferred twice", "{ product { ...F @defer(label: \"a\") ...G @defer(label: \"a\") } }\nfragment F on Product { id }\nfragment G on Product { name }",
			[]string{"Defer/Stream directive label argument must be unique. 1:19 1:43"}},
		{"variable label", `query($l: String) { product { ... @defer(label: $l) { name } } }`,
			[]string{`Directive "defer"'s label argument must be a static string. 1:49`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Input: tc.query})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range validator.ValidateWithRules(schema, doc, r) {
				s := e.Message
				for _, l := range e.Locations {
					s += " " + strconv.Itoa(l.Line) + ":" + strconv.Itoa(l.Column)
				}
				got = append(got, s)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("errors %q, want %q", got, tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("error %d: %q, want %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}
