package planner_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema/compose"
)

// chainGraph: n subgraphs, the i-th knowing T by key ki and resolving the
// next fan keys too; the root field is in the first, f(n-1) in the last.
func chainGraph(t *testing.T, n, fan int) *compose.Result {
	t.Helper()
	var subs []compose.Subgraph
	for i := 0; i < n; i++ {
		var b strings.Builder
		b.WriteString(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])` + "\n")
		if i == 0 {
			b.WriteString("type Query { ts: [T!]! }\n")
		}
		fmt.Fprintf(&b, "type T @key(fields: \"k%d\") { k%d: ID! @shareable f%d: Int", i, i, i)
		for j := 1; j <= fan && i+j < n; j++ {
			fmt.Fprintf(&b, " k%d: ID! @shareable", i+j)
		}
		b.WriteString(" }\n")
		subs = append(subs, compose.Subgraph{Name: fmt.Sprintf("s%02d", i), URL: "http://127.0.0.1:4999/x", SDL: b.String()})
	}
	res, err := compose.Compose(subs)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestKeyChainEstimateBounded: on a graph where each of 16 subgraphs knows
// T by its own key and resolves the next three keys (every order of the
// subgraphs is a chain of jumps), planning a field of the last one stays
// cheap. With the cycle guard keyed by the target alone and only whole
// key estimates kept, one plan took 16 million allocations and seconds
// (20 subgraphs: 31 s). A chain of any length plans: the recursive chain
// search of session 17 nested at most 4 key estimates and refused a field
// six jumps away ("no subgraph can resolve Query.ts"); the shortest-path
// estimate (keychain.go) has no such bound.
func TestKeyChainEstimateBounded(t *testing.T) {
	res := chainGraph(t, 16, 3)
	allocs := testing.AllocsPerRun(1, func() {
		planOn(t, res.Supergraph, "{ ts { f15 } }", planner.Options{})
	})
	if allocs > 20000 {
		t.Errorf("planning a field 15 jumps away: %.0f allocations, want at most 20,000", allocs)
	}
	// Chains of subgraphs, one key each: a fetch per subgraph, in order.
	for _, n := range []int{5, 7, 12} {
		short := chainGraph(t, n, 1)
		p, err := planOn(t, short.Supergraph, fmt.Sprintf("{ ts { f%d } }", n-1), planner.Options{})
		if err != nil {
			t.Errorf("a chain of %d jumps: %v", n-1, err)
			continue
		}
		var got, want []string
		for i := range n {
			want = append(want, fmt.Sprintf("s%02d", i))
		}
		for _, line := range strings.Split(p.String(), "\n") {
			if i := strings.Index(line, `Fetch(service: "`); i >= 0 {
				got = append(got, strings.SplitN(line[i+len(`Fetch(service: "`):], `"`, 2)[0])
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("a chain of %d jumps: fetches to %v, want %v\n%s", n-1, got, want, p)
		}
	}
}
