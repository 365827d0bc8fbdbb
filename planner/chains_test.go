package planner_test

import (
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/vektah/gqlparser/v2"
)

// TestDeepEntityChains plans entity chains of growing length on the demo
// graph. Reachability must not depend on how deep a field sits: every
// length plans, and the number of fetches grows linearly with it.
func TestDeepEntityChains(t *testing.T) {
	sg, err := demoSupergraph()
	if err != nil {
		t.Fatal(err)
	}
	p := planner.New(sg)
	leaves := []string{"inStock", "name", "shippingEstimate", "inStock name reviews { author { name } }"}
	for _, leaf := range leaves {
		for n := 1; n <= 8; n++ {
			q := "{ topProducts { " + strings.Repeat("reviews { product { ", n) + leaf + strings.Repeat(" } }", n) + " } }"
			doc, errs := gqlparser.LoadQuery(sg.API, q)
			if len(errs) > 0 {
				t.Fatalf("%s: %v", q, errs)
			}
			op, err := planner.Normalize(sg.API, doc, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := p.Plan(op, planner.Options{})
			if err != nil {
				t.Errorf("chain %d to %q: %v", n, leaf, err)
				continue
			}
			if plan.Fetches > 4+2*n {
				t.Errorf("chain %d to %q: %d fetches\n%s", n, leaf, plan.Fetches, plan)
			}
		}
	}
	for _, q := range []string{
		`{ me { reviews { product { reviews { author { reviews { product { inStock name } } } } } } } }`,
		`{ latestReviews { author { reviews { product { reviews { author { username reviews { product { shippingEstimate } } } } } } } } }`,
	} {
		doc, errs := gqlparser.LoadQuery(sg.API, q)
		if len(errs) > 0 {
			t.Fatalf("%s: %v", q, errs)
		}
		op, err := planner.Normalize(sg.API, doc, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Plan(op, planner.Options{}); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
}
