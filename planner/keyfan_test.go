package planner_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema/compose"
)

// keyFanSubgraphs: the root subgraph knows Part by id only; bridge knows
// it by id and holds k; each of n others knows it by k alone and holds a
// field of its own. Every field of the n is one jump from bridge.
func keyFanSubgraphs(n int) []compose.Subgraph {
	const head = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])
`
	subs := []compose.Subgraph{
		{Name: "root", URL: "http://127.0.0.1:4999/root", SDL: head + `type Query { parts: [Part!]! }
type Part @key(fields: "id") { id: ID! }`},
		{Name: "bridge", URL: "http://127.0.0.1:4999/bridge", SDL: head + `type Part @key(fields: "id") { id: ID! k: ID! @shareable }`},
	}
	for i := range n {
		subs = append(subs, compose.Subgraph{Name: fmt.Sprintf("s%d", i), URL: fmt.Sprintf("http://127.0.0.1:4999/s%d", i),
			SDL: head + fmt.Sprintf(`type Part @key(fields: "k") { k: ID! @shareable f%d: Int }`, i)})
	}
	return subs
}

// TestKeyFanOutPlansWithinBudget: many subgraphs that know an entity by
// a key the root subgraph lacks must not make the key estimates search
// every subset of them. A key estimate that followed every further key
// jump (each avoided set anew, unmemoized) spent the whole default
// budget of 2,000,000 options on `{ parts { f0 } }` with 8 such
// subgraphs (about 9 s) and failed; the plan needs 3 fetches.
func TestKeyFanOutPlansWithinBudget(t *testing.T) {
	for _, n := range []int{8, 12} {
		res, err := compose.Compose(keyFanSubgraphs(n))
		if err != nil {
			t.Fatal(err)
		}
		fields := make([]string, n)
		for i := range fields {
			fields[i] = fmt.Sprintf("f%d", i)
		}
		for _, c := range []struct {
			query   string
			fetches int
		}{
			{`{ parts { f0 } }`, 3},
			{`{ parts { ` + strings.Join(fields, " ") + ` } }`, n + 2},
		} {
			p, err := planOn(t, res.Supergraph, c.query, planner.Options{Budget: 50_000})
			if err != nil {
				t.Errorf("%d subgraphs by k, %.30s: %v", n, c.query, err)
				continue
			}
			if got := strings.Count(p.String(), "Fetch("); got != c.fetches {
				t.Errorf("%d subgraphs by k, %.30s: %d fetches, want %d\n%s", n, c.query, got, c.fetches, p)
			}
		}
	}
}
