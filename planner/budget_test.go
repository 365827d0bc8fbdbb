package planner_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/planner"
	"github.com/vektah/gqlparser/v2"
)

// TestPlanningBudget: an operation that needs more planning work than the
// budget fails fast with an over-budget planning error, and the same
// operation plans with the default budget.
func TestPlanningBudget(t *testing.T) {
	sg, err := demoSupergraph()
	if err != nil {
		t.Fatal(err)
	}
	p := planner.New(sg)
	// 40 aliases of a 6-jump chain.
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < 40; i++ {
		b.WriteString(" a" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ": topProducts { " + strings.Repeat("reviews { product { ", 6) + "inStock shippingEstimate" + strings.Repeat(" } }", 6) + " }")
	}
	b.WriteString(" }")
	doc, errs := gqlparser.LoadQuery(sg.API, b.String())
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	op, err := planner.Normalize(sg.API, doc, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		budget int
		fail   bool
	}{{50, true}, {1000, true}, {0, false}} {
		start := time.Now()
		_, err := p.Plan(op, planner.Options{Budget: c.budget})
		var pe *planner.Error
		switch {
		case c.fail && (!errors.As(err, &pe) || !pe.OverBudget):
			t.Errorf("budget %d: want an over-budget error, got %v", c.budget, err)
		case !c.fail && err != nil:
			t.Errorf("budget %d: %v", c.budget, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("budget %d: planning took %v", c.budget, d)
		}
	}
}
