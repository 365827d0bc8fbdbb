package planner_test

import (
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2"
)

// planOn validates query against sg's API schema, normalizes it and plans
// it with opts. A query that does not validate or normalize fails the
// test; the planner's own error is returned for the caller to judge.
func planOn(t *testing.T, sg *schema.Supergraph, query string, opts planner.Options) (*planner.Plan, error) {
	t.Helper()
	doc, errs := gqlparser.LoadQuery(sg.API, query)
	if len(errs) > 0 {
		t.Fatalf("validate: %v", errs)
	}
	op, err := planner.Normalize(sg.API, doc, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return planner.New(sg).Plan(op, opts)
}
