package planner_test

import (
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"

	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/schema/compose"
)

// providesOnInterfaceGraph is the federation audit's provides-on-interface
// graph, rewritten: Query.media is shareable in a (whose Media has only
// id; Book.animals is its own) and b (which provides Media.animals { id
// name } on the interface, its Book.animals being @external); c resolves
// Book.animals and the animals' fields.
func providesOnInterfaceGraph(t *testing.T) *schema.Supergraph {
	t.Helper()
	const link = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", "@provides", "@external"])
`
	res, err := compose.Compose([]compose.Subgraph{
		{Name: "a", URL: "http://127.0.0.1:4999/a", SDL: link + `
type Query { media: Media @shareable book: Book @provides(fields: "animals { ... on Dog { name } }") }
interface Media { id: ID! }
interface Animal { id: ID! }
type Book implements Media @key(fields: "id") { id: ID! animals: [Animal] @shareable }
type Dog implements Animal @key(fields: "id") { id: ID! @external name: String @external }
type Cat implements Animal @key(fields: "id") { id: ID! @external }
`},
		{Name: "b", URL: "http://127.0.0.1:4999/b", SDL: link + `
type Query { media: Media @shareable @provides(fields: "animals { id name }") }
interface Media { id: ID! animals: [Animal] }
interface Animal { id: ID! name: String }
type Book implements Media { id: ID! @shareable animals: [Animal] @external }
type Dog implements Animal { id: ID! @external name: String @external }
type Cat implements Animal { id: ID! @external name: String @external }
`},
		{Name: "c", URL: "http://127.0.0.1:4999/c", SDL: link + `
interface Media { id: ID! animals: [Animal] }
interface Animal { id: ID! name: String }
type Book implements Media @key(fields: "id") { id: ID! animals: [Animal] @shareable }
type Dog implements Animal @key(fields: "id") { id: ID! name: String @shareable age: Int }
type Cat implements Animal @key(fields: "id") { id: ID! name: String @shareable age: Int }
`},
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.Supergraph
}

// TestProvidesOnInterfaceField: a @provides that selects a field on an
// interface (b's Query.media: Media @provides(fields: "animals { id name
// }")) makes it resolvable where the client selects it on the interface
// (also through a fragment on the interface), not where the client
// selects it only as the implementation's own field in a fragment on it
// (b's Book.animals and Cat.name are @external): there the field comes
// from a subgraph that resolves it. The expected fetches are those of
// Apollo's query planner and, where the field is selected both ways
// (Apollo's plan then depends on the sizes of the subgraph queries),
// Hive Gateway's; both reference gateways ask a (which the audit's
// subgraph answers with an error) for the fragment on Book alone.
func TestProvidesOnInterfaceField(t *testing.T) {
	sg := providesOnInterfaceGraph(t)
	cases := []struct{ query, fetches string }{
		{`{ media { id animals { id name } } }`, "b"},
		{`{ media { ... on Media { animals { name } } } }`, "b"},
		{`{ media { ...F } } fragment F on Media { animals { id } }`, "b"},
		{`{ media { ... on Book { animals { id name } } } }`, "a c"},
		{`{ media { ... on Book { animals { __typename name } } } }`, "a c"},
		{`{ media { animals { ... on Cat { name } } } }`, "a c"},
		{`{ media { animals { name } ... on Book { animals { name } } } }`, "b"},
		{`{ media { animals { id } ... on Book { animals { name } } } }`, "b"},
		{`{ media { ... on Book { animals { __typename } } animals { ... on Cat { age } } } }`, "a c"},
		{`{ media { ... on Book { animals { __typename } } animals { ... on Cat { age } } } media { animals { name } } }`, "b c"},
		{`{ media { animals { name ... on Cat { name } } } }`, "b"},
		// Selected on the interface under an alias: still selected there
		// (differential seed 31337, big: both references ask b alone).
		{`{ media { a2: animals { id name ... on Cat { x: name } } ... on Book { animals { __typename } } } }`, "b"},
		{`{ media { a2: animals { name } ... on Book { animals { name } } } }`, "b"},
	}
	for _, c := range cases {
		p, err := planOn(t, sg, c.query, planner.Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		var got, all []string
		for _, f := range corpusFetches(p.Root) {
			got = append(got, f.Subgraph)
			all = append(all, f.Subgraph+": "+f.Operation)
		}
		if strings.Join(got, " ") != c.fetches {
			t.Errorf("%s: fetches %q, want subgraphs %q", c.query, all, c.fetches)
		}
	}
}
