package planner_test

import (
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema/compose"
)

// keyChainSubgraphs: Part is known by id in a, by id and sn in b, by sn
// and code in d, by code alone in c (graphgen seed 1769's shape). A field
// of c is reached from a's root field only through b and d; a field of a
// from c's root field only through d and b.
var keyChainSubgraphs = []compose.Subgraph{
	{Name: "a", URL: "http://127.0.0.1:4999/a", SDL: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
type Query { parts: [Part!]! }
type Part @key(fields: "id") { id: ID! pa: Int }`},
	{Name: "b", URL: "http://127.0.0.1:4999/b", SDL: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
type Part @key(fields: "id") @key(fields: "sn") { id: ID! sn: String! pb: Int }`},
	{Name: "c", URL: "http://127.0.0.1:4999/c", SDL: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
type Query { part(code: Int!): Part }
type Part @key(fields: "code") { code: Int! pc: Int next: [Part!] }`},
	{Name: "d", URL: "http://127.0.0.1:4999/d", SDL: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
type Part @key(fields: "sn") @key(fields: "code") { sn: String! code: Int! pd: Int }`},
}

// TestKeyChainThreeJumps: a field whose subgraph knows the entity only by
// a key two other subgraphs must supply in turn (a: id -> b: sn -> d:
// code -> c) plans, from either end. The key estimate of a jump from a
// was cut short wherever it needed another jump from a (a key estimate in
// progress for the same source and type counted as a cycle), so
// `{ parts { pc } }` failed with "no subgraph can resolve Query.parts"
// where both reference gateways answer.
func TestKeyChainThreeJumps(t *testing.T) {
	res, err := compose.Compose(keyChainSubgraphs)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		query string
		// fetches in order of the subgraphs they go to
		graphs string
	}{
		{`{ parts { pc } }`, "a b d c"},
		{`{ parts { pd } }`, "a b d"},
		{`{ parts { id pa pb pc pd } }`, "a b d c"},
		{`{ part(code: 1) { pa } }`, "c d b a"},
		{`{ part(code: 1) { next { pa pb } } }`, "c d b a"},
		{`{ parts { pc } part(code: 2) { pa } }`, ""},
	} {
		p, err := planOn(t, res.Supergraph, c.query, planner.Options{})
		if err != nil {
			t.Errorf("%s: %v", c.query, err)
			continue
		}
		checkInputsFirst(t, p)
		if c.graphs == "" {
			continue
		}
		var got []string
		for _, line := range strings.Split(p.String(), "\n") {
			if i := strings.Index(line, `Fetch(service: "`); i >= 0 {
				got = append(got, strings.SplitN(line[i+len(`Fetch(service: "`):], `"`, 2)[0])
			}
		}
		if strings.Join(got, " ") != c.graphs {
			t.Errorf("%s: fetches to %v, want %s\n%s", c.query, got, c.graphs, p)
		}
	}
}
