package planner

import (
	"strings"
	"testing"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2"
)

// Routing's scope is a value passed down (routeCtx, costScope): these
// tests call the routing and cost steps directly with a chosen scope.

func TestAvoidSet(t *testing.T) {
	var none *avoidSet
	a := none.with("b").with("a")
	b := a.with("c")
	for _, c := range []struct {
		set       *avoidSet
		key       string
		has, lack []string
	}{
		{none, "", nil, []string{"a"}},
		{a, "a,b", []string{"a", "b"}, []string{"c"}},
		{b, "a,b,c", []string{"a", "b", "c"}, []string{"d"}},
		{a.with("a"), "a,b", []string{"a", "b"}, []string{"c"}},
	} {
		if c.set.key() != c.key {
			t.Errorf("key %q, want %q", c.set.key(), c.key)
		}
		for _, g := range c.has {
			if !c.set.has(g) {
				t.Errorf("%q lacks %s", c.key, g)
			}
		}
		for _, g := range c.lack {
			if c.set.has(g) {
				t.Errorf("%q has %s", c.key, g)
			}
		}
	}
	if a.with("a") != a {
		t.Error("adding a member made a new set")
	}
}

func TestKeyGuard(t *testing.T) {
	var none *keyGuard
	g := &keyGuard{source: "s1", typ: "T", next: none}
	h := &keyGuard{source: "s2", typ: "U", next: g}
	for _, c := range []struct {
		guard       *keyGuard
		source, typ string
		want        bool
	}{
		{none, "s1", "T", false},
		{g, "s1", "T", true},
		{g, "s2", "U", false},
		{h, "s1", "T", true},
		{h, "s2", "U", true},
		{h, "s1", "U", false},
		{h, "s2", "T", false},
	} {
		if got := c.guard.has(c.source, c.typ); got != c.want {
			t.Errorf("has(%s, %s) = %v, want %v", c.source, c.typ, got, c.want)
		}
	}
}

// routeFixture is a builder for { topProducts { inStock } } on the demo
// graph with a root fetch to products that selects topProducts: the
// state routing is in when it must jump to inventory for inStock.
type routeFixture struct {
	b                   *builder
	root                *group
	ts                  *typeSel
	inStock             *Field
	products, inventory string
	path                []string
}

