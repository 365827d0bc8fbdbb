package planner_test

import (
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
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
	// Neither subgraph can give the id of every Item it returns, and
	// each would answer the interface's id for every type: like Apollo's
	// planner, no plan (not a plan asking a subgraph for an external key).
	doc, errs := gqlparser.LoadQuery(sg.API, `{ item(id: "1") { id } }`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	op, err := planner.Normalize(sg.API, doc, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := planner.New(sg).Plan(op, planner.Options{}); err == nil || !strings.Contains(err.Error(), "Query.item") {
		t.Errorf("want a planning error about Query.item, got plan %v, err %v", p, err)
	}
	// Fields each subgraph owns, and an entity jump keyed by an id the
	// owner returns, plan fine; the fragments split by type, and no
	// subgraph is asked an external key.
	ops := planOps(t, sg, `{ item(id: "1") { ... on Book { title pages } ... on Film { id director length } } }`)
	all := strings.Join(ops["a"], " ") + " " + strings.Join(ops["b"], " ")
	for _, w := range []string{"title", "pages", "director", "length"} {
		if !strings.Contains(all, w) {
			t.Errorf("no fetch has %q: %v", w, ops)
		}
	}
	for _, op := range ops["a"] {
		if strings.Contains(op, "Film{id") {
			t.Errorf("a asked for an external key: %s", op)
		}
	}
	for _, op := range ops["b"] {
		if strings.Contains(op, "Book{id") {
			t.Errorf("b asked for an external key: %s", op)
		}
	}
}

// planOps plans query and returns the operations of its fetches by
// subgraph; it fails the test when planning fails.
func planOps(t *testing.T, sg *schema.Supergraph, query string) map[string][]string {
	t.Helper()
	doc, errs := gqlparser.LoadQuery(sg.API, query)
	if len(errs) > 0 {
		t.Fatalf("%s: %v", query, errs)
	}
	op, err := planner.Normalize(sg.API, doc, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := planner.New(sg).Plan(op, planner.Options{})
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	ops := map[string][]string{}
	planner.EachFetch(p.Root, func(f *planner.Fetch) { ops[f.Subgraph] = append(ops[f.Subgraph], f.Operation) })
	return ops
}

// A shelf's items are shareable between a, where the Ink key (id) is
// external and not provided, and c, which owns it. Reached through a, an
// Ink cannot jump to c for its color: the items come from c, through the
// shelf's key, as Apollo's planner does.
const externalItemKeyA = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", "@external", "@provides"])
type Query { shelf: Shelf @provides(fields: "items { ... on Pen { color } }") }
interface Item { id: ID! }
type Shelf @key(fields: "id") { id: ID! items: [Item] @shareable }
type Pen implements Item @key(fields: "id") { id: ID! @external color: String @external }
type Ink implements Item @key(fields: "id") { id: ID! @external }
`

const externalItemKeyC = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])
interface Item { id: ID! color: String }
type Shelf @key(fields: "id") { id: ID! items: [Item] @shareable }
type Pen implements Item @key(fields: "id") { id: ID! color: String @shareable }
type Ink implements Item @key(fields: "id") { id: ID! color: String @shareable }
`

func TestExternalKeyNotProvidedRoutesThroughParent(t *testing.T) {
	res, err := compose.ComposeWith([]compose.Subgraph{
		{Name: "a", URL: "http://a", SDL: externalItemKeyA},
		{Name: "c", URL: "http://c", SDL: externalItemKeyC},
	}, compose.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sg := res.Supergraph
	for _, tc := range []struct {
		query string
		// aItems: whether a is asked for the shelf's items.
		aItems bool
		wantC  string
	}{
		{`{ shelf { items { ... on Ink { color } } } }`, false, `...on Shelf{items{__typename ...on Ink{color}}}`},
		// The provided Pen color comes from a; the Ink ids then from c.
		{`{ shelf { items { id ... on Pen { color } } } }`, true, `...on Shelf{items{`},
	} {
		ops := planOps(t, sg, tc.query)
		a := strings.Join(ops["a"], " ")
		if strings.Contains(a, "items") != tc.aItems {
			t.Errorf("%s: a's operations %v", tc.query, ops["a"])
		}
		if !strings.Contains(strings.Join(ops["c"], " "), tc.wantC) {
			t.Errorf("%s: c's operations %v, want %s", tc.query, ops["c"], tc.wantC)
		}
	}
}

// With a third subgraph, b, that serves the shelf too and provides its
// items' ids and colors, a and b tie on fetches: the root field goes to
// the one that answers more itself (b), and c adds the age through the
// shelf's key, as Apollo's planner does.
const externalItemKeyB = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", "@external", "@provides"])
type Query { box: Shelf @shareable @provides(fields: "items { id color }") }
interface Item { id: ID! color: String }
type Shelf { id: ID! @shareable items: [Item] @external }
type Pen implements Item { id: ID! @external color: String @external }
type Ink implements Item { id: ID! @external color: String @external }
`

func TestEqualRootCostPrefersTheSubgraphAnsweringMore(t *testing.T) {
	a := strings.Replace(externalItemKeyA, "type Query { shelf: Shelf", "type Query { box: Shelf @shareable\n shelf: Shelf", 1)
	c := strings.Replace(externalItemKeyC, "color: String @shareable }\ntype Ink", "color: String @shareable age: Int }\ntype Ink", 1)
	c = strings.Replace(c, "type Ink implements Item @key(fields: \"id\") { id: ID! color: String @shareable }", "type Ink implements Item @key(fields: \"id\") { id: ID! color: String @shareable age: Int }", 1)
	res, err := compose.ComposeWith([]compose.Subgraph{
		{Name: "a", URL: "http://a", SDL: a},
		{Name: "b", URL: "http://b", SDL: externalItemKeyB},
		{Name: "c", URL: "http://c", SDL: c},
	}, compose.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ops := planOps(t, res.Supergraph, `{ box { id items { id color ... on Ink { age } } } }`)
	if len(ops["a"]) != 0 || len(ops["b"]) != 1 || !strings.Contains(strings.Join(ops["c"], " "), "...on Ink{age}") {
		t.Errorf("want b then c, got %v", ops)
	}
}
