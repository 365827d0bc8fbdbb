package planner_test

import (
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema/compose"
)

// A field returning an entity interface, @shareable between the subgraph
// of the interface (implementation Admin) and one that has the interface
// as an @interfaceObject (graphgen seed 136).
const sharedIfaceD = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])
type Query { orders: [Order!]! }
interface Account @key(fields: "id") { id: ID! handle: String }
type Admin implements Account @key(fields: "id") { id: ID! handle: String }
type Guest implements Account @key(fields: "id") { id: ID! handle: String }
type Order @key(fields: "id") { id: ID! owner: [Account] @shareable }
`

const sharedIfaceA = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@interfaceObject"])
type Account @key(fields: "id") @interfaceObject { id: ID! score: Int }
type Order @key(fields: "id") { id: ID! owner: [Account] @shareable }
`

// TestSharedFieldOfInterfaceObject: the implementations of an entity
// interface are selected below a shareable field one of whose subgraphs
// has the interface as an @interfaceObject: that subgraph may return any
// implementation (the interface's subgraph names it), so each is a safe
// member. They were left out as if the @interfaceObject subgraph had none,
// and every field below went unasked (id null with "Cannot return null"
// where Apollo Gateway and Hive Gateway answer it).
func TestSharedFieldOfInterfaceObject(t *testing.T) {
	res, err := compose.Compose([]compose.Subgraph{
		{Name: "a", URL: "http://a", SDL: sharedIfaceA},
		{Name: "d", URL: "http://d", SDL: sharedIfaceD},
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		query string
		want  []string // fetches, "subgraph: operation" in plan order
	}{
		{`{ orders { owner { id } } }`, []string{
			"d: query{orders{owner{__typename ...on Admin{id} ...on Guest{id}}}}",
		}},
		{`{ orders { owner { handle ... on Guest { id } } } }`, []string{
			"d: query{orders{owner{__typename ...on Admin{handle} ...on Guest{handle id}}}}",
		}},
		{`{ orders { owner { id score } } }`, []string{
			"d: query{orders{owner{__typename ...on Admin{id __typename} ...on Guest{id __typename}}}}",
			"a: query($representations:[_Any!]!){_entities(representations:$representations){...on Account{score}}}",
		}},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			p, err := planOn(t, res.Supergraph, c.query, planner.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range corpusFetches(p.Root) {
				got = append(got, f.Subgraph+": "+strings.Join(strings.Fields(f.Operation), " "))
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("fetches\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}
