package planner_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
)

// TestPlanKeys: every key the executor looks up by a plan's strings (the
// shape's data keys, Flatten paths, the keys representations are read
// from, output rewrites) is the plan's set's string of its text, so that
// answers parsed against the set find them by pointer; with @defer, the
// primary shape, the parts and the views too.
func TestPlanKeys(t *testing.T) {
	demo, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	sdl, err := os.ReadFile(filepath.Join("..", "testdata", "bench", "supergraph.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	harness, err := schema.Load(string(sdl))
	if err != nil {
		t.Fatal(err)
	}
	harnessQuery, err := os.ReadFile(filepath.Join("..", "testdata", "bench", "query.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		sg    *schema.Supergraph
		query string
	}{
		{"harness", harness, string(harnessQuery)},
		{"aliases", demo, `{ a: me { n: name reviews { b: body product { u: upc name } } } top: topProducts { upc name } }`},
		{"defer", demo, `{ me { id ... @defer(label: "r") { reviews { body product { name price } } } } }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := planOn(t, tc.sg, tc.query, planner.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if plan.Keys.Len() == 0 {
				t.Fatal("the plan has no keys")
			}
			c := keyChecker{t: t, keys: plan.Keys}
			c.check("__typename")
			c.set(plan.Shape.Root)
			c.node(plan.Root)
			if d := plan.Defer; d != nil {
				c.set(d.PrimaryShape.Root)
				c.node(d.Primary)
				for i, part := range d.Parts {
					c.node(part.Node)
					c.set(d.View(d.Defers[i], plan.Shape.Root))
				}
			}
			if c.n < 5 {
				t.Fatalf("only %d keys checked", c.n)
			}
		})
	}
}

type keyChecker struct {
	t    *testing.T
	keys interface{ Intern(string) string }
	n    int
}

// check fails unless s is the set's string of its text.
func (c *keyChecker) check(s string) {
	c.t.Helper()
	c.n++
	in := c.keys.Intern(strings.Clone(s))
	if in != s || unsafe.StringData(in) != unsafe.StringData(s) {
		c.t.Errorf("key %q is not the plan's set's string", s)
	}
}

func (c *keyChecker) set(s *planner.ShapeSet) {
	if s == nil {
		return
	}
	for _, bt := range s.ByType {
		for _, f := range bt.Fields {
			if f.Kind == planner.FromData {
				c.check(f.DataKey)
			}
			c.set(f.Selection)
		}
	}
}

func (c *keyChecker) node(n planner.Node) {
	switch n := n.(type) {
	case *planner.Sequence:
		for _, x := range n.Nodes {
			c.node(x)
		}
	case *planner.Parallel:
		for _, x := range n.Nodes {
			c.node(x)
		}
	case *planner.Flatten:
		for _, p := range append([][]string{n.Path}, n.Paths...) {
			for _, s := range p {
				if s != "@" {
					c.check(s)
				}
			}
		}
		c.fetch(n.Node)
	case *planner.Fetch:
		c.fetch(n)
	}
}

func (c *keyChecker) fetch(f *planner.Fetch) {
	for _, r := range f.Requires {
		c.required(r.Fields)
	}
	for _, rw := range f.OutputRewrites {
		c.check(rw.From)
		c.check(rw.To)
	}
}

func (c *keyChecker) required(fields []*planner.RequiredField) {
	for _, rf := range fields {
		c.check(rf.Key)
		c.required(rf.Fields)
	}
}
