package planner_test

import (
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema/compose"
)

// TestSharedRootFieldPrefersTheInterface plans a shareable root field of
// interface type that two subgraphs resolve with the whole selection
// locally: "a" only through the implementation (Story.tags; its Feed has
// no tags), "b" on the interface itself (Feed.tags). The
// tie goes to b, whose query needs no type condition, as the references
// plan it; a selection that both resolve on the interface alike, or that
// the client selects in a fragment on the implementation (both are asked
// the same fragment), keeps the first subgraph (Apollo's query planner
// plans these four so).
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
		{`{ feed { __typename ... on Story { tags } } }`, "a"},
		{`{ feed { ... on Story { tags } } }`, "a"},
		{`{ feed { tags ... on Story { tags } } }`, "b"},
		{`{ feed { id } }`, "a"},
	}
	for _, c := range cases {
		p, err := planOn(t, sg, c.query, planner.Options{})
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

// TestRootFieldsChosenTogether plans several root fields of the federation
// audit's provides-on-interface graph (rewritten here): Query.media is
// shareable in a (whose Media has only id; Book.animals is its own) and b
// (Media.animals provided on the interface), Query.book is a's alone, c
// has the animals' other fields. The root fields choose their subgraphs
// together: a subgraph another root field needs comes first (one fetch
// less), and fields open between two subgraphs go together to the one
// that answers them on the interface, whatever the document order. The
// expected subgraphs are those of Apollo's query planner, and where both
// reference gateways answer alike, theirs.
func TestRootFieldsChosenTogether(t *testing.T) {
	sg := providesOnInterfaceGraph(t)
	cases := []struct {
		query string
		// root lists the subgraphs of the root fetches, in plan order.
		root string
	}{
		{`{ media { id animals { id name } } }`, "b"},
		{`{ media { __typename } }`, "a"},
		{`{ media { ... on Book { animals { __typename } } } }`, "a"},
		{`{ book { id } media { animals { id ... on Cat { age } } } }`, "a"},
		{`{ media { animals { id ... on Cat { age } } } book { id } }`, "a"},
		{`{ book: media { __typename } media { animals { id: __typename } } }`, "b"},
		{`{ media { animals { id: __typename } } book: media { __typename } }`, "b"},
		{`{ book { id } m1: media { __typename } m2: media { animals { id name } } }`, "a b"},
	}
	for _, c := range cases {
		p, err := planOn(t, sg, c.query, planner.Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		var roots, all []string
		for _, f := range corpusFetches(p.Root) {
			all = append(all, f.Subgraph+": "+f.Operation)
			if !strings.Contains(f.Operation, "_entities") {
				roots = append(roots, f.Subgraph)
			}
		}
		if got := strings.Join(roots, " "); got != c.root {
			t.Errorf("%s: root fetches to %q, want %q (fetches %q)", c.query, got, c.root, all)
		}
	}
}
