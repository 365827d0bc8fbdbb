package planner_test

import (
	"strings"
	"testing"
)

// TestJumpSiblingsShareOneFetch: fields of one selection that leave its
// subgraph go, between subgraphs of equal cost, to the one most of them can
// go to, so that one entity fetch answers them together (graphgen seed
// 1879, session 17: the shared field went to the first subgraph that had
// it, one fetch more than Apollo Gateway's and Hive Gateway's plans, and
// with subgraphs that answer a shared field differently, another value).
// testdata/compose/jump_siblings: User.point is in points and ranks,
// User.rank in ranks only; shop only references users.
func TestJumpSiblingsShareOneFetch(t *testing.T) {
	cases := []struct {
		name, query string
		fetches     int
		points      bool // a fetch to points is wanted
	}{
		{"shared field first", `{ products { owner { point { x } rank } } }`, 2, false},
		{"shared field last", `{ products { owner { rank point { y } } } }`, 2, false},
		{"aliases", `{ products { owner { a: point { x } b: point { y } r: rank } } }`, 2, false},
		{"in a fragment", `{ products { owner { ... on User { point { x } } rank } } }`, 2, false},
		{"named fragment", `{ products { owner { ...U } } } fragment U on User { point { x y } rank }`, 2, false},
		{"shared field alone", `{ products { owner { point { x } } } }`, 2, true},
		{"twice over", `{ products { owner { point { x } rank } } more: products { owner { point { y } } } }`, 3, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := composedPlan(t, "jump_siblings", c.query)
			if p.Fetches != c.fetches {
				t.Errorf("%d fetches, want %d:\n%s", p.Fetches, c.fetches, p)
			}
			if got := strings.Contains(p.String(), `service: "points"`); got != c.points {
				t.Errorf("a fetch to points: %v, want %v:\n%s", got, c.points, p)
			}
		})
	}
}
