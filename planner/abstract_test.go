package planner_test

import (
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
)

// TestPartialUnionMembers: below a shareable path that several subgraphs
// could resolve, only the union members every candidate subgraph has are
// selected; a field only one subgraph resolves selects that subgraph's
// members (testdata/compose/partial_union: east has Tool|Lamp, west
// Tool|Rug).
func TestPartialUnionMembers(t *testing.T) {
	const items = `items { __typename ... on Tool { label } ... on Lamp { watts } ... on Rug { colour } }`
	cases := []struct {
		name, query string
		want, not   []string
	}{
		{"shareable path from east", `{ eastShelf { box { ` + items + ` } } }`,
			[]string{"...on Tool{__typename label}"}, []string{"Lamp", "Rug"}},
		{"shareable path from west", `{ westShelf { box { ` + items + ` } } }`,
			[]string{"...on Tool{__typename label}"}, []string{"Lamp", "Rug"}},
		{"shareable root", `{ anyShelf { box { ` + items + ` } } }`,
			[]string{"...on Tool{__typename label}"}, []string{"Lamp", "Rug"}},
		{"field only west resolves", `{ eastShelf { westBox { ` + items + ` } } }`,
			[]string{"...on Rug{__typename colour}", "...on Tool{__typename label}"}, []string{"Lamp"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := corpusPlan(t, "partial_union", c.query, planner.Options{})
			var ops []string
			for _, f := range corpusFetches(p.Root) {
				ops = append(ops, f.Operation)
			}
			all := strings.Join(ops, "\n")
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("no %q in\n%s", w, all)
				}
			}
			for _, n := range c.not {
				if strings.Contains(all, n) {
					t.Errorf("%q selected in\n%s", n, all)
				}
			}
		})
	}
}
