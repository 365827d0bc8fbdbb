package planner_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
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

// TestInterfaceImplementingInterface: an interface that implements
// another (client_shapes: interface Named implements Node) is no runtime
// type. A position of type Node has Book and Shelf as its possible types,
// in the normalized operation and in the render shape, so an answer whose
// __typename names the interface renders null, as for any type the
// position cannot have; the subgraph is asked through the objects.
func TestInterfaceImplementingInterface(t *testing.T) {
	sdl, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "compose", "client_shapes", "supergraph.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	sg, err := schema.Load(string(sdl))
	if err != nil {
		t.Fatal(err)
	}
	for graph, tg := range sg.Types["Node"].Graphs {
		if tg.Possible["Named"] {
			t.Errorf("Node's possible types in %s include the interface Named: %v", graph, tg.Possible)
		}
	}
	p, err := planOn(t, sg, `{ node(id: "1") { ... on Named { name } id } }`, planner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, bt := range p.Shape.Root.ByType[0].Fields[0].Selection.ByType {
		types = append(types, bt.Type)
	}
	if got := strings.Join(types, " "); got != "Book Shelf" {
		t.Errorf("possible types of node in the shape: %s, want Book Shelf", got)
	}
	var opTypes []string
	for _, tf := range p.Operation.Selection.ByType[0].Fields[0].Selection.ByType {
		opTypes = append(opTypes, tf.Type)
	}
	if got := strings.Join(opTypes, " "); got != "Book Shelf" {
		t.Errorf("possible types of node in the operation: %s, want Book Shelf", got)
	}
	if sel := p.Shape.Root.ByType[0].Fields[0].Selection; sel.FieldsFor("Named") != nil {
		t.Error("the shape renders fields for the runtime type Named")
	}
}
