package planner

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fedgate/gateway/schema"
)

// TestQueryGraphAgreesWithRouting: on every supergraph of testdata, the
// query graph's local key jumps are exactly those routing finds with its
// own field-by-field check (selectionResolvable), so the planner may read
// them from the graph built once per supergraph.
func TestQueryGraphAgreesWithRouting(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "supergraphs", "*.graphql"))
	files = append(files, filepath.Join("..", "gateway.graphql"))
	checked := 0
	for _, file := range files {
		sdl, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		sg, err := schema.Load(string(sdl))
		if err != nil {
			continue // fixtures of failure cases
		}
		b := &builder{sg: sg, keyProv: map[[2]string]*provided{}}
		q := sg.QueryGraph()
		for typ, st := range sg.Types {
			for _, from := range st.GraphIDs {
				for _, j := range q.Node(typ, from).Jumps {
					if j.LabelDependent {
						continue
					}
					checked++
					if want := b.selectionResolvable(from, typ, j.Key.Selection); j.LocalAtEntityRoot != want {
						t.Errorf("%s: %s %s -> %s key %q: graph says local at an entity root=%v, routing %v", filepath.Base(file), typ, from, j.To.Graph, j.Key.Fields, j.LocalAtEntityRoot, want)
					}
					if want := b.resolvesWith(from, typ, j.Key.Selection, nil); j.Local != want {
						t.Errorf("%s: %s %s -> %s key %q: graph says local=%v, routing %v", filepath.Base(file), typ, from, j.To.Graph, j.Key.Fields, j.Local, want)
					}
				}
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d jumps checked", checked)
	}
}
