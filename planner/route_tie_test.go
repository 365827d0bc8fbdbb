package planner_test

import (
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema/compose"
	"github.com/vektah/gqlparser/v2"
)

// TestSharedRootFieldPrefersTheInterface plans a shareable root field of
// interface type that two subgraphs resolve with the whole selection
// locally: "a" only through the implementation (Story.tags; its Feed has
// no tags), "b" on the interface itself (Feed.tags). The
// tie goes to b, whose query needs no type condition, as the references
// plan it; a selection that both resolve on the interface alike keeps
// the first subgraph.
func TestSharedRootFieldPrefersTheInterface(t *testing.T) {
	const link = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", "@provides", "@external"])
`
	res, err := compose.Compose([]compose.Subgraph{
		{Name: "a", URL: "http://127.0.0.1:4999/a", SDL: link + `
type Query { feed: Feed @shareable }
interface Feed { id: ID! }
type Story implements Feed @key(fields: "id") { id: ID! tags: [String] @shareable }
`},
		{Name: "b", URL: "http://127.0.0.1:4999/b", SDL: link + `
type Query { feed: Feed @shareable }
interface Feed { id: ID! tags: [String] }
type Story implements Feed @key(fields: "id") { id: ID! tags: [String] @shareable }
`},
	})
	if err != nil {
		t.Fatal(err)
	}
	sg := res.Supergraph
	cases := []struct{ query, want string }{
		{`{ feed { id tags } }`, "b"},
		{`{ feed { tags } }`, "b"},
		{`{ feed { __typename ... on Story { tags } } }`, "b"},
		{`{ feed { id } }`, "a"},
	}
	for _, c := range cases {
		doc, errs := gqlparser.LoadQuery(sg.API, c.query)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		op, err := planner.Normalize(sg.API, doc, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := planner.New(sg).Plan(op, planner.Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		fetches := corpusFetches(p.Root)
		if len(fetches) != 1 || fetches[0].Subgraph != c.want {
			var got []string
			for _, f := range fetches {
				got = append(got, f.Subgraph+": "+f.Operation)
			}
			t.Errorf("%s: fetches %q, want one to %s", c.query, got, c.want)
		}
	}
}
