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
// User.rank in ranks only; shop only references users; User.bonus (ranks)
// requires tier (points), and is not counted: its fetch waits for the
// inputs' fetch, which the references join the shared field to.
func TestJumpSiblingsShareOneFetch(t *testing.T) {
	cases := []struct {
		name, query string
		fetches     int
		points      bool // point is asked of points (else of ranks)
	}{
		{"shared field first", `{ products { owner { point { x } rank } } }`, 2, false},
		{"shared field last", `{ products { owner { rank point { y } } } }`, 2, false},
		{"aliases", `{ products { owner { a: point { x } b: point { y } r: rank } } }`, 2, false},
		{"in a fragment", `{ products { owner { ... on User { point { x } } rank } } }`, 2, false},
		{"named fragment", `{ products { owner { ...U } } } fragment U on User { point { x y } rank }`, 2, false},
		{"shared field alone", `{ products { owner { point { x } } } }`, 2, true},
		{"twice over", `{ products { owner { point { x } rank } } more: products { owner { point { y } } } }`, 3, true},
		// bonus's fetch to ranks waits for tier from points: point goes
		// with tier (graphgen seeds 1856 and 1865: both references so).
		{"beside a @requires field", `{ products { owner { point { x } bonus } } }`, 3, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := composedPlan(t, "jump_siblings", c.query)
			if p.Fetches != c.fetches {
				t.Errorf("%d fetches, want %d:\n%s", p.Fetches, c.fetches, p)
			}
			if got := askedOf(p.String(), "points", "point{"); got != c.points {
				t.Errorf("point asked of points: %v, want %v:\n%s", got, c.points, p)
			}
		})
	}
}

// askedOf reports whether a fetch to subgraph in the printed plan asks for
// text in its query.
func askedOf(plan, subgraph, text string) bool {
	for _, part := range strings.Split(plan, `Fetch(service: "`)[1:] {
		if strings.HasPrefix(part, subgraph+`"`) && strings.Contains(part, text) {
			return true
		}
	}
	return false
}

// TestJumpCountsTheKeysFetches: between subgraphs that resolve a field a
// jump must fetch, the fetches that get each one's key count: early needs
// late's handle first (graphgen seed 1887, session 17: the first subgraph
// was taken, a fetch more than both references' plans;
// testdata/compose/jump_key_cost).
func TestJumpCountsTheKeysFetches(t *testing.T) {
	for _, q := range []string{`{ users { title } }`, `{ users { id title } }`, `{ users { ... on User { t: title } } }`} {
		p := composedPlan(t, "jump_key_cost", q)
		if p.Fetches != 2 || !askedOf(p.String(), "late", "title") {
			t.Errorf("%s: want 2 fetches, title from late:\n%s", q, p)
		}
	}
}
