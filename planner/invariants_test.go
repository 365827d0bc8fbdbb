package planner_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// checkDataKeys checks the data-key invariants of a plan: every value a
// representation reads (RequiredField.Key at the fetch's Flatten path) is
// written, under that key and by a field of that name, by another fetch of
// the plan; and no two fetches write one key at one path with different
// fields. (Output rewrites are not applied: a type-conflict alias counts
// as its own key, which only makes the check stricter.)
func checkDataKeys(t *testing.T, p *planner.Plan) {
	t.Helper()
	type write struct{ field, fetch string }
	written := map[string]write{} // path|key -> field(args)
	var walk func(sel ast.SelectionSet, path, fetch string)
	walk = func(sel ast.SelectionSet, path, fetch string) {
		for _, s := range sel {
			switch s := s.(type) {
			case *ast.Field:
				key := s.Alias
				if key == "" {
					key = s.Name
				}
				id := s.Name + "(" + argString(s.Arguments) + ")"
				k := path + "|" + key
				if w, ok := written[k]; ok && w.field != id && s.Name != "__typename" {
					t.Errorf("%s writes %s as %s, %s as %s", w.fetch, k, w.field, fetch, id)
				}
				written[k] = write{id, fetch}
				walk(s.SelectionSet, path+"."+key, fetch)
			case *ast.InlineFragment:
				walk(s.SelectionSet, path, fetch)
			}
		}
	}
	fetches := corpusFetchesWithPaths(p.Root, nil)
	for i, fp := range fetches {
		doc, err := parser.ParseQuery(&ast.Source{Input: fp.fetch.Operation})
		if err != nil {
			t.Fatalf("fetch %d: %v\n%s", i, err, fp.fetch.Operation)
		}
		sel := doc.Operations[0].SelectionSet
		name := fmt.Sprintf("fetch %d (%s)", i, fp.fetch.Subgraph)
		for _, path := range fp.paths {
			if len(fp.fetch.Requires) > 0 {
				// _entities(...) { ... on T { fields } }: fields are at path.
				walk(sel[0].(*ast.Field).SelectionSet, path, name)
			} else {
				walk(sel, path, name)
			}
		}
	}
	for i, fp := range fetches {
		for _, r := range fp.fetch.Requires {
			for _, f := range r.Fields {
				// A merged fetch's paths may hold different types: the
				// value must be written at one of them at least.
				found := false
				for _, path := range fp.paths {
					if w, ok := written[path+"|"+f.Key]; ok && strings.HasPrefix(w.field, f.Name+"(") {
						found = true
					}
				}
				if !found {
					t.Errorf("fetch %d (%s) reads %s for %s at %v: no fetch writes it there\n%s", i, fp.fetch.Subgraph, f.Key, f.Name, fp.paths, p)
				}
			}
		}
	}
}

type fetchWithPaths struct {
	fetch *planner.Fetch
	paths []string // Flatten paths without list steps; "" for a root fetch
}

func corpusFetchesWithPaths(n planner.Node, out []fetchWithPaths) []fetchWithPaths {
	switch n := n.(type) {
	case *planner.Sequence:
		for _, c := range n.Nodes {
			out = corpusFetchesWithPaths(c, out)
		}
	case *planner.Parallel:
		for _, c := range n.Nodes {
			out = corpusFetchesWithPaths(c, out)
		}
	case *planner.Flatten:
		paths := n.Paths
		if len(paths) == 0 {
			paths = [][]string{n.Path}
		}
		var ps []string
		for _, p := range paths {
			var keys []string
			for _, k := range p {
				if k != "@" {
					keys = append(keys, "."+k)
				}
			}
			ps = append(ps, strings.Join(keys, ""))
		}
		out = append(out, fetchWithPaths{n.Node, ps})
	case *planner.Fetch:
		out = append(out, fetchWithPaths{n, []string{""}})
	}
	return out
}

func argString(args ast.ArgumentList) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = a.Name + ":" + a.Value.String()
	}
	return strings.Join(parts, ",")
}

// TestDataKeyInvariants plans every golden case and operations whose
// aliases take the names of the fields the planner adds, and checks the
// data-key invariants of each plan.
func TestDataKeyInvariants(t *testing.T) {
	for _, c := range loadPlanCases(t) {
		t.Run(c.name, func(t *testing.T) {
			sg := c.loadSupergraph(t)
			doc, errs := gqlparser.LoadQuery(sg.API, c.query)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			op, err := planner.Normalize(sg.API, doc, c.operation, c.variables)
			if err != nil {
				t.Fatal(err)
			}
			p, err := planner.New(sg).Plan(op, planner.Options{})
			if err != nil {
				t.Fatal(err)
			}
			checkDataKeys(t, p)
		})
	}
	for _, c := range []struct{ supergraph, query string }{
		{"key_chain", `{ reviews { product { a1: id } product { a4: inStock } } }`},
		{"key_chain", `{ reviews { product { upc: id id: upc inStock } } }`},
		{"keys_compound", `{ members { email org { id: name } } }`},
		{"requires_args", `{ products { price: weight weight: price shippingCostEUR shippingCostUSD } }`},
		{"requires_args", `{ products { eur: price(currency: "EUR") shippingCostEUR } }`},
		{"iface_object", `{ __typename: __typename }`},
	} {
		t.Run(c.supergraph+" "+c.query, func(t *testing.T) {
			p := corpusPlan(t, c.supergraph, c.query, planner.Options{})
			checkDataKeys(t, p)
		})
	}
}
