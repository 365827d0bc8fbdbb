package validate

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

const subscriptionSDL = `
type Query { a: Int }
type Subscription { postAdded: Post other: Int }
type Post { id: ID }
`

// TestSingleFieldSubscriptionsRule: a subscription's root fields are
// grouped by response key, fragments expanded and literal conditions
// applied (each want is graphql-js 16's validate of the document, but for
// the variable condition, on which graphql-js throws).
func TestSingleFieldSubscriptionsRule(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "s.graphql", Input: subscriptionSDL})
	r := rules.NewDefaultRules()
	r.ReplaceRule(SingleFieldSubscriptionsRule.Name, SingleFieldSubscriptionsRule.RuleFunc)
	const only, intro = "Anonymous Subscription must select only one top level field.", "Anonymous Subscription must not select an introspection top level field."
	for _, tc := range []struct {
		name, query string
		want        []string // message and locations of each error
	}{
		{"two aliases of one field", `subscription { postAdded { id } postAdded2: postAdded { id } }`, []string{only + " 1:33"}},
		{"every field of the keys after the first", `subscription S { postAdded { id } other a: other postAdded { id } }`,
			[]string{`Subscription "S" must select only one top level field. 1:35 1:41`}},
		{"one field twice is one key", `subscription { postAdded { id } postAdded { id } }`, nil},
		{"an inline fragment on the root type", `subscription { postAdded { id } ... on Subscription { other } }`, []string{only + " 1:55"}},
		{"a named fragment", `subscription { postAdded { id } ...F } fragment F on Subscription { other x: other }`, []string{only + " 1:69 1:75"}},
		{"a named fragment spread twice", `subscription { postAdded { id } ...F ...F } fragment F on Subscription { other }`, []string{only + " 1:74"}},
		{"skipped", `subscription { postAdded { id } other @skip(if: true) }`, nil},
		{"not included", `subscription { postAdded { id } other @include(if: false) }`, nil},
		{"a skipped fragment", `subscription { ... @skip(if: true) { other } postAdded { id } }`, nil},
		{"introspection beside a field", `subscription { __typename postAdded { id } }`, []string{only + " 1:27", intro + " 1:16"}},
		{"introspection twice under one key", `subscription { t: __typename t: __typename }`, []string{intro + " 1:16 1:30"}},
		{"a variable condition is undecided (graphql-js throws)", `subscription ($v: Boolean!) { postAdded { id } other @skip(if: $v) }`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Name: "q.graphql", Input: tc.query})
			if err != nil {
				t.Fatal(err)
			}
			errs := validator.ValidateWithRules(schema, doc, r)
			got := errorMessages(errs)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("errors %q, want %q", got, tc.want)
			}
		})
	}
}
