package planner_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
)

// TestInterfaceObjectWithoutImplementations plans selections on an
// @interfaceObject answer that need its concrete type (__typename) over
// testdata/compose/interface_object_root (b sees Media as an interface
// object, a declares the interface with a key and Book implementing it),
// and over the same supergraph without Book. With an implementation, the
// concrete type comes from an entity fetch to a; without one, a's _Entity
// union has no member that is a Media, "... on Media" there is a query a
// rejects, so a is not asked: the interface object's own __typename
// stands (as Hive Gateway answers; Apollo's planner fails there).
func TestInterfaceObjectWithoutImplementations(t *testing.T) {
	sdl, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "compose", "interface_object_root", "supergraph.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	book := "type Book implements Media\n  @join__implements(graph: A, interface: \"Media\")\n  @join__type(graph: A, key: \"id\")\n{\n  id: ID!\n  stars: Int @join__field\n}\n"
	if !strings.Contains(string(sdl), book) {
		t.Fatal("the fixture no longer has the Book type this test removes")
	}
	noBook := strings.Replace(string(sdl), book, "", 1)
	cases := []struct {
		name, sdl, query string
		// fetchA is what the fetch to a must contain; empty: no fetch to a.
		fetchA string
	}{
		{name: "implemented", sdl: string(sdl), query: `{ top { stars __typename } }`,
			fetchA: "...on Media{__typename"},
		{name: "not implemented, concrete type asked", sdl: noBook, query: `{ top { stars __typename } }`},
		{name: "not implemented, interface fields only", sdl: noBook, query: `{ top { id stars } }`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sg, err := schema.Load(c.sdl)
			if err != nil {
				t.Fatal(err)
			}
			p, err := planOn(t, sg, c.query, planner.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var toA []string
			for _, f := range corpusFetches(p.Root) {
				if f.Subgraph == "a" {
					toA = append(toA, f.Operation)
				}
			}
			if c.fetchA == "" && len(toA) > 0 {
				t.Errorf("fetches to a: %q", toA)
			}
			if c.fetchA != "" && (len(toA) != 1 || !strings.Contains(toA[0], c.fetchA)) {
				t.Errorf("fetches to a: %q, want one with %q", toA, c.fetchA)
			}
		})
	}
}
