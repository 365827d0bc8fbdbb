package planner_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema/compose"
)

// keyFanSubgraphs: the root subgraph knows Part by id only; bridge knows
// it by id and holds what the n others are keyed by; each of the n knows
// it by a key the root lacks and holds a field of its own. Every field of
// the n is one jump from bridge. With distinct, subgraph i is keyed by k<i>
// and holds every k<j> (so each could give the others' keys); else all are
// keyed by one field k.
func keyFanSubgraphs(n int, distinct bool) []compose.Subgraph {
	const head = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])
`
	keyFields := "k: ID! @shareable"
	if distinct {
		var ks []string
		for i := range n {
			ks = append(ks, fmt.Sprintf("k%d: ID! @shareable", i))
		}
		keyFields = strings.Join(ks, " ")
	}
	subs := []compose.Subgraph{
		{Name: "root", URL: "http://127.0.0.1:4999/root", SDL: head + `type Query { parts: [Part!]! }
type Part @key(fields: "id") { id: ID! }`},
		{Name: "bridge", URL: "http://127.0.0.1:4999/bridge", SDL: head + `type Part @key(fields: "id") { id: ID! ` + keyFields + ` }`},
	}
	for i := range n {
		key := "k"
		if distinct {
			key = fmt.Sprintf("k%d", i)
		}
		subs = append(subs, compose.Subgraph{Name: fmt.Sprintf("s%d", i), URL: fmt.Sprintf("http://127.0.0.1:4999/s%d", i),
			SDL: head + fmt.Sprintf(`type Part @key(fields: "%s") { %s f%d: Int }`, key, keyFields, i)})
	}
	return subs
}

// TestKeyFanOutPlansWithinBudget: many subgraphs that know an entity by
// a key the root subgraph lacks must not make the key estimates search
// every subset of them. A key estimate that followed every further key
// jump from the same subgraph (each avoided set anew, unmemoized) spent
// the whole default budget of 2,000,000 options on `{ parts { f0 } }`
// with 8 such subgraphs (about 9 s) and failed; the plan needs 3 fetches.
func TestKeyFanOutPlansWithinBudget(t *testing.T) {
	for _, shape := range []struct {
		name     string
		distinct bool
	}{{"one key", false}, {"a key each", true}} {
		for _, n := range []int{8, 12} {
			res, err := compose.Compose(keyFanSubgraphs(n, shape.distinct))
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
					t.Errorf("%s, %d subgraphs, %.30s: %v", shape.name, n, c.query, err)
					continue
				}
				if got := strings.Count(p.String(), "Fetch("); got != c.fetches {
					t.Errorf("%s, %d subgraphs, %.30s: %d fetches, want %d\n%s", shape.name, n, c.query, got, c.fetches, p)
				}
			}
		}
	}
}

// TestKeyFanOutPlanCost: the same fan of 20 subgraphs plans one field in
// about 1,800 allocations on main; key estimates that search the orders
// of the subgraphs (graphs 265d01f: nested at most 4 deep, each kept per
// avoided set) took 450,000 and seconds, below the planning budget, which
// counts evaluated options only.
func TestKeyFanOutPlanCost(t *testing.T) {
	for _, distinct := range []bool{false, true} {
		res, err := compose.Compose(keyFanSubgraphs(20, distinct))
		if err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(1, func() {
			if _, err := planOn(t, res.Supergraph, "{ parts { f0 } }", planner.Options{}); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 20_000 {
			t.Errorf("a key each: %v, 20 subgraphs: %.0f allocations to plan { parts { f0 } }, want at most 20,000", distinct, allocs)
		}
	}
}
