package compose

import (
	"strings"
	"testing"
)

// TestMergedDirectiveText: how merged directives are written and ordered
// in the supergraph, as @apollo/composition writes them (each case was
// composed by it too): a @listSize merged from different applications
// writes requireOneSlicingArgument out, equal ones stay as written;
// access-control directives of fields and interfaces come first, in the
// order of their @link, those of object types in order of first
// appearance; @context takes its place among a type's directives as
// written.
func TestMergedDirectiveText(t *testing.T) {
	const link = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable", "@tag", "@authenticated", "@requiresScopes", "@policy", "@cost", "@listSize", "@context", "@fromContext"])
`
	cases := []struct {
		name string
		a, b string
		want []string
	}{
		{name: "listSize merged from different applications",
			a:    `type Query { items: [Int] @shareable @listSize(assumedSize: 3) }`,
			b:    `type Query { items: [Int] @shareable @listSize(assumedSize: 5) }`,
			want: []string{`items: [Int] @listSize(assumedSize: 5, requireOneSlicingArgument: true)`}},
		{name: "listSize equal in two subgraphs",
			a:    `type Query { items: [Int] @shareable @listSize(assumedSize: 3) }`,
			b:    `type Query { items: [Int] @shareable @listSize(assumedSize: 3) }`,
			want: []string{`items: [Int] @listSize(assumedSize: 3)`}},
		{name: "access control of a field in link order",
			a:    `type Query { x: Int @authenticated f: Int @shareable @policy(policies: [["p"]]) }`,
			b:    `type Query { f: Int @shareable @authenticated }`,
			want: []string{`f: Int @authenticated @policy(policies: [["p"]])`}},
		{name: "access control of a field before other directives",
			a:    `type Query { f: Int @shareable @tag(name: "t") @requiresScopes(scopes: [["s"]]) }`,
			b:    `type Query { f: Int @shareable @cost(weight: 2) }`,
			want: []string{`f: Int @requiresScopes(scopes: [["s"]]) @tag(name: "t") @cost(weight: 2)`}},
		{name: "object type directives in order of first appearance",
			a:    `type Query { t: T } type T @key(fields: "id") @tag(name: "x") { id: ID! }`,
			b:    `type T @key(fields: "id") @authenticated { id: ID! y: Int }`,
			want: []string{"  @join__type(graph: B, key: \"id\")\n  @tag(name: \"x\")\n  @authenticated\n{"}},
		{name: "context where the subgraph writes it",
			a: `type Query { shelves: [Shelf] } type Shelf @key(fields: "id") @tag(name: "x") @context(name: "c") @cost(weight: 1) { id: ID! loc: String items: [Item] }
type Item @key(fields: "id") { id: ID! title(in: String @fromContext(field: "$c { loc }")): String }`,
			want: []string{"  @tag(name: \"x\")\n  @context(name: \"a__c\")\n  @cost(weight: 1)\n{"}},
		{name: "context first as written",
			a: `type Query { shelves: [Shelf] } type Shelf @key(fields: "id") @context(name: "c") @tag(name: "x") { id: ID! loc: String items: [Item] }
type Item @key(fields: "id") { id: ID! title(in: String @fromContext(field: "$c { loc }")): String }`,
			want: []string{"  @context(name: \"a__c\")\n  @tag(name: \"x\")\n{"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			subs := []Subgraph{{Name: "a", URL: "http://127.0.0.1:4999/a", SDL: link + c.a}}
			if c.b != "" {
				subs = append(subs, Subgraph{Name: "b", URL: "http://127.0.0.1:4999/b", SDL: link + c.b})
			}
			res, err := Compose(subs)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !strings.Contains(res.SDL, w) {
					t.Errorf("supergraph lacks\n%s\n---\n%s", w, res.SDL)
				}
			}
		})
	}
}
