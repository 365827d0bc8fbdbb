package planner_test

import (
	"strings"
	"testing"

	"github.com/fedgate/gateway/schema/compose"
)

// A @shareable field whose type is an entity interface in one subgraph
// and an @interfaceObject in another (graphgen seed 82: Review.r12 of type
// Account). Both subgraphs may answer the field, so the planner keeps
// only the implementations every candidate subgraph can return
// (safeMember, for unions whose members differ per subgraph); the
// @interfaceObject subgraph has no implementation in its schema, yet it
// returns objects of every one of them (their concrete type comes from
// an entity fetch). It must not drop the implementations, and with them
// every field selected below the interface.
const shareableIfaceReviews = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@interfaceObject"])
type Review @key(fields: "id") { id: ID! author: Account @shareable }
type Account @key(fields: "id") @interfaceObject { id: ID! score: Int }
type Query { topReviews: [Review] }
`

const shareableIfaceAccounts = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])
type Review @key(fields: "id") { id: ID! author: Account @shareable }
interface Account @key(fields: "id") { id: ID! handle: String }
type Admin implements Account @key(fields: "id") { id: ID! handle: String level: Int }
type Member implements Account @key(fields: "id") { id: ID! handle: String }
type Query { latest: [Review] }
`

func TestShareableFieldOfAnInterfaceObject(t *testing.T) {
	res, err := compose.Compose([]compose.Subgraph{
		{Name: "accounts", URL: "http://accounts", SDL: shareableIfaceAccounts},
		{Name: "reviews", URL: "http://reviews", SDL: shareableIfaceReviews},
	})
	if err != nil {
		t.Fatal(err)
	}
	sg := res.Supergraph
	for _, tc := range []struct {
		name, query string
		// want: parts of the fetches of subgraph graph.
		graph string
		want  []string
	}{
		{"an interface field", `{ latest { author { handle } } }`,
			"accounts", []string{"...on Admin{handle}", "...on Member{handle}"}},
		{"the key", `{ latest { author { id } } }`,
			"accounts", []string{"...on Admin{id}", "...on Member{id}"}},
		{"a fragment on an implementation", `{ latest { author { ... on Admin { level } } } }`,
			"accounts", []string{"...on Admin{level}"}},
		{"next to a field of the parent", `{ latest { id author { id handle ... on Admin { level } } } }`,
			"accounts", []string{"...on Admin{id handle level}", "...on Member{id handle}"}},
		{"a field of the interface object", `{ latest { author { score } } }`,
			"reviews", []string{"...on Account{score}"}},
		{"from the interface object's side", `{ topReviews { author { handle } } }`,
			"accounts", []string{"...on Account{handle}"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops := planOps(t, sg, tc.query)
			all := strings.Join(ops[tc.graph], " ")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("no %q in %s's fetches %v (all: %v)", w, tc.graph, ops[tc.graph], ops)
				}
			}
		})
	}
}
