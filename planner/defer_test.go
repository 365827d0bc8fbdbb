package planner_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2"
)

func deferSupergraph(t *testing.T) *schema.Supergraph {
	t.Helper()
	sg, err := demoSupergraph()
	if err != nil {
		t.Fatal(err)
	}
	return sg
}

func normalizeDefer(t *testing.T, sg *schema.Supergraph, query string, vars map[string]any) *planner.Operation {
	t.Helper()
	doc, errs := gqlparser.LoadQuery(sg.API, query)
	if len(errs) > 0 {
		t.Fatalf("validate: %v", errs)
	}
	op, err := planner.Normalize(sg.API, doc, "", vars)
	if err != nil {
		t.Fatal(err)
	}
	return op
}

// TestNormalizeDefer checks which @defer fragments are in force and which
// fields they deliver.
func TestNormalizeDefer(t *testing.T) {
	sg := deferSupergraph(t)
	cases := []struct {
		name   string
		query  string
		vars   map[string]any
		defers int
		// deferred lists the fields of product(upc:"1") delivered with a
		// defer, by response key.
		deferred []string
	}{
		{name: "none", query: `{ product(upc: "1") { name inStock } }`},
		{name: "inline", query: `{ product(upc: "1") { name ... @defer { inStock } } }`, defers: 1, deferred: []string{"inStock"}},
		{name: "if false", query: `{ product(upc: "1") { name ... @defer(if: false) { inStock } } }`},
		{name: "if variable false", query: `query($d: Boolean!) { product(upc: "1") { name ... @defer(if: $d) { inStock } } }`, vars: map[string]any{"d": false}},
		{name: "if variable true", query: `query($d: Boolean!) { product(upc: "1") { name ... @defer(if: $d) { inStock } } }`, vars: map[string]any{"d": true}, defers: 1, deferred: []string{"inStock"}},
		{name: "in both parts: primary", query: `{ product(upc: "1") { name inStock ... @defer { inStock price } } }`, defers: 1, deferred: []string{"price"}},
		{name: "spread", query: `{ product(upc: "1") { name ...F @defer(label: "f") } } fragment F on Product { price }`, defers: 1, deferred: []string{"price"}},
		{name: "skipped fragment", query: `{ product(upc: "1") { name ... @defer @skip(if: true) { price } } }`},
		{name: "introspection answers deferred fields at once", query: `{ product(upc: "1") { name } __type(name: "Product") { ... @defer { name } fields { ... @defer(label: "f") { name } } } }`},
		{name: "introspection beside a defer in force", query: `{ product(upc: "1") { name ... @defer { price } } __schema { queryType { ... @defer { name } } } }`, defers: 1, deferred: []string{"price"}},
		{name: "mutation ignores defer", query: `mutation { addReview(productUpc: "1", authorId: "1", body: "b", rating: 1) { id ... @defer { body } } }`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			op := normalizeDefer(t, sg, c.query, c.vars)
			if len(op.Defers) != c.defers {
				t.Fatalf("%d defers, want %d", len(op.Defers), c.defers)
			}
			var got []string
			for _, f := range op.Selection.ByType[0].Fields {
				if f.Selection == nil {
					continue
				}
				for _, sf := range f.Selection.ByType[0].Fields {
					if sf.Defer != nil {
						got = append(got, sf.ResponseKey)
					}
				}
			}
			if strings.Join(got, ",") != strings.Join(c.deferred, ",") {
				t.Fatalf("deferred fields %v, want %v", got, c.deferred)
			}
		})
	}
}