func newRouteFixture(t *testing.T) *routeFixture {
	t.Helper()
	sg, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	doc, errs := gqlparser.LoadQuery(sg.API, `{ topProducts { inStock } }`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	op, err := Normalize(sg.API, doc, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	fx := &routeFixture{b: New(sg).newBuilder(op, Options{}), path: []string{"topProducts", "@"}}
	for _, g := range sg.Graphs {
		switch g.Name {
		case "products":
			fx.products = g.ID
		case "inventory":
			fx.inventory = g.ID
		}
	}
	fx.root = fx.b.newGroup(fx.products, false, nil, nil, nil)
	fx.root.sel.typ = "Query"
	tp := fx.root.sel.forType("Query").add("topProducts", "topProducts", nil, func() *subSel { return &subSel{} })
	fx.ts = tp.sub.forType("Product")
	fx.inStock = op.Selection.ByType[0].Fields[0].Selection.ByType[0].Fields[0]
	return fx
}

// TestJumpDepthIsTheCallersScope: the jump bound counts the jumps of the
// context passed in, not of the calls made before.
func TestJumpDepthIsTheCallersScope(t *testing.T) {
	for _, c := range []struct {
		depth   int
		wantErr bool
	}{{0, false}, {63, false}, {64, true}} {
		fx := newRouteFixture(t)
		fx.b.jump(routeCtx{depth: c.depth}, fx.root, fx.ts, "Product", fx.inStock, fx.path, nil)
		if got := fx.b.err != nil; got != c.wantErr {
			t.Errorf("depth %d: error %v, want error %v", c.depth, fx.b.err, c.wantErr)
		}
		if c.wantErr {
			if !strings.Contains(fx.b.err.Message, "nests too deeply") {
				t.Errorf("depth %d: %s", c.depth, fx.b.err.Message)
			}
			continue
		}
		if len(fx.b.groups) != 2 || fx.b.groups[1].graph != fx.inventory || !fx.b.groups[1].entity {
			t.Errorf("depth %d: groups %d, want the root and an entity fetch to inventory", c.depth, len(fx.b.groups))
		}
	}
}

// TestRepresentingIsNotReused: an entity fetch whose representation is
// being planned (in the context) is not joined by the fields that build
// it; outside that context it is.
func TestRepresentingIsNotReused(t *testing.T) {
	fx := newRouteFixture(t)
	var rc routeCtx
	eg := fx.b.entityGroup(rc, fx.inventory, fx.path, fx.root, "Product", fx.ts, nil)
	if again := fx.b.entityGroup(rc, fx.inventory, fx.path, fx.root, "Product", fx.ts, nil); again != eg {
		t.Fatal("the same entity fetch was not reused")
	}
	inner := rc
	inner.representing = &groupList{g: eg, next: rc.representing}
	if other := fx.b.entityGroup(inner, fx.inventory, fx.path, fx.root, "Product", fx.ts, nil); other == eg {
		t.Error("a fetch being represented was reused inside its own representation")
	}
	if again := fx.b.entityGroup(rc, fx.inventory, fx.path, fx.root, "Product", fx.ts, nil); again != eg {
		t.Error("the outer context saw the inner one's scope")
	}
}

// TestOpenEntityFetchCollectsIntoTheContext: the entity fetches opened
// while a representation is planned go to that context's collector, and
// the key's fields make the representation.
func TestOpenEntityFetchCollectsIntoTheContext(t *testing.T) {
	fx := newRouteFixture(t)
	var touched []*group
	rc := routeCtx{touched: &touched}
	key := fx.b.chooseKey(rc.cost, "Product", fx.inventory, fx.products, nil)
	if key == nil {
		t.Fatal("no key of Product in inventory")
	}
	eg := fx.b.openEntityFetch(rc, fx.root, fx.ts, fx.inventory, "Product", "Product", key, fx.path, nil, nil)
	if len(touched) != 1 || touched[0] != eg {
		t.Errorf("collected %d fetches, want the entity fetch", len(touched))
	}
	if len(eg.reqs["Product"]) == 0 || eg.parentSel["Product"] != fx.ts {
		t.Errorf("representation %+v", eg.reqs)
	}
}

// TestAvoidedSubgraphsAreNoTarget: the cost scope's avoided subgraphs are
// never a target, and its estimates are memoized apart from the
// unrestricted ones.
func TestAvoidedSubgraphsAreNoTarget(t *testing.T) {
	fx := newRouteFixture(t)
	var open costScope
	avoiding := costScope{avoid: open.avoid.with(fx.inventory)}
	if got := fx.b.leaveTargets(open, fx.products, "Product", fx.inStock, nil); len(got) != 1 || got[0] != fx.inventory {
		t.Errorf("targets %v, want inventory", got)
	}
	if got := fx.b.leaveTargets(avoiding, fx.products, "Product", fx.inStock, nil); len(got) != 0 {
		t.Errorf("targets %v while avoiding inventory", got)
	}
	one := []*Field{fx.inStock}
	if c := fx.b.costFields(open, fx.products, "Product", one, nil, 0); c >= inf {
		t.Errorf("cost %d from products with inventory reachable", c)
	}
	if c := fx.b.costFields(avoiding, fx.products, "Product", one, nil, 0); c < inf {
		t.Errorf("cost %d from products while avoiding inventory", c)
	}
	if c := fx.b.costFields(open, fx.products, "Product", one, nil, 0); c >= inf {
		t.Errorf("cost %d after the avoiding estimate: the scopes share a memo entry", c)
	}
}
