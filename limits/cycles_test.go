package limits

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	gateway "github.com/fedgate/gateway"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/validator"
)

// demoChain is the demo's recursive chain, topProducts { reviews { author
// { reviews { product { reviews ..., levels fields deep (topProducts
// included), each selecting its key beside the next.
func demoChain(levels int) string {
	names := []string{"reviews", "author", "reviews", "product"}
	key := func(field string) string {
		if field == "product" {
			return "upc"
		}
		return "id"
	}
	inner := ""
	for i := levels - 2; i >= 0; i-- {
		inner = " " + names[i%4] + " { " + key(names[i%4]) + inner + " }"
	}
	return "topProducts { upc" + inner + " }"
}

func normalizeDemo(t *testing.T, query string) *planner.Operation {
	t.Helper()
	sg, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	doc, gerr := gqlparser.LoadQuery(sg.API, query)
	if gerr != nil {
		t.Fatalf("%v\n%s", gerr, query)
	}
	vars, verr := validator.VariableValues(sg.API, doc.Operations[0], map[string]any{})
	if verr != nil {
		t.Fatal(verr)
	}
	op, nerr := planner.Normalize(sg.API, doc, "", vars)
	if nerr != nil {
		t.Fatal(nerr)
	}
	return op
}

// TestFieldCycles: the most times one field (Type.field) is selected on
// one path; siblings, aliases on other paths and leaves do not add up.
func TestFieldCycles(t *testing.T) {
	for _, tc := range []struct {
		name, query string
		want        int
		coord       string
	}{
		{"flat", "{ topProducts { upc name } me { id } }", 1, "Query.topProducts"},
		{"one cycle", "{ topProducts { reviews { author { reviews { id } } } } }", 1, "Query.topProducts"},
		{"reviews twice below a product", "{ topProducts { reviews { product { reviews { id } } } } }", 2, "Product.reviews"},
		{"aliases side by side", "{ topProducts { a: reviews { id } b: reviews { id } c: reviews { id } } }", 1, "Query.topProducts"},
		{"the chain, 13 levels", "{ " + demoChain(13) + " }", 3, "Product.reviews"},
		{"the chain, 14 levels", "{ " + demoChain(14) + " }", 4, "Product.reviews"},
		{"the chain, 23 levels", "{ " + demoChain(23) + " }", 6, "Product.reviews"},
		{"through a fragment", "{ topProducts { ...R } } fragment R on Product { reviews { product { reviews { product { reviews { id } } } } } }", 3, "Product.reviews"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, coord := FieldCycles(normalizeDemo(t, tc.query))
			if n != tc.want || (tc.coord != "" && coord != tc.coord && n > 1) {
				t.Errorf("%d times (%s), want %d (%s)", n, coord, tc.want, tc.coord)
			}
		})
	}
}

// TestAdmitRefusesFieldCycles: the policy refuses an operation past
// MaxFieldCycles before its cost is estimated, whatever the cost mode
// (the default, measure, enforces nothing), with MAX_FIELD_CYCLES_EXCEEDED
// and 400; 0 (the default) allows it.
func TestAdmitRefusesFieldCycles(t *testing.T) {
	sg, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	model := NewCostModel(sg.Full)
	for _, tc := range []struct {
		name   string
		max    int
		levels int
		code   string
	}{
		{"3, 13 levels", SuggestedMaxFieldCycles, 13, ""},
		{"3, 14 levels", SuggestedMaxFieldCycles, 14, "MAX_FIELD_CYCLES_EXCEEDED"},
		{"3, 23 levels", SuggestedMaxFieldCycles, 23, "MAX_FIELD_CYCLES_EXCEEDED"},
		{"off", 0, 23, ""},
		{"the default configuration", -1, 23, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tc.max >= 0 {
				cfg.MaxFieldCycles = tc.max
			}
			p := NewPolicy(cfg, PolicyOptions{})
			op := normalizeDemo(t, "{ "+demoChain(tc.levels)+" }")
			var memo EstimateMemo
			for range 2 { // the memo remembers only a pass
				_, err := p.Admit(context.Background(), httptest.NewRequest("POST", "/graphql", nil), model, op, nil, &memo)
				var e *Error
				switch {
				case tc.code == "" && err != nil:
					t.Fatalf("refused: %v", err)
				case tc.code != "" && (!errors.As(err, &e) || e.Code != tc.code || e.Status != 400 || !strings.Contains(e.Message, "Product.reviews")):
					t.Fatalf("got %v, want %s (400) naming Product.reviews", err, tc.code)
				}
			}
		})
	}
}
