package planner_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema/compose"
	"github.com/vektah/gqlparser/v2"
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
// fetches, and what finding it costs grows slowly with the number of
// subgraphs keyed by the last key. The recursive chain search of session
// 17 (f4d7086) grew with about the fourth power of their number: 11,263
// allocations at 8, 65,059 at 12, 662,629 and seconds at 20; the
// shortest-path estimate (keychain.go) takes 790, 1,173 and 2,220.
func TestKeyChainFanPlans(t *testing.T) {
	for _, c := range []struct {
		n         int
		maxAllocs float64
	}{{4, 1_000}, {8, 1_600}, {12, 2_400}, {20, 4_500}, {32, 8_000}} {
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

// TestKeyChainSearchSpendsBudget: the key-chain search counts against the
// planning budget (one option per key it evaluates), so a supergraph whose
// chains need much searching fails over budget like any other costly
// operation instead of planning below it. With 32 subgraphs keyed by the
// last key the search evaluates over a thousand keys; the rest of the plan
// about a hundred options.
func TestKeyChainSearchSpendsBudget(t *testing.T) {
	res, err := compose.Compose(keyChainFanSubgraphs(32))
	if err != nil {
		t.Fatal(err)
	}
	_, err = planOn(t, res.Supergraph, "{ parts { f0 } }", planner.Options{Budget: 500})
	var pe *planner.Error
	if !errors.As(err, &pe) || !pe.OverBudget {
		t.Errorf("budget 500: want an over-budget error, got %v", err)
	}
	if _, err := planOn(t, res.Supergraph, "{ parts { f0 } }", planner.Options{}); err != nil {
		t.Errorf("default budget: %v", err)
	}
}

// BenchmarkKeyChainFan plans { parts { f0 } } on keyChainFanSubgraphs(n):
// the key-chain estimate's cost as the number of subgraphs keyed by the
// last key grows.
func BenchmarkKeyChainFan(b *testing.B) {
	for _, n := range []int{4, 8, 12, 20, 32} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			res, err := compose.Compose(keyChainFanSubgraphs(n))
			if err != nil {
				b.Fatal(err)
			}
			doc, errs := gqlparser.LoadQuery(res.Supergraph.API, "{ parts { f0 } }")
			if len(errs) > 0 {
				b.Fatal(errs)
			}
			p := planner.New(res.Supergraph)
			b.ReportAllocs()
			for b.Loop() {
				op, err := planner.Normalize(res.Supergraph.API, doc, "", nil)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := p.Plan(op, planner.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
