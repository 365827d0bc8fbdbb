package planner_test

import (
	"slices"
	"testing"

	"github.com/fedgate/gateway/planner"
)

func TestEachFetch(t *testing.T) {
	a, b, c, d := &planner.Fetch{ID: 0}, &planner.Fetch{ID: 1}, &planner.Fetch{ID: 2}, &planner.Fetch{ID: 3}
	tests := []struct {
		name string
		root planner.Node
		want []int
	}{
		{"nil", nil, nil},
		{"one fetch", a, []int{0}},
		{"flatten yields its fetch", &planner.Flatten{Path: []string{"x"}, Node: b}, []int{1}},
		{"plan order through sequence and parallel", &planner.Sequence{Nodes: []planner.Node{
			a,
			&planner.Parallel{Nodes: []planner.Node{&planner.Flatten{Node: b}, c}},
			&planner.Flatten{Node: d},
		}}, []int{0, 1, 2, 3}},
		{"empty parallel", &planner.Parallel{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			planner.EachFetch(tt.root, func(f *planner.Fetch) { got = append(got, f.ID) })
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
