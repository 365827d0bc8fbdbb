package planner_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
)

// planDemo plans query against the demo supergraph.
func planDemo(t *testing.T, query string) *planner.Plan {
	t.Helper()
	sg, err := demoSupergraph()
	if err != nil {
		t.Fatal(err)
	}
	p, err := planOn(t, sg, query, planner.Options{})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return p
}

// composedPlan plans query against testdata/compose/<graph>/supergraph.graphql.
func composedPlan(t *testing.T, graph, query string) *planner.Plan {
	t.Helper()
	sdl, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "compose", graph, "supergraph.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	sg, err := schema.Load(string(sdl))
	if err != nil {
		t.Fatal(err)
	}
	p, err := planOn(t, sg, query, planner.Options{})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return p
}

// flattenPaths lists, per fetch to subgraph, the paths it serves
// ("a.@ b.@"), in plan order.
func flattenPaths(n planner.Node, subgraph string) []string {
	var out []string
	var walk func(n planner.Node)
	walk = func(n planner.Node) {
		switch n := n.(type) {
		case *planner.Sequence:
			for _, c := range n.Nodes {
				walk(c)
			}
		case *planner.Parallel:
			for _, c := range n.Nodes {
				walk(c)
			}
		case *planner.Flatten:
			if n.Node.Subgraph != subgraph {
				return
			}
			paths := n.Paths
			if len(paths) == 0 {
				paths = [][]string{n.Path}
			}
			var ps []string
			for _, p := range paths {
				ps = append(ps, strings.Join(p, "."))
			}
			out = append(out, strings.Join(ps, " "))
		}
	}
	walk(n)
	return out
}

// TestMergeKeepsPathsOfOtherTypesApart: an entity fetch for the Users of
// one path is not merged with the fetch for the Products of another path
// when the first path holds Products too (an abstract field): the merged
// fetch would send the first path's Products the second path's selection.
// Nor are fetches merged that select on one interface entity differently.
func TestMergeKeepsPathsOfOtherTypesApart(t *testing.T) {
	cases := []struct {
		name, query string
		want        []string
		subgraph    string
		graph       string
	}{
		{
			"union path holds both types",
			`{ search(term: "e") { ... on User { reviews { id } } ... on Product { upc } }
			   topProducts: search(term: "") { ... on Product { upc: reviews { id } } } }`,
			[]string{"search.@", "topProducts.@"},
			"", "",
		},
		{
			"object paths of different types still merge",
			`{ me { reviews { id } } topProducts { reviews { id } } }`,
			[]string{"me topProducts.@"},
			"", "",
		},
		{
			"same type, same selection still merge",
			`{ a: topProducts { reviews { id } } b: topProducts(first: 2) { reviews { id } } }`,
			[]string{"a.@ b.@"},
			"", "",
		},
		{
			// Media is an interface entity: both fetches select on Media
			// and send Book and Song representations. Their selections
			// differ, so one fetch would give each path both.
			"interface entity, other selections",
			`{ media { a1: reviews id } a2: media { id: reviews } }`,
			[]string{"media.@", "a2.@"},
			"b", "interface_entity",
		},
		{
			"interface entity, same selection",
			`{ media { reviews } a2: media { reviews } }`,
			[]string{"media.@ a2.@"},
			"b", "interface_entity",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p *planner.Plan
			if c.graph != "" {
				p = composedPlan(t, c.graph, c.query)
			} else {
				p = planDemo(t, c.query)
			}
			sub := c.subgraph
			if sub == "" {
				sub = "reviews"
			}
			got := flattenPaths(p.Root, sub)
			if strings.Join(got, " | ") != strings.Join(c.want, " | ") {
				t.Errorf("reviews fetches serve %q, want %q\n%s", got, c.want, p)
			}
		})
	}
}