// TestDeferHostile: a document with a thousand @defer fragments keeps
// at most MaxDefers, and plans like the same document without @defer
// (same fetches).
func TestDeferHostile(t *testing.T) {
	sg := deferSupergraph(t)
	var b strings.Builder
	b.WriteString(`{ topProducts { upc `)
	for i := 0; i < 1000; i++ {
		b.WriteString(`... @defer { name inStock } `)
	}
	b.WriteString(`} }`)
	start := time.Now()
	op := normalizeDefer(t, sg, b.String(), nil)
	t.Logf("validate+normalize: %v", time.Since(start))
	if len(op.Defers) != planner.MaxDefers {
		t.Fatalf("%d defers in force, want the cap %d", len(op.Defers), planner.MaxDefers)
	}
	p, err := planner.New(sg).Plan(op, planner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := planner.New(sg).Plan(normalizeDefer(t, sg, `{ topProducts { upc name inStock } }`, nil), planner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Fetches != plain.Fetches {
		t.Fatalf("%d fetches, %d without @defer", p.Fetches, plain.Fetches)
	}
	// The fragments past the cap are delivered with the primary part, so
	// name and inStock are primary: nothing is left to defer.
	if p.Defer == nil || deferredFetches(p.Defer) != 0 {
		t.Fatalf("want a primary part holding every fetch:\n%s", p)
	}
}

// TestDeferSplitKeepsDependencies: every deferred entity fetch reads
// representations the primary fetches wrote; no fetch is in both parts
// and none is lost.
func TestDeferSplitKeepsDependencies(t *testing.T) {
	sg := deferSupergraph(t)
	op := normalizeDefer(t, sg, `{ topProducts { name ... @defer { shippingEstimate reviews { author { name } } } } }`, nil)
	p, err := planner.New(sg).Plan(op, planner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	count := func(n planner.Node) map[*planner.Fetch]bool {
		out := map[*planner.Fetch]bool{}
		planner.EachFetch(n, func(f *planner.Fetch) { out[f] = true })
		return out
	}
	all, prim, def := count(p.Root), count(p.Defer.Primary), map[*planner.Fetch]bool{}
	for _, part := range p.Defer.Parts {
		for f := range count(part.Node) {
			if def[f] {
				t.Fatalf("fetch %d in two deferred parts", f.ID)
			}
			def[f] = true
		}
	}
	if len(prim)+len(def) != len(all) {
		t.Fatalf("%d primary + %d deferred fetches, %d in the plan", len(prim), len(def), len(all))
	}
	for f := range prim {
		if def[f] {
			t.Fatalf("fetch %d in both parts", f.ID)
		}
	}
	if len(prim) != 1 || len(def) != 3 {
		t.Fatalf("%d primary and %d deferred fetches, want 1 and 3:\n%s", len(prim), len(def), p)
	}
}

// deferredFetches counts the fetches of the deferred parts.
func deferredFetches(dp *planner.DeferPlan) int {
	n := 0
	var walk func(planner.Node)
	walk = func(x planner.Node) {
		switch x := x.(type) {
		case *planner.Sequence:
			for _, c := range x.Nodes {
				walk(c)
			}
		case *planner.Parallel:
			for _, c := range x.Nodes {
				walk(c)
			}
		case *planner.Flatten, *planner.Fetch:
			n++
		}
	}
	for _, part := range dp.Parts {
		walk(part.Node)
	}
	return n
}

// TestDeferPartsPlannedApart: the fields of each @defer are fetched by
// fetches of that part (also when the primary fetch's subgraph resolves
// them, and at the root), never by a primary fetch; a part reading from
// another part's fetches depends on it; the one-response plan (Root) is
// the plan without @defer.
func TestDeferPartsPlannedApart(t *testing.T) {
	sg := deferSupergraph(t)
	ops := func(n planner.Node) string {
		var b strings.Builder
		planner.EachFetch(n, func(f *planner.Fetch) { b.WriteString(f.Subgraph + ":" + f.Operation + "\n") })
		return b.String()
	}
	cases := []struct {
		name, query, plain string
		// primaryLacks must not be in the primary fetches; partHas[i] must
		// be in part i's fetches.
		primaryLacks []string
		partHas      []string
		depends      [][]int
	}{
		{name: "same subgraph", query: `{ product(upc: "1") { upc ... @defer { name } } }`, plain: `{ product(upc: "1") { upc name } }`,
			primaryLacks: []string{"name"}, partHas: []string{"products:query($representations"}, depends: [][]int{nil}},
		{name: "root field", query: `{ me { id } ... @defer { topProducts(first: 1) { upc } } }`, plain: `{ me { id } topProducts(first: 1) { upc } }`,
			primaryLacks: []string{"topProducts"}, partHas: []string{"products:query{topProducts(first:1){upc}}"}, depends: [][]int{nil}},
		{name: "two parts, one subgraph", query: `{ product(upc: "1") { upc ... @defer(label: "a") { name } ... @defer(label: "b") { price } } }`,
			plain: `{ product(upc: "1") { upc name price } }`, primaryLacks: []string{"name", "price"},
			partHas: []string{"{name}", "{price}"}, depends: [][]int{nil, nil}},
		{name: "nested reads its parent's fetch", query: `{ product(upc: "1") { name ... @defer { reviews { body ... @defer { author { name } } } } } }`,
			plain: `{ product(upc: "1") { name reviews { body author { name } } } }`, primaryLacks: []string{"reviews"},
			partHas: []string{"reviews{body", "accounts:"}, depends: [][]int{nil, {0}}},
		// User.reviews is delivered with "a" (selected there first); "b"
		// fetches nothing and repeats it in its entry: it waits for "a".
		{name: "echo of a field another part fetches", query: `{ product(upc: "1") { reviews { ... @defer(label: "a") { author { reviews { id } } } author { ... @defer(label: "b") { reviews { id } } } } } }`,
			plain: `{ product(upc: "1") { reviews { author { reviews { id } } } } }`, primaryLacks: []string{"id}"},
			partHas: []string{"User{reviews{id}}", ""}, depends: [][]int{nil, {0}}},
		// reviews is delivered with "a"; "b" renders it to reach its own
		// __typename, which no fetch answers: it waits for "a".
		{name: "field leading to its own fetched by another part", query: `{ product(upc: "1") { ... @defer(label: "a") { reviews { body } } ... @defer(label: "b") { reviews { __typename } } } }`,
			plain: `{ product(upc: "1") { reviews { body __typename } } }`, primaryLacks: []string{"reviews"},
			partHas: []string{"reviews{body", ""}, depends: [][]int{nil, {0}}},
		// Sibling parts delivering fields of their own do not wait for
		// each other.
		{name: "siblings with fields of their own", query: `{ product(upc: "1") { ... @defer(label: "a") { reviews { body } name } ... @defer(label: "b") { name price } } }`,
			plain: `{ product(upc: "1") { reviews { body } name price } }`, primaryLacks: []string{"reviews", "price"},
			partHas: []string{"reviews{body", "price"}, depends: [][]int{nil, nil}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := planner.New(sg).Plan(normalizeDefer(t, sg, c.query, nil), planner.Options{})
			if err != nil {
				t.Fatal(err)
			}
			plain, err := planner.New(sg).Plan(normalizeDefer(t, sg, c.plain, nil), planner.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if p.Fetches != plain.Fetches {
				t.Errorf("one-response plan has %d fetches, %d without @defer:\n%s", p.Fetches, plain.Fetches, ops(p.Root))
			}
			prim := ops(p.Defer.Primary)
			for _, s := range c.primaryLacks {
				if regexp.MustCompile(`\b` + s + `\b`).MatchString(prim) {
					t.Errorf("the primary fetches select %s:\n%s", s, prim)
				}
			}
			if len(p.Defer.Parts) != len(c.partHas) {
				t.Fatalf("%d parts, want %d:\n%s", len(p.Defer.Parts), len(c.partHas), p)
			}
			for i, part := range p.Defer.Parts {
				if got := ops(part.Node); !strings.Contains(got, c.partHas[i]) {
					t.Errorf("part %d fetches lack %q:\n%s", i, c.partHas[i], got)
				}
				if fmt.Sprint(part.Depends) != fmt.Sprint(c.depends[i]) {
					t.Errorf("part %d depends on %v, want %v", i, part.Depends, c.depends[i])
				}
			}
		})
	}
}

// TestDeferNothingNewDelivered: every @defer fragment in force has a view
// at its path for each type it applies to, also when every field it
// selects was sent before (with the primary or its parent), is a key, or
// was skipped: the fragment's labelled entry is what a client waits for.
// A fragment that delivers something new keeps delivering only that.
func TestDeferNothingNewDelivered(t *testing.T) {
	sg := deferSupergraph(t)
	cases := []struct {
		name, query string
		// views maps a label to the fields its entries render, per type
		// it applies to.
		views map[string]string
	}{
		{name: "all sent, nested", query: `{ topProducts { upc ... @defer(label: "a") { upc ... @defer(label: "b") { name } } } }`,
			views: map[string]string{"a": "Product{upc}", "b": "Product{name}"}},
		{name: "all skipped", query: `{ topProducts { upc ... @defer(label: "e") { name @skip(if: true) } } }`,
			views: map[string]string{"e": "Product{}"}},
		{name: "keys only", query: `{ topProducts { name ... @defer(label: "k") { upc } } }`,
			views: map[string]string{"k": "Product{upc}"}},
		{name: "type condition matches some items", query: `{ items { name ... on Product @defer(label: "p") { name } ... on Bundle @defer(label: "b") { name @skip(if: true) } } }`,
			views: map[string]string{"p": "Product{name}", "b": "Bundle{}"}},
		{name: "sub-selection sent", query: `{ product(upc: "1") { reviews { body } ... @defer(label: "r") { reviews { body } } } }`,
			views: map[string]string{"r": "Product{reviews{body}}"}},
		{name: "something new keeps the rest deduplicated", query: `{ topProducts { upc ... @defer(label: "m") { upc name } } }`,
			views: map[string]string{"m": "Product{name}"}},
		{name: "ignored inside introspection", query: `{ __type(name: "Product") { ... @defer(label: "i") { name } } }`,
			views: map[string]string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := planner.New(sg).Plan(normalizeDefer(t, sg, c.query, nil), planner.Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			if p.Defer != nil {
				for _, d := range p.Defer.Defers {
					var b strings.Builder
					for _, sel := range shapeAt(p.Shape.Root, d.Path) {
						v := p.Defer.View(d, sel)
						if v == nil {
							b.WriteString("nil")
							continue
						}
						for _, tf := range v.ByType {
							if !v.Abstract || d.AppliesTo(tf.Type) {
								b.WriteString(tf.Type)
								writeFields(&b, tf.Fields)
							}
						}
					}
					got[d.Label] = b.String()
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(c.views) {
				t.Errorf("views %v, want %v", got, c.views)
			}
		})
	}
}

// shapeAt returns the selections of the shape at path.
func shapeAt(sel *planner.ShapeSet, path []planner.PathKey) []*planner.ShapeSet {
	if len(path) == 0 {
		return []*planner.ShapeSet{sel}
	}
	var out []*planner.ShapeSet
	for _, tf := range sel.ByType {
		for _, f := range tf.Fields {
			if f.ResponseKey == path[0].ResponseKey && f.Selection != nil {
				out = append(out, shapeAt(f.Selection, path[1:])...)
			}
		}
	}
	return out
}

// writeFields prints fields as {a,b{c}}.
func writeFields(b *strings.Builder, fields []planner.ShapeField) {
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(f.ResponseKey)
		if f.Selection != nil {
			for _, tf := range f.Selection.ByType {
				writeFields(b, tf.Fields)
			}
		}
	}
	b.WriteByte('}')
}

// TestDeferVia: a Defer's path is followed only on the object types its
// fragment is reached through: a response key naming another field on
// another type of an abstract position leads elsewhere.
func TestDeferVia(t *testing.T) {
	sg := deferSupergraph(t)
	for _, c := range []struct {
		name, query string
		// via lists, per path step, the types that lead to the fragment;
		// not, types that do not.
		via, not [][]string
	}{{
		name: "alias_on_two_types",
		query: `{ items { ... on Bundle { a1: products { ... @defer(label: "d") { name } } }
		  ... on Product { a1: reviews { body } } } }`,
		via: [][]string{{"Query"}, {"Bundle"}},
		not: [][]string{{"Product", "Bundle"}, {"Product", "Review"}},
	}, {
		name:  "abstract_position",
		query: `{ items { upc ... @defer(label: "d") { name } } }`,
		via:   [][]string{{"Query"}},
		not:   [][]string{{"Product", "Bundle"}},
	}, {
		name:  "nested_lists",
		query: `{ topProducts { reviews { author { ... @defer(label: "d") { name } } } } }`,
		via:   [][]string{{"Query"}, {"Product"}, {"Review"}},
		not:   [][]string{{"Product"}, {"Review"}, {"Product", "User"}},
	}} {
		t.Run(c.name, func(t *testing.T) {
			op := normalizeDefer(t, sg, c.query, nil)
			var d *planner.Defer
			for _, o := range op.Defers {
				if o.Label == "d" {
					d = o
				}
			}
			if d == nil || len(d.Path) != len(c.via) {
				t.Fatalf("defer %+v, want one labelled d with a path of %d steps", d, len(c.via))
			}
			for i := range c.via {
				for _, typ := range c.via[i] {
					if !d.Via(i, typ) {
						t.Errorf("step %d (%s) does not lead to the fragment from %s", i, d.Path[i].ResponseKey, typ)
					}
				}
				for _, typ := range c.not[i] {
					if d.Via(i, typ) {
						t.Errorf("step %d (%s) leads to the fragment from %s", i, d.Path[i].ResponseKey, typ)
					}
				}
			}
			if d.Via(len(d.Path), "Query") {
				t.Errorf("a step past the path leads somewhere")
			}
		})
	}
}
