package planner_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema/compose"
)

// keyChainFanSubgraphs: the root subgraph knows Part by id, b by id and
// sn, d by sn and k, and each of the n others by k alone with a field of
// its own: reaching one of the n takes a chain of three key jumps (root ->
// b -> d -> s<i>), and every one of the n could give the others' key.
func keyChainFanSubgraphs(n int) []compose.Subgraph {
	const head = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])
`
	subs := []compose.Subgraph{
		{Name: "root", URL: "http://127.0.0.1:4999/root", SDL: head + `type Query { parts: [Part!]! }
type Part @key(fields: "id") { id: ID! }`},
		{Name: "b", URL: "http://127.0.0.1:4999/b", SDL: head + `type Part @key(fields: "id") { id: ID! sn: ID! @shareable }`},
		{Name: "d", URL: "http://127.0.0.1:4999/d", SDL: head + `type Part @key(fields: "sn") { sn: ID! @shareable k: ID! @shareable }`},
	}
	for i := range n {
		subs = append(subs, compose.Subgraph{Name: fmt.Sprintf("s%d", i), URL: fmt.Sprintf("http://127.0.0.1:4999/s%d", i),
			SDL: head + fmt.Sprintf(`type Part @key(fields: "k") { k: ID! @shareable sn: ID! @shareable f%d: Int }`, i)})
	}
	return subs
}

// TestKeyChainFanPlans: a field three key jumps away plans (main before
// session 17 refused it: "no subgraph can resolve Query.parts") in four
// fetches, and the chain search that finds it stays small with 8 such
// subgraphs (about 11,500 allocations; it grows with about the fourth
// power of their number, 0.8 s at 20: docs/planner.md).
func TestKeyChainFanPlans(t *testing.T) {
	for _, c := range []struct {
		n         int
		maxAllocs float64
	}{{4, 5_000}, {8, 30_000}} {
		res, err := compose.Compose(keyChainFanSubgraphs(c.n))
		if err != nil {
			t.Fatal(err)
		}
		var p *planner.Plan
		allocs := testing.AllocsPerRun(1, func() {
			p, err = planOn(t, res.Supergraph, "{ parts { f0 } }", planner.Options{})
		})
		if err != nil {
			t.Errorf("%d subgraphs: %v", c.n, err)
			continue
		}
		if got := strings.Count(p.String(), "Fetch("); got != 4 {
			t.Errorf("%d subgraphs: %d fetches, want 4\n%s", c.n, got, p)
		}
		if allocs > c.maxAllocs {
			t.Errorf("%d subgraphs: %.0f allocations to plan, want at most %.0f", c.n, allocs, c.maxAllocs)
		}
	}
}
