package planner_test

import (
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema/compose"
	"github.com/vektah/gqlparser/v2"
)

// An external key field comes back from a subgraph only where the
// subgraph received it: in an entity fetch's representation. Reached
// through one of its root fields, the subgraph cannot answer it, and a
// plan that asks it anyway would return whatever it makes up.
const externalKeyA = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", "@external"])
type Query { item(id: ID!): Item @shareable }
interface Item { id: ID! }
type Book implements Item @key(fields: "id") { id: ID! title: String }
type Film implements Item @key(fields: "id") { id: ID! @external director: String }
`

const externalKeyB = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", "@external"])
type Query { item(id: ID!): Item @shareable }
interface Item { id: ID! }
type Book implements Item @key(fields: "id") { id: ID! @external pages: Int }
type Film implements Item @key(fields: "id") { id: ID! length: Int }
`

func TestExternalKeyFieldsOnlyFromRepresentations(t *testing.T) {
	res, err := compose.ComposeWith([]compose.Subgraph{
		{Name: "a", URL: "http://a", SDL: externalKeyA},
		{Name: "b", URL: "http://b", SDL: externalKeyB},
	}, compose.Options{SkipSatisfiability: true})
	if err != nil {
		t.Fatal(err)
	}
	sg := res.Supergraph
	for _, tc := range []struct {
		query, wantErr string
	}{
		// Neither subgraph can give the id of every Item it returns.
		{`{ item(id: "1") { id } }`, "cannot plan"},
		// Fields each subgraph owns, and an entity jump keyed by an id the
		// owner returns, plan fine.
		{`{ item(id: "1") { ... on Book { title pages } } }`, ""},
	} {
		doc, errs := gqlparser.LoadQuery(sg.API, tc.query)
		if len(errs) > 0 {
			t.Fatalf("%s: %v", tc.query, errs)
		}
		op, err := planner.Normalize(sg.API, doc, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := planner.New(sg).Plan(op, planner.Options{})
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.query, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: want an error containing %q, got plan %v, err %v", tc.query, tc.wantErr, p, err)
		}
	}
}
