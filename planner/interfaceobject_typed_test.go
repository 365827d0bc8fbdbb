package planner_test

import (
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
)

// TestInterfaceObjectTypedSelection: at an @interfaceObject position
// (testdata/compose/iface_object_shareable: directory's accounts; status
// answers active for the interface, members has Staff.active @shareable),
// a field selected on the interface and again in an inline fragment on
// some implementations but not all (not inside a named fragment) is
// fetched again, for those, from the subgraph of the concrete types,
// after the interface's fetch so that its answer is kept; fragments on
// every implementation count as a selection on the interface.
func TestInterfaceObjectTypedSelection(t *testing.T) {
	tests := []struct {
		name, query string
		// plan is the plan's fetches, "subgraph: operation" in order, and
		// its shape.
		fetches []string
		shape   string
	}{
		{"interface only", `{ accounts { active } }`,
			[]string{
				"directory: query{accounts{__typename id}}",
				"status: query($representations:[_Any!]!){_entities(representations:$representations){...on Account{active}}}",
			}, "Sequence(Fetch,Flatten)"},
		{"interface and a fragment on one implementation", `{ accounts { active ... on Staff { active } } }`,
			[]string{
				"directory: query{accounts{__typename id}}",
				"status: query($representations:[_Any!]!){_entities(representations:$representations){...on Account{active}}}",
				"members: query($representations:[_Any!]!){_entities(representations:$representations){...on Account{__typename ...on Staff{active}}}}",
			}, "Sequence(Fetch,Flatten,Flatten)"},
		{"in a named fragment", `{ accounts { ...S active } } fragment S on Staff { active }`,
			[]string{
				"directory: query{accounts{__typename id}}",
				"status: query($representations:[_Any!]!){_entities(representations:$representations){...on Account{active}}}",
			}, "Sequence(Fetch,Flatten)"},
		{"a named fragment inside the inline one", `{ accounts { active ... on Staff { ...S } } } fragment S on Staff { active }`,
			[]string{
				"directory: query{accounts{__typename id}}",
				"status: query($representations:[_Any!]!){_entities(representations:$representations){...on Account{active}}}",
				"members: query($representations:[_Any!]!){_entities(representations:$representations){...on Account{__typename ...on Staff{active}}}}",
			}, "Sequence(Fetch,Flatten,Flatten)"},
		{"fragments on every implementation", `{ accounts { active ... on Staff { active } ... on Guest { active } } }`,
			[]string{
				"directory: query{accounts{__typename id}}",
				"status: query($representations:[_Any!]!){_entities(representations:$representations){...on Account{active}}}",
			}, "Sequence(Fetch,Flatten)"},
		{"a fragment only", `{ accounts { id ... on Staff { active } } }`,
			[]string{
				"directory: query{accounts{id __typename}}",
				"members: query($representations:[_Any!]!){_entities(representations:$representations){...on Account{__typename ...on Staff{active}}}}",
			}, "Sequence(Fetch,Flatten)"},
		{"the key in a fragment", `{ accounts { id ... on Staff { id } } }`,
			[]string{
				"directory: query{accounts{id}}",
			}, "Fetch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := corpusPlan(t, "iface_object_shareable", tt.query, planner.Options{})
			var got []string
			for _, f := range corpusFetches(p.Root) {
				got = append(got, f.Subgraph+": "+strings.Join(strings.Fields(f.Operation), " "))
			}
			if strings.Join(got, "\n") != strings.Join(tt.fetches, "\n") {
				t.Errorf("fetches\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.fetches, "\n"))
			}
			if s := shape(p.Root); s != tt.shape {
				t.Errorf("plan shape %s, want %s", s, tt.shape)
			}
		})
	}
}

// shape prints a plan tree's node kinds.
func shape(n planner.Node) string {
	switch n := n.(type) {
	case *planner.Sequence:
		return "Sequence(" + shapes(n.Nodes) + ")"
	case *planner.Parallel:
		return "Parallel(" + shapes(n.Nodes) + ")"
	case *planner.Flatten:
		return "Flatten"
	case *planner.Fetch:
		return "Fetch"
	}
	return "?"
}

func shapes(ns []planner.Node) string {
	var out []string
	for _, n := range ns {
		out = append(out, shape(n))
	}
	return strings.Join(out, ",")
}
