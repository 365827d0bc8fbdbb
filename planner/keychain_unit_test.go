package planner

import (
	"slices"
	"testing"
)

// TestShortestKeys: the key-chain search on small problems, written out by
// hand. Fields are numbered; the source's own cost per field is given
// (notAtSource when it lacks it); each node has keys (lists of fields) and
// gives fields once reached, each with its own sub-selection's cost.
func TestShortestKeys(t *testing.T) {
	const x = notAtSource
	for _, c := range []struct {
		name   string
		net    keyNet
		budget int // key evaluations allowed; 0 for no limit
		want   []int
	}{{
		name: "no nodes",
		net:  keyNet{},
		want: []int{},
	}, {
		// a: id -> b: id, sn -> d: sn, code -> c: code (fields id 0, sn
		// 1, code 2): b is reached by a key the source resolves, d
		// after one fetch to b, c after b and d.
		name: "a chain of three jumps",
		net: keyNet{
			keys:     [][][]int{{{2}}, {{1}}, nil},
			free:     []bool{false, false, true},
			atSource: []int{0, x, x},
			gives:    [][]keySupply{nil, {{2, 0}}, {{1, 0}}},
		},
		want: []int{2, 1, 0},
	}, {
		name: "a key nobody gives",
		net: keyNet{
			keys:     [][][]int{{{0}}, {{1}}},
			free:     []bool{false, true},
			atSource: []int{x, x},
			gives:    [][]keySupply{nil, {{1, 0}}},
		},
		want: []int{inf, 0},
	}, {
		// Each node holds the other's key: neither is reached.
		name: "a cycle",
		net: keyNet{
			keys:     [][][]int{{{0}}, {{1}}},
			free:     []bool{false, false},
			atSource: []int{x, x},
			gives:    [][]keySupply{{{1, 0}}, {{0, 0}}},
		},
		want: []int{inf, inf},
	}, {
		// A compound key whose fields come from two reached nodes costs
		// a fetch to each; from one node, one fetch.
		name: "compound keys count each node once",
		net: keyNet{
			keys:     [][][]int{{{0, 1}}, nil, nil, {{2, 3}}},
			free:     []bool{false, true, true, false},
			atSource: []int{x, x, x, x},
			gives:    [][]keySupply{nil, {{0, 0}}, {{1, 0}, {2, 0}, {3, 0}}, nil},
		},
		want: []int{2, 0, 0, 1},
	}, {
		// Field 0 given by a free node at a cost of 5 for its own
		// sub-selection, or by a node one fetch away at no cost.
		name: "a longer chain that is cheaper",
		net: keyNet{
			keys:     [][][]int{nil, nil, {{1}}, {{0}}},
			free:     []bool{true, true, false, false},
			atSource: []int{x, x},
			gives:    [][]keySupply{{{0, 5}}, {{1, 0}}, {{0, 0}}, nil},
		},
		want: []int{0, 0, 1, 2},
	}, {
		// The cheaper of two keys, and a key field the source resolves
		// (its cost counted, no fetch).
		name: "two keys",
		net: keyNet{
			keys:     [][][]int{{{0, 1}, {2}}, nil, nil},
			free:     []bool{false, true, false},
			atSource: []int{1, x, x},
			gives:    [][]keySupply{nil, {{1, 0}}, {{2, 0}}},
		},
		want: []int{2, 0, inf},
	}, {
		// The source resolves the field but not its sub-selection: the
		// key is no option, as in costFields, though a node gives it.
		name: "a field the source resolves in part",
		net: keyNet{
			keys:     [][][]int{{{0}}, nil},
			free:     []bool{false, true},
			atSource: []int{inf},
			gives:    [][]keySupply{nil, {{0, 0}}},
		},
		want: []int{inf, 0},
	}, {
		// Field 0 from the first of two free nodes giving it, field 1
		// from the second only: two fetches, as costFields counts (it
		// takes the first subgraph of least cost for each field).
		name: "ties go to the first node",
		net: keyNet{
			keys:     [][][]int{nil, nil, {{0, 1}}},
			free:     []bool{true, true, false},
			atSource: []int{x, x},
			gives:    [][]keySupply{{{0, 0}}, {{0, 0}, {1, 0}}, nil},
		},
		want: []int{0, 0, 2},
	}, {
		// The budget refuses the third key evaluation: what was settled
		// stays, the rest is inf.
		name: "over budget",
		net: keyNet{
			keys:     [][][]int{nil, {{0}}, {{1}}, {{2}}},
			free:     []bool{true, false, false, false},
			atSource: []int{x, x, x},
			gives:    [][]keySupply{{{0, 0}}, {{1, 0}}, {{2, 0}}, nil},
		},
		budget: 3,
		want:   []int{0, inf, inf, inf},
	}} {
		t.Run(c.name, func(t *testing.T) {
			spent := 0
			got := shortestKeys(c.net, func() bool {
				spent++
				return c.budget == 0 || spent <= c.budget
			})
			if !slices.Equal(got, c.want) {
				t.Errorf("distances %v, want %v", got, c.want)
			}
		})
	}
}
