package compose

import (
	"fmt"
	"strings"
	"testing"
)

// wideSubgraphs generates a large federated graph: nsub subgraphs sharing
// nent entities (each entity keyed by id in every subgraph, by sku too in
// half of them), every entity implementing a wide interface Node and
// member of a wide union Any, a @shareable list field returning Node from
// every subgraph (so states hold many subgraph sets), entity chains
// (next/other), a field in a different subset of subgraphs per entity
// (pick), @requires and @provides in every subgraph.
func wideSubgraphs(nsub, nent int) []Subgraph {
	var subs []Subgraph
	for s := 0; s < nsub; s++ {
		var b strings.Builder
		b.WriteString(satHeader)
		fmt.Fprintf(&b, "type Query { root%d: E%d all: [Node] @shareable any: [Any] @shareable }\n", s, s%nent)
		b.WriteString("interface Node { id: ID! }\n")
		var members []string
		for e := 0; e < nent; e++ {
			members = append(members, fmt.Sprintf("E%d", e))
		}
		b.WriteString("union Any = " + strings.Join(members, " | ") + "\n")
		for e := 0; e < nent; e++ {
			key := `@key(fields: "id")`
			skuField := ""
			if s%2 == 1 {
				key += ` @key(fields: "sku")`
				skuField = " sku: ID! @shareable"
			}
			fmt.Fprintf(&b, "type E%d implements Node %s { id: ID!%s own%d: Int @shareable next: E%d @shareable related: [Node] @shareable",
				e, key, skuField, s, (e+1)%nent)
			if s%(e%5+2) == 0 {
				// A shareable field each entity has in another subset of
				// the subgraphs: states with many different sets.
				fmt.Fprintf(&b, " pick: E%d @shareable", (e+3)%nent)
			}
			if s > 0 {
				// @requires a field of the previous subgraph, @provides a
				// field of the next entity the previous subgraph owns.
				fmt.Fprintf(&b, " own%d: Int @external needs%d: Int @requires(fields: \"own%d\")", s-1, s, s-1)
				fmt.Fprintf(&b, " other: E%d @shareable @provides(fields: \"own%d\")", (e+2)%nent, s-1)
			}
			b.WriteString(" }\n")
		}
		subs = append(subs, Subgraph{Name: fmt.Sprintf("s%02d", s), URL: fmt.Sprintf("http://127.0.0.1:4999/s%02d", s), SDL: b.String()})
	}
	return subs
}

// TestWideSatisfiable checks the generated graph composes and that the
// check walks a bounded number of states: each type with a few subgraph
// sets, not one state per path.
func TestWideSatisfiable(t *testing.T) {
	const nsub, nent = 20, 12
	res, err := ComposeWith(wideSubgraphs(nsub, nent), Options{SkipSatisfiability: true})
	if err != nil {
		t.Fatalf("compose: %v", err)
	}
	errs := &errorList{}
	c := newSatChecker(res.Supergraph, map[string]bool{}, errs)
	c.run()
	if !errs.empty() {
		t.Fatalf("unsatisfiable: %v", errs.list)
	}
	// Per entity type: the state of each subgraph's root field, the set
	// of all subgraphs (shareable fields), the states a @provides leads
	// to; per abstract type its sets. 2*nsub per type is a generous bound
	// that a walk per path (nsub^depth) would exceed at once.
	if limit := (nent + 3) * 2 * nsub; c.states > limit {
		t.Errorf("walked %d states, want at most %d", c.states, limit)
	}
	t.Logf("%d states", c.states)
	// The same graph with one entity field no subgraph can reach: the
	// check still ends, with that error.
	subs := wideSubgraphs(nsub, nent)
	subs = append(subs, Subgraph{Name: "zz", URL: "http://127.0.0.1:4999/zz", SDL: satHeader +
		`type E3 @key(fields: "id", resolvable: false) { id: ID! hidden: Int }`})
	_, err = Compose(subs)
	if err == nil || !strings.Contains(err.Error(), `"E3.hidden"`) {
		t.Fatalf("want the unreachable E3.hidden reported, got %v", err)
	}
}

// BenchmarkSatisfiability measures the check alone on the generated graph
// (query graph built once, as the planner shares it) and the whole
// composition.
func BenchmarkSatisfiability(b *testing.B) {
	for _, size := range []struct{ nsub, nent int }{{5, 5}, {20, 12}, {20, 30}} {
		subs := wideSubgraphs(size.nsub, size.nent)
		res, err := ComposeWith(subs, Options{SkipSatisfiability: true})
		if err != nil {
			b.Fatal(err)
		}
		res.Supergraph.QueryGraph()
		b.Run(fmt.Sprintf("check/%dsub_%dent", size.nsub, size.nent), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				errs := &errorList{}
				checkSatisfiability(res.Supergraph, errs)
				if !errs.empty() {
					b.Fatal(errs.list)
				}
			}
		})
		b.Run(fmt.Sprintf("compose/%dsub_%dent", size.nsub, size.nent), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := Compose(subs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
