package schema_test

import (
	"reflect"
	"testing"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/schema"
)

func TestQueryGraphDemo(t *testing.T) {
	sg, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	q := sg.QueryGraph()
	if sg.QueryGraph() != q {
		t.Fatal("QueryGraph is built more than once")
	}
	inv := q.Node("Product", "INVENTORY")
	if inv == nil {
		t.Fatal("no Product node in inventory")
	}
	if e := inv.Fields["price"]; e != nil {
		t.Errorf("inventory's @external price is an edge: %+v", e)
	}
	if e := inv.Fields["shippingEstimate"]; e == nil || len(e.Requires) == 0 {
		t.Errorf("shippingEstimate edge %+v, want one with @requires", e)
	}
	local := func(typ, from, to string) (bool, bool) {
		n := q.Node(typ, from)
		jump, local := false, false
		for _, j := range n.Jumps {
			if j.To.Graph == to {
				jump = true
				local = local || j.Local
			}
		}
		return jump, local
	}
	cases := []struct {
		typ, from, to string
		jump, local   bool
	}{
		{"Product", "REVIEWS", "PRODUCTS", true, true},   // key upc, reviews has upc
		{"Product", "REVIEWS", "INVENTORY", true, false}, // key upc sku, reviews lacks sku
		{"Product", "PRODUCTS", "INVENTORY", true, true},
		{"User", "ACCOUNTS", "PRODUCTS", false, false}, // products' key is resolvable: false
	}
	for _, c := range cases {
		jump, l := local(c.typ, c.from, c.to)
		if jump != c.jump || (jump && l != c.local) {
			t.Errorf("%s %s -> %s: jump %v local %v, want %v %v", c.typ, c.from, c.to, jump, l, c.jump, c.local)
		}
	}
	if got, want := q.ReachableByKeys("Product", "REVIEWS"), []string{"REVIEWS", "INVENTORY", "PRODUCTS"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Product from reviews reaches %v, want %v", got, want)
	}
}
