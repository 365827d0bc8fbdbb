package planner

import (
	"testing"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/schema"
)

// TestResolveConflictsThroughFragments: fields under one response key in
// inline fragments of an entity selection and beside them are one level
// (validation merges them): a Boolean under a fragment on User and an
// Int on Product beside it conflict, and the later one is aliased with an
// output rewrite back to the key.
func TestResolveConflictsThroughFragments(t *testing.T) {
	sg, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	b := &builder{sg: sg}
	graph := ""
	for _, g := range sg.Graphs {
		if g.Name == "reviews" {
			graph = g.ID
		}
	}
	if graph == "" {
		t.Fatal("no reviews graph")
	}
	// ...on User{ ...{ x: reviews{id} } } ...on Product{ x: upc }
	sel := &subSel{abstract: true}
	frag := &subField{fragment: true, sub: &subSel{abstract: true}}
	reviews := frag.sub.forType("User").add("x", "reviews", nil, func() *subSel { return &subSel{} })
	reviews.sub.forType("Review").add("id", "id", nil, nil)
	sel.forType("User").fields = append(sel.forType("User").fields, frag)
	upc := sel.forType("Product").add("x", "upc", nil, nil)
	out := b.resolveConflicts(graph, sel, nil, nil)
	if len(out) != 1 || out[0].To != "x" || out[0].From != upc.key || upc.key == "x" || reviews.key != "x" {
		t.Errorf("rewrites %+v, keys reviews=%q upc=%q; want upc aliased back to x", out, reviews.key, upc.key)
	}
	// Same shapes under one key: nothing to do.
	sel = &subSel{abstract: true}
	frag = &subField{fragment: true, sub: &subSel{abstract: true}}
	r1 := frag.sub.forType("User").add("x", "reviews", nil, func() *subSel { return &subSel{} })
	r1.sub.forType("Review").add("id", "id", nil, nil)
	sel.forType("User").fields = append(sel.forType("User").fields, frag)
	r2 := sel.forType("Product").add("x", "reviews", nil, func() *subSel { return &subSel{} })
	r2.sub.forType("Review").add("id", "id", nil, nil)
	if out := b.resolveConflicts(graph, sel, nil, nil); len(out) != 0 {
		t.Errorf("rewrites %+v for fields of one shape", out)
	}
}
