package difftest

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/internal/opgen"
	"github.com/fedgate/gateway/schema"
)

func demoAPI(t *testing.T) *ast.Schema {
	sg, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	return sg.API
}

// TestShrinkKeepsTheDifference minimizes an operation to the one field the
// "difference" depends on, keeping it valid: the other operation, unused
// fragments and variables go.
func TestShrinkKeepsTheDifference(t *testing.T) {
	api := demoAPI(t)
	op := opgen.Operation{
		Query: `query A($b: Boolean!, $u: String!) { me { id name @include(if: $b) reviews { body } } ...F product(upc: $u) { name } }
query B { users { id } }
fragment F on Query { topProducts { upc inStock } }`,
		OperationName: "A",
		Variables:     map[string]any{"b": true, "u": "1"},
	}
	if err := opgen.Validate(api, op); err != nil {
		t.Fatal(err)
	}
	calls := 0
	still := func(o opgen.Operation) bool {
		calls++
		if err := opgen.Validate(api, o); err != nil {
			t.Fatalf("shrinker tried an invalid operation: %v\n%s", err, o.Query)
		}
		return strings.Contains(o.Query, "inStock")
	}
	got := Shrink(api, op, still, 200)
	if calls > 200 {
		t.Fatalf("%d calls over the budget", calls)
	}
	for _, gone := range []string{"query B", "reviews", "product(", "$b", "$u", "name"} {
		if strings.Contains(got.Query, gone) {
			t.Errorf("minimized operation still has %q:\n%s", gone, got.Query)
		}
	}
	if !strings.Contains(got.Query, "inStock") || len(got.Variables) != 0 {
		t.Errorf("minimized operation lost the difference or kept variables %v:\n%s", got.Variables, got.Query)
	}
}

func TestShrinkRespectsBudget(t *testing.T) {
	api := demoAPI(t)
	op := opgen.Operation{Query: `{ me { id name reviews { body id } } users { id name } }`}
	calls := 0
	Shrink(api, op, func(opgen.Operation) bool { calls++; return false }, 5)
	if calls > 5 {
		t.Fatalf("%d calls, budget 5", calls)
	}
}
